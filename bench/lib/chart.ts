// Hand-written SVG charts: panels of horizontal bars (log or linear axis, optionally stacked
// segments) and x/y line charts (linear or log-log).
import { int, ms, us } from './report.js';

export const BLUE = '#1565c0';
export const RED = '#c62828';
export const GREY = '#757575';

export interface Bar {
  label: string;
  value: number;
  color: string;
  /** Stacked parts (their sum is `value`), coloured by key. */
  segments?: { key: string; value: number }[];
  /** A lower bound (we stopped waiting): drawn hollow and dashed, with a "≥". */
  open?: boolean;
  /** The label right of the bar; the formatted value by default. */
  text?: string;
}

export interface Panel {
  title: string;
  unit: 'count' | 'ms' | 'us';
  /** Default log10; linear for small counts or stacked bars (a log axis cannot show 0). */
  scale?: 'log' | 'linear';
  bars: Bar[];
}

const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif"';
const PALETTE = ['#1565c0', '#42a5f5', '#2e7d32', '#9ccc65', '#f9a825', '#ef6c00', '#6a1b9a', '#ad1457', '#00838f', '#8d6e63', '#5c6bc0', '#c0ca33'];
const esc = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
const format = (v: number, unit: Panel['unit']) => (v === 0 ? '0' : unit === 'ms' ? ms(v) : unit === 'us' ? us(v) : int(v));

function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

function svg(W: number, H: number, title: string, note: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ${FONT} font-size="12" fill="#212121">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="16" y="24" font-size="15" font-weight="700">${esc(title)}</text>`,
    `<text x="16" y="42" font-size="11" fill="#757575">${esc(note)}</text>`,
    ...body,
    '</svg>\n',
  ].join('\n');
}

/** Panels stacked vertically; within a panel, bars on one axis. */
export function barChart(title: string, note: string, panels: Panel[]): string {
  const W = 860;
  const labelW = 250;
  const plotW = W - labelW - 150;
  const barH = 22;
  const body: string[] = [];
  const keys = [...new Set(panels.flatMap((p) => p.bars.flatMap((b) => (b.segments ?? []).map((s) => s.key))))];
  const colorOf = (key: string) => PALETTE[keys.indexOf(key) % PALETTE.length]!;
  let y = 66;
  for (const panel of panels) {
    body.push(`<text x="16" y="${y}" font-weight="600">${esc(panel.title)}</text>`);
    const top = (y += 12);
    const height = panel.bars.length * (barH + 8);
    const max = Math.max(...panel.bars.map((b) => b.value), 1);
    let x: (v: number) => number;
    let ticks: number[];
    if (panel.scale === 'linear') {
      const step = Math.max(panel.unit === 'count' ? 1 : 0, niceStep(max / 5));
      const axis = Math.ceil(max / step) * step;
      x = (v) => labelW + (Math.max(0, v) / axis) * plotW;
      ticks = Array.from({ length: Math.round(axis / step) + 1 }, (_, i) => i * step);
    } else {
      const values = panel.bars.map((b) => Math.max(b.value, 1));
      const lo = panel.unit === 'count' ? 0 : Math.floor(Math.log10(Math.min(...values)));
      const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...values)) - 1e-9));
      x = (v) => labelW + ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * plotW;
      ticks = Array.from({ length: hi - lo + 1 }, (_, i) => 10 ** (lo + i));
    }
    for (const t of ticks) {
      body.push(`<line x1="${x(t).toFixed(1)}" y1="${top}" x2="${x(t).toFixed(1)}" y2="${top + height}" stroke="#e0e0e0"/>`);
      body.push(`<text x="${x(t).toFixed(1)}" y="${top + height + 13}" text-anchor="middle" font-size="10" fill="#757575">${esc(format(t, panel.unit))}</text>`);
    }
    for (const bar of panel.bars) {
      const w = Math.max(2, x(bar.value) - labelW);
      body.push(`<text x="${labelW - 8}" y="${y + barH / 2 + 4}" text-anchor="end">${esc(bar.label)}</text>`);
      if (bar.segments) {
        let at = 0;
        for (const s of bar.segments.filter((s) => s.value > 0)) {
          body.push(`<rect x="${x(at).toFixed(1)}" y="${y}" width="${(x(at + s.value) - x(at)).toFixed(1)}" height="${barH}" fill="${colorOf(s.key)}" stroke="#ffffff" stroke-width="0.5"><title>${esc(`${s.key}: ${s.value.toFixed(2)}`)}</title></rect>`);
          at += s.value;
        }
      } else {
        const hollow = bar.open ? ` fill-opacity="0.15" stroke="${bar.color}" stroke-dasharray="5 3"` : '';
        body.push(`<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${bar.color}"${hollow}/>`);
      }
      const text = bar.text ?? `${bar.open ? '≥ ' : ''}${format(bar.value, panel.unit)}`;
      body.push(`<text x="${(labelW + w + 6).toFixed(1)}" y="${y + barH / 2 + 4}" font-weight="600" fill="${bar.color}">${esc(text)}</text>`);
      y += barH + 8;
    }
    y += 40;
  }
  keys.forEach((key, i) => {
    const lx = 20 + (i % 3) * 280;
    const ly = y + Math.floor(i / 3) * 18;
    body.push(`<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${colorOf(key)}"/><text x="${lx + 18}" y="${ly}">${esc(key)}</text>`);
  });
  return svg(W, y + Math.ceil(keys.length / 3) * 18, title, note, body);
}

export interface LineSeries {
  name: string;
  color: string;
  points: { x: number; y: number; label?: string }[];
  dashed?: boolean;
}

/** An x/y line chart: linear axes from 0, or log-log (`log`) with decade ticks; `yFormat` labels the y ticks. */
export function lineChart(c: { title: string; note: string; xLabel: string; yLabel: string; series: LineSeries[]; yMax?: number; log?: boolean; yFormat?: (v: number) => string }): string {
  const W = 780;
  const H = 440;
  const m = { left: 78, right: 30, top: 60, bottom: 56 };
  const all = c.series.flatMap((s) => s.points);
  const lg = (v: number) => (c.log ? Math.log10(v) : v);
  const xMax = c.log ? Math.ceil(Math.log10(Math.max(10, ...all.map((p) => p.x)))) : Math.max(...all.map((p) => p.x));
  let yMin = 0;
  let yMax: number;
  let yTicks: number[];
  let xTicks: number[];
  if (c.log) {
    yMin = Math.floor(Math.log10(Math.min(...all.map((p) => p.y)))) - 1;
    yMax = Math.ceil(Math.log10(Math.max(...all.map((p) => p.y))));
    yTicks = Array.from({ length: yMax - yMin + 1 }, (_, i) => 10 ** (yMin + i));
    xTicks = Array.from({ length: xMax + 1 }, (_, i) => 10 ** i);
  } else {
    const raw = c.yMax ?? Math.max(...all.map((p) => p.y)) * 1.15;
    const step = niceStep(raw / 5);
    yMax = Math.ceil(raw / step) * step;
    yTicks = Array.from({ length: Math.round(yMax / step) + 1 }, (_, i) => i * step);
    const xStep = niceStep(xMax / 5);
    xTicks = Array.from({ length: Math.floor(xMax / xStep) + 1 }, (_, i) => i * xStep);
  }
  const x = (v: number) => m.left + (lg(v) / xMax) * (W - m.left - m.right);
  const y = (v: number) => H - m.bottom - ((lg(v) - yMin) / (yMax - yMin)) * (H - m.top - m.bottom);
  const body: string[] = [];
  for (const t of yTicks) {
    body.push(`<line x1="${m.left}" y1="${y(t).toFixed(1)}" x2="${W - m.right}" y2="${y(t).toFixed(1)}" stroke="#eeeeee"/>`);
    body.push(`<text x="${m.left - 8}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end" font-size="11" fill="#616161">${esc(c.yFormat ? c.yFormat(t) : String(t))}</text>`);
  }
  for (const t of xTicks) body.push(`<text x="${x(t).toFixed(1)}" y="${H - m.bottom + 18}" text-anchor="middle" font-size="11" fill="#616161">${esc(int(t))}</text>`);
  body.push(`<line x1="${m.left}" y1="${H - m.bottom}" x2="${W - m.right}" y2="${H - m.bottom}" stroke="#9e9e9e"/>`);
  body.push(`<text x="${(m.left + W - m.right) / 2}" y="${H - 14}" text-anchor="middle">${esc(c.xLabel)}</text>`);
  body.push(`<text x="18" y="${(m.top + H - m.bottom) / 2}" text-anchor="middle" transform="rotate(-90 18 ${(m.top + H - m.bottom) / 2})">${esc(c.yLabel)}</text>`);
  let ly = m.top + 12;
  for (const s of c.series) {
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    body.push(`<path d="${s.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.x).toFixed(1)},${y(p.y).toFixed(1)}`).join(' ')}" fill="none" stroke="${s.color}" stroke-width="2.5"${dash}/>`);
    for (const p of s.points) {
      body.push(`<circle cx="${x(p.x).toFixed(1)}" cy="${y(p.y).toFixed(1)}" r="3.5" fill="${s.color}"/>`);
      if (p.label) body.push(`<text x="${x(p.x).toFixed(1)}" y="${(y(p.y) - 9).toFixed(1)}" text-anchor="middle" fill="${s.color}" stroke="#ffffff" stroke-width="3" paint-order="stroke">${esc(p.label)}</text>`);
    }
    body.push(`<line x1="${m.left + 14}" y1="${ly - 4}" x2="${m.left + 40}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2.5"${dash}/><text x="${m.left + 46}" y="${ly}">${esc(s.name)}</text>`);
    ly += 18;
  }
  return svg(W, H, c.title, c.note, body);
}
