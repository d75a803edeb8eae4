// Shared by the HTTP benches: machine description, package versions, writing one marked section of
// BENCHMARKS.md (`<!-- bench:<name>:begin -->` … `<!-- bench:<name>:end -->`) and the results JSON.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

export interface Machine {
  readonly cpuModel: string;
  readonly cpuCount: number;
  readonly totalMemBytes: number;
  readonly platform: string;
  readonly node: string;
  readonly loadAverageAtStart: readonly number[];
}

export function machine(): Machine {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpuCount: cpus.length,
    totalMemBytes: os.totalmem(),
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverageAtStart: os.loadavg(),
  };
}

export function machineLine(m: Machine): string {
  return `${m.cpuCount} × ${m.cpuModel}, ${(m.totalMemBytes / 1024 ** 3).toFixed(1)} GiB RAM, ${m.platform}, Node ${m.node}; load average at start ${m.loadAverageAtStart.map((v) => v.toFixed(2)).join(' / ')}`;
}

export function packageVersion(root: string, name: string): string {
  return (JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

/** True unless a BENCH_* setting (other than the runner's own) changes the run. */
export function isDefaultRun(): boolean {
  return !Object.keys(process.env).some((k) => k.startsWith('BENCH_') && k !== 'BENCH_ROOT' && k !== 'BENCH_COMMAND' && k !== 'BENCH_UPDATE_DOCS');
}

export function envNumber(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
}

/** Writes bench/results/<name>-<stamp>.json and <name>-latest.json; returns the stamped path (relative). */
export function writeResults(root: string, name: string, date: string, result: unknown): string {
  const dir = join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = `${name}-${date.replace(/[:.]/g, '-')}.json`;
  const text = `${JSON.stringify(result, null, 2)}\n`;
  writeFileSync(join(dir, file), text);
  writeFileSync(join(dir, `${name}-latest.json`), text);
  return `bench/results/${file}`;
}

/** Replaces the section `name` of BENCHMARKS.md (appends it when absent); `body` goes between the markers. */
export function writeSection(root: string, name: string, body: string): void {
  const path = join(root, 'BENCHMARKS.md');
  const begin = `<!-- bench:${name}:begin -->`;
  const end = `<!-- bench:${name}:end -->`;
  const section = `${begin}\n${body.trim()}\n\n${end}`;
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n\nMeasured with `npm run bench`. Sections between `bench:*` markers are generated; do not edit them by hand.\n';
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  const next = from >= 0 && to > from ? `${text.slice(0, from)}${section}${text.slice(to + end.length)}` : `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(path, next);
}

// ---- formatting ----

export const int = (n: number) => Math.round(n).toLocaleString('en-US');

/** 3 significant digits, µs / ms. */
export function us(value: number): string {
  const sig = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
  return value < 1000 ? `${sig(value)} µs` : `${sig(value / 1000)} ms`;
}

export const ratio = (r: number) => r.toFixed(2);
export const pct = (r: number) => `${(r * 100).toFixed(0)} %`;

export function table(header: readonly string[], align: readonly ('l' | 'r')[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(align.map((a) => (a === 'r' ? '---:' : '---'))), ...rows.map(line)].join('\n');
}

export const escapeXml = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
