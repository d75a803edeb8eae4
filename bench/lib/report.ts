// Run settings, results JSON per runtime, and the generated sections of BENCHMARKS.md: a section
// is bench/templates/<name>.md with {{placeholders}} filled from the latest Node 24 results
// ({{key}}) and Node 20 results ({{node20.key}}; {{#node20}}…{{/node20}} shows only when they exist).
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

export const root = process.env.BENCH_ROOT ?? process.cwd();
/** BENCH_QUICK=1: shorter runs and smaller levels, results JSON marked quick, BENCHMARKS.md untouched. */
export const quick = process.env.BENCH_QUICK === '1';
export const runtime = `node${process.versions.node.split('.')[0]}`;
const started = Date.now();
const atStart = machine();

/** The full-run value, or the quick one under BENCH_QUICK=1. */
export const pick = <T>(full: T, short: T): T => (quick ? short : full);

/** `[  12.3 s] line`: progress on stdout. */
export const log = (line: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}`);

export interface Machine {
  cpuModel: string;
  cpuCount: number;
  totalMemBytes: number;
  platform: string;
  node: string;
  loadAverageAtStart: number[];
}

export function machine(): Machine {
  const cpus = os.cpus();
  return { cpuModel: cpus[0]?.model.trim() ?? 'unknown', cpuCount: cpus.length, totalMemBytes: os.totalmem(), platform: `${os.type()} ${os.release()} ${os.arch()}`, node: process.version, loadAverageAtStart: os.loadavg() };
}

/** What every results JSON starts with. */
export interface RunHeader {
  name: string;
  date: string;
  durationSeconds: number;
  quick: boolean;
  machine: Machine;
  loadAverageAtEnd: number[];
  versions: Record<string, string>;
}

export function header(name: string, packages: string[]): RunHeader {
  const version = (p: string) => (JSON.parse(readFileSync(join(root, 'node_modules', p, 'package.json'), 'utf8')) as { version: string }).version;
  return {
    name,
    date: new Date(started).toISOString(),
    durationSeconds: Math.round((Date.now() - started) / 1000),
    quick,
    machine: atStart,
    loadAverageAtEnd: os.loadavg(),
    versions: Object.fromEntries(packages.map((p) => [p, version(p)])),
  };
}

const resultsDir = join(root, 'bench', 'results');
const stampOf = (date: string) => date.replace(/[:.]/g, '-');

/** bench/results/<name>-<runtime>[-quick]-<stamp>.json and …-latest.json. */
export function writeResults(result: RunHeader): void {
  mkdirSync(resultsDir, { recursive: true });
  const base = `${result.name}-${runtime}${result.quick ? '-quick' : ''}`;
  const text = `${JSON.stringify(result, null, 2)}\n`;
  writeFileSync(join(resultsDir, `${base}-${stampOf(result.date)}.json`), text);
  writeFileSync(join(resultsDir, `${base}-latest.json`), text);
  log(`results: bench/results/${base}-${stampOf(result.date)}.json`);
}

/** The latest full results of `name` on `node24` / `node20` (a pre-runtime `<name>-latest.json` counts as Node 20). */
export function readLatest<T>(name: string, on: string): T | undefined {
  const candidates = [`${name}-${on}-latest.json`, ...(on === 'node20' ? [`${name}-latest.json`] : [])];
  const file = candidates.find((f) => existsSync(join(resultsDir, f)));
  return file ? (JSON.parse(readFileSync(join(resultsDir, file), 'utf8')) as T) : undefined;
}

/** A quick run's own results, to print its section without touching BENCHMARKS.md. */
export function readQuick<T>(name: string, on: string): T | undefined {
  const file = join(resultsDir, `${name}-${on}-quick-latest.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : undefined;
}

/** What a template can reach: nested values, formatted in the template (`{{a.b|int}}`). */
export type Vars = { [key: string]: unknown };

const FORMATS: Record<string, (v: number, arg?: string) => string> = {
  int: (v) => int(v),
  ms: (v) => ms(v),
  us: (v) => us(v),
  kb: (v) => kb(v),
  mb: (v) => mb(v),
  mbs: (v) => (Math.abs(v) < 52_429 ? '< 0.1 MB' : mb(v)),
  times: (v) => times(v),
  pct: (v, d) => pct(v, Number(d ?? 0)),
  fixed: (v, d) => v.toFixed(Number(d ?? 2)),
  sec: (v, d) => (v / 1000).toFixed(Number(d ?? 0)),
  signed: (v, d) => signed(v, Number(d ?? 1)),
};

/**
 * The template renderer. `{{path}}` or `{{path|format}}` / `{{path|format:digits}}` (int, ms, us,
 * kb, mb, mbs (< 0.1 MB), times, pct, fixed, sec (ms as s), signed); `{{#path}}…{{/path}}` shown when the value is
 * truthy, `{{^path}}…{{/path}}` when not; `{{#each path as x}}…{{/each}}` once per item of an array
 * (`{{x.field}}`). A field missing from an existing object prints "–"; any other unknown
 * top-level name throws.
 */
export function fill(text: string, vars: Vars): string {
  const get = (path: string) => path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], vars);
  let out = text.replace(/\{\{#each ([\w.-]+) as (\w+)\}\}\n?([\s\S]*?)\{\{\/each\}\}\n?/g, (_, path: string, name: string, body: string) =>
    ((get(path) as unknown[] | undefined) ?? []).map((item) => fill(body, { ...vars, [name]: item })).join(''), // none: e.g. inside a {{#node20}} block without Node 20 results
  );
  for (let before = ''; before !== out; ) {
    before = out;
    // A block whose tags stand on their own lines takes those line breaks with it; an inline one keeps the text around it.
    out = out.replace(/\{\{([#^])([\w.-]+)\}\}(\n?)([\s\S]*?)\{\{\/\2\}\}(\n?)/, (_, kind: string, path: string, open: string, body: string, close: string) =>
      (Boolean(get(path)) === (kind === '#') ? body : '') + (open ? '' : close),
    );
  }
  return out.replace(/\{\{([\w.-]+)(?:\|(\w+)(?::(\d+))?)?\}\}/g, (_, path: string, format?: string, arg?: string) => {
    const value = get(path);
    if (value === undefined || value === null || Number.isNaN(value)) {
      if (!(path.split('.')[0]! in vars)) throw new Error(`template placeholder {{${path}}} has no value`);
      return '–';
    }
    if (!format) return String(value);
    if (!FORMATS[format]) throw new Error(`unknown format ${format}`);
    return FORMATS[format](Number(value), arg);
  });
}

/** What every section shows about its run. */
export function runVars(r: RunHeader): Vars {
  return { ...r, machineLine: machineLine(r.machine, r.loadAverageAtEnd), libraries: Object.entries(r.versions).map(([k, v]) => `${k} ${v}`).join(', ') };
}

export function template(name: string): string {
  return readFileSync(join(root, 'bench', 'templates', `${name}.md`), 'utf8');
}

/** Replaces the section `name` of BENCHMARKS.md (appends it when absent). */
export function writeSection(name: string, body: string): void {
  const path = join(root, 'BENCHMARKS.md');
  const begin = `<!-- bench:${name}:begin -->`;
  const end = `<!-- bench:${name}:end -->`;
  const section = `${begin}\n<!-- Generated by \`npm run bench\` (bench/${name}.bench.ts, bench/templates/${name}.md); edits between these markers are overwritten. -->\n\n${body.trim()}\n\n${end}`;
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n';
  const b = text.indexOf(begin);
  const e = text.indexOf(end);
  writeFileSync(path, b >= 0 && e > b ? `${text.slice(0, b)}${section}${text.slice(e + end.length)}` : `${text.trimEnd()}\n\n${section}\n`);
}

export function writeChart(name: string, svg: string): void {
  writeFileSync(join(root, 'bench', `${name}.svg`), svg);
}

/**
 * The bottom of every bench: `node <bench>.js` runs it and writes its results JSON; with
 * `--render` (scripts/bench.mjs, once both runtimes ran) it renders the section and chart from
 * the latest JSON. A quick run prints its section to stdout instead.
 */
export async function benchMain<R extends RunHeader>(name: string, run: () => Promise<R>, render: (r: R, node20?: R) => { vars: Vars; chart?: string }): Promise<void> {
  const section = (r: R, node20?: R) => fill(template(name), { ...runVars(r), ...render(r, node20).vars, node20: node20 && { ...runVars(node20), ...render(node20).vars } });
  if (process.argv.includes('--render') || process.argv.includes('--print')) {
    // --print: the section from the latest results (quick ones under BENCH_QUICK=1) on stdout, nothing written.
    const read = quick ? readQuick : readLatest;
    const [r24, r20] = [read<R>(name, 'node24'), read<R>(name, 'node20')];
    const primary = r24 ?? r20;
    if (!primary) throw new Error(`${name}: no results in bench/results`);
    const text = section(primary, r24 && r20);
    if (process.argv.includes('--print')) return void console.log(text);
    writeSection(name, text);
    const chart = render(primary).chart;
    if (chart) writeChart(name, chart);
    log(`rendered BENCHMARKS.md (bench:${name})${chart ? ` and bench/${name}.svg` : ''} from ${r24 ? 'node24' : 'node20'}${r24 && r20 ? ' + node20' : ''} results`);
    return;
  }
  const result = await run();
  writeResults(result);
  if (quick) console.log(`\n---- quick section (not written) ----\n${section(result)}`);
}

/** The line saying how busy the rest of the machine was. */
export function machineLine(m: Machine, loadAtEnd?: number[]): string {
  const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(' / ');
  return `${m.cpuCount} × ${m.cpuModel}, ${(m.totalMemBytes / 1024 ** 3).toFixed(1)} GiB RAM, ${m.platform}, Node ${m.node}; load average (1/5/15 min) at start ${load(m.loadAverageAtStart)}${loadAtEnd ? `, at end ${load(loadAtEnd)}` : ''}`;
}

// ---- formatting ----
export const int = (n: number) => Math.round(n).toLocaleString('en-US');
export const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MB`;
export const kb = (bytes: number | undefined) => (bytes === undefined ? '–' : `${(bytes / 1024).toFixed(2)} KB`);
export const fixed = (n: number, digits = 2) => n.toFixed(digits);
export const pct = (r: number, digits = 0) => `${(r * 100).toFixed(digits)} %`;
/** `62–111`: the spread of per-round values. */
export const spread = (values: number[]) => `${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)}`;
export const signed = (n: number, digits = 1) => `${n < 0 ? '−' : '+'}${Math.abs(n).toFixed(digits)}`;

/** `52×`, `5,009×`, `1.4×`, `0.53×`. */
export function times(r: number | undefined): string {
  if (r === undefined || !Number.isFinite(r)) return '–';
  return r >= 100 ? `${int(r)}×` : `${r.toFixed(r >= 10 ? 0 : r >= 1 ? 1 : 2)}×`;
}

/** Microseconds with 3 significant digits, as µs / ms / s. */
export function us(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  const sig = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
  if (value < 1_000) return `${sig(value)} µs`;
  if (value < 1_000_000) return `${sig(value / 1_000)} ms`;
  return `${sig(value / 1_000_000)} s`;
}
export const ms = (value: number | undefined) => (value === undefined ? '–' : us(value * 1000));

/**
 * CPU used by other processes (not this one, not its children) while a benchmark runs, from
 * /proc: on 2 shared cores another benchmark moves every timing, so each section says how much.
 */
export class ForeignCpu {
  private last = new Map<number, number>();
  private ticks = 0;
  private timer?: NodeJS.Timeout;
  private startedAt = performance.now();

  constructor() {
    if (!existsSync('/proc/self/stat')) return;
    this.poll(true);
    this.timer = setInterval(() => this.poll(false), 1000).unref();
  }

  /** CPU-seconds used by other processes so far. */
  seconds(): number {
    if (this.timer) this.poll(false);
    return this.ticks / 100;
  }

  /** { seconds, share of the cores } since construction; stops polling. */
  stop(): { seconds: number; share: number } {
    const seconds = this.seconds();
    clearInterval(this.timer);
    return { seconds, share: seconds / (((performance.now() - this.startedAt) / 1000) * os.cpus().length) };
  }

  private poll(first: boolean): void {
    for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
      const pid = Number(name);
      let stat: string;
      try {
        stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      } catch {
        continue; // the process is gone
      }
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (pid === process.pid || Number(fields[1]) === process.pid) continue; // us and our children
      const ticks = Number(fields[11]) + Number(fields[12]);
      const previous = this.last.get(pid);
      this.ticks += previous !== undefined ? Math.max(0, ticks - previous) : first ? 0 : ticks;
      this.last.set(pid, ticks);
    }
  }
}

/** One sentence: how busy the rest of the machine was, overall and (when given) while the times that matter were taken. */
export function foreignCpuLine(total: { seconds: number; share: number }, timed?: { what: string; seconds: number; wallSeconds: number }): string {
  const overall = `other processes used ${total.seconds.toFixed(1)} CPU-s meanwhile (${(total.share * 100).toFixed(total.share < 0.1 ? 1 : 0)} % of the cores)`;
  const busy = '**: another benchmark was probably running, so the times of this run are less reliable than its counts';
  if (!timed) return total.share < 0.02 ? `${overall}: the machine was otherwise idle` : `**${overall}${busy}`;
  const share = timed.wallSeconds > 0 ? timed.seconds / (timed.wallSeconds * os.cpus().length) : 0;
  const during = `${timed.seconds.toFixed(1)} CPU-s of it (${(share * 100).toFixed(1)} % of the cores) during ${timed.what}`;
  return share < 0.02 ? `${overall}; ${during}, so the measured times were not disturbed` : `**${overall}; ${during}${busy}`;
}
