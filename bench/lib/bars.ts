// A hand-written SVG of horizontal (optionally stacked) bars, for the HTTP benches' charts.
import { escapeXml } from './section.js';

export interface Segment {
  readonly value: number;
  /** Legend key; segments with the same key share a colour. */
  readonly key: string;
}

export interface Bar {
  readonly label: string;
  readonly segments: readonly Segment[];
  /** Printed right of the bar. */
  readonly note: string;
}

export interface BarChart {
  readonly title: string;
  readonly subtitle: string;
  readonly axis: string;
  readonly bars: readonly Bar[];
  /** Colour per legend key, in legend order; keys not listed get grey. */
  readonly colors: ReadonlyArray<readonly [string, string]>;
  /** Show the legend (stacked bars). */
  readonly legend: boolean;
}

function niceStep(max: number): number {
  const raw = max / 5;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const m = raw / pow;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * pow;
}

export function renderBars(chart: BarChart): string {
  const W = 860;
  const left = 250;
  const right = 190;
  const top = 64;
  const barH = 26;
  const gap = 14;
  const legendRows = chart.legend ? Math.ceil(chart.colors.length / 3) : 0;
  const plotH = chart.bars.length * (barH + gap) + gap;
  const H = top + plotH + 46 + legendRows * 18 + (legendRows ? 14 : 0);
  const pw = W - left - right;
  const total = (b: Bar) => b.segments.reduce((s, x) => s + Math.max(0, x.value), 0);
  const max = Math.max(...chart.bars.map(total)) || 1;
  const step = niceStep(max);
  const axisMax = Math.ceil(max / step) * step;
  const x = (v: number) => left + (v / axisMax) * pw;
  const color = new Map(chart.colors);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${W / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${escapeXml(chart.title)}</text>`);
  out.push(`<text x="${W / 2}" y="44" text-anchor="middle" fill="#555">${escapeXml(chart.subtitle)}</text>`);
  for (let v = 0; v <= axisMax + 1e-9; v += step) {
    out.push(`<line x1="${x(v).toFixed(1)}" y1="${top}" x2="${x(v).toFixed(1)}" y2="${top + plotH}" stroke="#e0e0e0"/>`);
    out.push(`<text x="${x(v).toFixed(1)}" y="${top + plotH + 16}" text-anchor="middle">${Number(v.toPrecision(6))}</text>`);
  }
  out.push(`<text x="${left + pw / 2}" y="${top + plotH + 34}" text-anchor="middle">${escapeXml(chart.axis)}</text>`);
  chart.bars.forEach((bar, i) => {
    const y = top + gap + i * (barH + gap);
    out.push(`<text x="${left - 8}" y="${y + barH / 2 + 4}" text-anchor="end">${escapeXml(bar.label)}</text>`);
    let at = 0;
    for (const segment of bar.segments) {
      if (segment.value <= 0) continue;
      const fill = color.get(segment.key) ?? '#9e9e9e';
      out.push(
        `<rect x="${x(at).toFixed(1)}" y="${y}" width="${(x(at + segment.value) - x(at)).toFixed(1)}" height="${barH}" fill="${fill}" stroke="#ffffff" stroke-width="0.5"><title>${escapeXml(`${segment.key}: ${segment.value.toFixed(2)}`)}</title></rect>`,
      );
      at += segment.value;
    }
    out.push(`<text x="${(x(at) + 6).toFixed(1)}" y="${y + barH / 2 + 4}">${escapeXml(bar.note)}</text>`);
  });
  out.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" stroke="#888"/>`);
  if (chart.legend) {
    const ly = top + plotH + 56;
    chart.colors.forEach(([key, fill], i) => {
      const lx = 20 + (i % 3) * 280;
      const yy = ly + Math.floor(i / 3) * 18;
      out.push(`<rect x="${lx}" y="${yy - 10}" width="12" height="12" fill="${fill}"/>`);
      out.push(`<text x="${lx + 18}" y="${yy}">${escapeXml(key)}</text>`);
    });
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
