// Hand-written SVG charts of the resilience benchmarks: horizontal bars on a log scale, one panel
// per question, and a line chart (heap over streamed users).
import { escapeXml, int, ms } from './resilience-report.js';

export interface Bar {
  readonly label: string;
  readonly value: number;
  readonly series: 'ours' | 'msal' | 'baseline';
  /** A lower bound (we stopped waiting): drawn hollow, dashed, with a "≥". */
  readonly open?: boolean;
  /** The value's label, when the formatted number would round a cited figure. */
  readonly text?: string;
}
export interface Panel {
  readonly title: string;
  readonly unit: 'count' | 'ms';
  /** Default log10; linear for small counts (a log axis cannot show 0). */
  readonly scale?: 'log' | 'linear';
  readonly bars: readonly Bar[];
}

const COLORS = { ours: '#1565c0', msal: '#c62828', baseline: '#c62828' } as const;
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif"';

function formatValue(value: number, unit: Panel['unit']): string {
  if (value === 0) return '0';
  return unit === 'ms' ? ms(value) : int(value);
}

/** Panels stacked vertically; within a panel, bars on one axis (log10 unless the panel says linear). */
export function barChart(chart: { title: string; panels: readonly Panel[] }): string {
  const W = 780;
  const labelW = 230;
  const right = 110;
  const barH = 22;
  const gap = 8;
  const out: string[] = [];
  let y = 66;
  const body: string[] = [];
  for (const panel of chart.panels) {
    body.push(`<text x="16" y="${y}" font-weight="600">${escapeXml(panel.title)}</text>`);
    y += 12;
    const top = y;
    const height = panel.bars.length * (barH + gap);
    const plotW = W - labelW - right;
    let x: (v: number) => number;
    let ticks: number[];
    if (panel.scale === 'linear') {
      const step = Math.max(panel.unit === 'count' ? 1 : 0, niceStep(Math.max(...panel.bars.map((b) => b.value), 1) / 5));
      const max = Math.ceil(Math.max(...panel.bars.map((b) => b.value), step) / step) * step;
      x = (v: number) => labelW + (Math.max(0, v) / max) * plotW;
      ticks = Array.from({ length: Math.round(max / step) + 1 }, (_, i) => i * step);
    } else {
      const values = panel.bars.map((b) => Math.max(b.value, 1));
      const lo = panel.unit === 'ms' ? Math.floor(Math.log10(Math.min(...values))) : 0;
      const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...values)) - 1e-9));
      x = (v: number) => labelW + ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * plotW;
      ticks = Array.from({ length: hi - lo + 1 }, (_, i) => 10 ** (lo + i));
    }
    for (const t of ticks) {
      const gx = x(t).toFixed(1);
      body.push(`<line x1="${gx}" y1="${top}" x2="${gx}" y2="${top + height}" stroke="#e0e0e0"/>`);
      body.push(`<text x="${gx}" y="${top + height + 13}" text-anchor="middle" font-size="10" fill="#757575">${escapeXml(formatValue(t, panel.unit))}</text>`);
    }
    for (const bar of panel.bars) {
      const color = COLORS[bar.series];
      const w = Math.max(2, x(bar.value) - labelW);
      body.push(`<text x="${labelW - 8}" y="${y + barH / 2 + 4}" text-anchor="end">${escapeXml(bar.label)}</text>`);
      if (bar.open) {
        body.push(`<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${color}" fill-opacity="0.15" stroke="${color}" stroke-dasharray="5 3"/>`);
      } else {
        body.push(`<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${color}"/>`);
      }
      const text = bar.text ?? `${bar.open ? '≥ ' : ''}${formatValue(bar.value, panel.unit)}`;
      body.push(`<text x="${(labelW + w + 6).toFixed(1)}" y="${y + barH / 2 + 4}" font-weight="600" fill="${color}">${escapeXml(text)}</text>`);
      y += barH + gap;
    }
    y += 40;
  }
  const H = y - 10;
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ${FONT} font-size="12" fill="#212121">`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="16" y="24" font-size="15" font-weight="700">${escapeXml(chart.title)}</text>`);
  out.push(`<text x="16" y="42" font-size="11" fill="#757575">log scales unless the axis is linear · blue: nestjs-obo · red: the baseline · hollow dashed bar: a lower bound (we stopped waiting)</text>`);
  out.push(...body, '</svg>');
  return `${out.join('\n')}\n`;
}

export interface LineSeries {
  readonly name: string;
  readonly color: string;
  readonly points: readonly { x: number; y: number }[];
  readonly dashed?: boolean;
}

/** A linear x/y line chart (x: users, y: MB). */
export function lineChart(chart: { title: string; xLabel: string; yLabel: string; series: readonly LineSeries[]; yMax?: number; note?: string }): string {
  const W = 780;
  const H = 420;
  const m = { left: 70, right: 30, top: 56, bottom: 56 };
  const all = chart.series.flatMap((s) => s.points);
  const xMax = Math.max(...all.map((p) => p.x));
  const yMaxRaw = chart.yMax ?? Math.max(...all.map((p) => p.y)) * 1.15;
  const yStep = niceStep(yMaxRaw / 5);
  const yMax = Math.ceil(yMaxRaw / yStep) * yStep;
  const xStep = niceStep(xMax / 5);
  const x = (v: number) => m.left + (v / xMax) * (W - m.left - m.right);
  const y = (v: number) => H - m.bottom - (v / yMax) * (H - m.top - m.bottom);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ${FONT} font-size="12" fill="#212121">`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="16" y="24" font-size="15" font-weight="700">${escapeXml(chart.title)}</text>`);
  if (chart.note) out.push(`<text x="16" y="42" font-size="11" fill="#757575">${escapeXml(chart.note)}</text>`);
  for (let v = 0; v <= yMax + 1e-9; v += yStep) {
    out.push(`<line x1="${m.left}" y1="${y(v).toFixed(1)}" x2="${W - m.right}" y2="${y(v).toFixed(1)}" stroke="#eeeeee"/>`);
    out.push(`<text x="${m.left - 8}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" font-size="11" fill="#616161">${v}</text>`);
  }
  for (let v = 0; v <= xMax + 1e-9; v += xStep) {
    out.push(`<text x="${x(v).toFixed(1)}" y="${H - m.bottom + 18}" text-anchor="middle" font-size="11" fill="#616161">${escapeXml(int(v))}</text>`);
  }
  out.push(`<line x1="${m.left}" y1="${H - m.bottom}" x2="${W - m.right}" y2="${H - m.bottom}" stroke="#9e9e9e"/>`);
  out.push(`<text x="${(m.left + W - m.right) / 2}" y="${H - 14}" text-anchor="middle">${escapeXml(chart.xLabel)}</text>`);
  out.push(`<text x="18" y="${(m.top + H - m.bottom) / 2}" text-anchor="middle" transform="rotate(-90 18 ${(m.top + H - m.bottom) / 2})">${escapeXml(chart.yLabel)}</text>`);
  let ly = m.top + 12;
  for (const s of chart.series) {
    const d = s.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.x).toFixed(1)},${y(p.y).toFixed(1)}`).join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    for (const p of s.points) out.push(`<circle cx="${x(p.x).toFixed(1)}" cy="${y(p.y).toFixed(1)}" r="3.5" fill="${s.color}"/>`);
    out.push(`<line x1="${W - m.right - 250}" y1="${ly - 4}" x2="${W - m.right - 224}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    out.push(`<text x="${W - m.right - 218}" y="${ly}">${escapeXml(s.name)}</text>`);
    ly += 18;
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}
