import { getHeapSpaceStatistics } from 'node:v8';

/** Latency summary of one measurement, in microseconds. */
export interface LatencySummary {
  samples: number;
  medianUs: number;
  p99Us: number;
  meanUs: number;
  minUs: number;
  maxUs: number;
}

const nearestRank = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
const middle = (sorted: number[]) => {
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** Median: the mean of the two middle values for an even count. */
export const median = (values: number[]) => middle([...values].sort((a, b) => a - b));

/** Nearest-rank percentile (0 < p ≤ 1); NaN without values. */
export const percentile = (values: number[], p: number) => (values.length === 0 ? Number.NaN : nearestRank([...values].sort((a, b) => a - b), p));

/** Median (mean of the two middle values for an even count) and nearest-rank p99. */
export function summarize(samplesUs: number[]): LatencySummary {
  if (samplesUs.length === 0) throw new Error('no samples');
  const sorted = [...samplesUs].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, v) => sum + v, 0) / sorted.length;
  return { samples: sorted.length, medianUs: round(middle(sorted)), p99Us: round(nearestRank(sorted, 0.99)), meanUs: round(mean), minUs: round(sorted[0]!), maxUs: round(sorted.at(-1)!) };
}

function round(us: number): number {
  return Math.round(us * 100) / 100;
}

/** Bounds of one sampling loop. */
export interface SamplingBounds {
  /** Stop once this much time was spent sampling and at least `minSamples` were taken. */
  maxMs: number;
  minSamples: number;
  /** Stop at this many samples even if time is left. */
  maxSamples: number;
}

/**
 * Times `call` repeatedly (one awaited call per sample, `process.hrtime`), each for a random
 * index below `population`; `check` validates every result outside the timed region.
 */
export async function sample<T>(population: number, bounds: SamplingBounds, call: (index: number) => Promise<T>, check: (result: T, index: number) => void): Promise<number[]> {
  const samples: number[] = [];
  const started = performance.now();
  while (samples.length < bounds.maxSamples && (samples.length < bounds.minSamples || performance.now() - started < bounds.maxMs)) {
    const index = Math.floor(Math.random() * population);
    const t0 = process.hrtime.bigint();
    const result = await call(index);
    const t1 = process.hrtime.bigint();
    check(result, index);
    samples.push(Number(t1 - t0) / 1000);
  }
  return samples;
}

/** Runs `task(i)` for i in [from, to) with at most `concurrency` in flight. */
export async function pool(from: number, to: number, concurrency: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = from;
  const worker = async () => {
    while (next < to) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, to - from)) }, worker));
}

/** How one call of a burst ended, `ms` after the burst started. */
export interface Settlement<T> {
  index: number;
  ms: number;
  ok: boolean;
  value?: T;
  /** `code` (OboError), `errorCode` (msal) or the error's name. */
  error?: string;
}

function errorName(error: unknown): string {
  const e = error as { code?: unknown; errorCode?: unknown; name?: unknown };
  if (typeof e?.code === 'string') return e.code;
  if (typeof e?.errorCode === 'string' && e.errorCode) return e.errorCode;
  return typeof e?.name === 'string' ? e.name : 'unknown';
}

/** Starts `count` calls in the same tick; `settled` fills in as they end, `done` when all have. */
export function startBurst<T>(count: number, call: (index: number) => Promise<T>): { startedAt: number; settled: Settlement<T>[]; done: Promise<Settlement<T>[]> } {
  const settled: Settlement<T>[] = [];
  const startedAt = performance.now();
  const end = (s: Settlement<T>) => (settled.push(s), s);
  const started = (index: number) => {
    try {
      return call(index); // synchronously: every call has started when startBurst returns
    } catch (error) {
      return Promise.reject(error);
    }
  };
  const calls = Array.from({ length: count }, (_, index) =>
    started(index).then(
        (value) => end({ index, ms: performance.now() - startedAt, ok: true, value }),
        (error: unknown) => end({ index, ms: performance.now() - startedAt, ok: false, error: errorName(error) }),
      ),
  );
  return { startedAt, settled, done: Promise.all(calls) };
}

/** Starts a burst and waits for every call. */
export async function runBurst<T>(count: number, call: (index: number) => Promise<T>): Promise<{ settled: Settlement<T>[]; wallMs: number }> {
  const burst = startBurst(count, call);
  const settled = await burst.done;
  return { settled, wallMs: performance.now() - burst.startedAt };
}

/** How a burst went: failures by error, distinct values, time-to-answer (p50/p99 only when every one of `calls` settled). */
export function settledFigures<T>(settled: Settlement<T>[], calls: number) {
  const t = settled.map((s) => s.ms);
  const all = settled.length === calls;
  const failed = settled.filter((s) => !s.ok);
  return {
    answered: settled.length,
    failed: failed.length,
    errors: tally(failed.map((s) => s.error!)),
    distinctTokens: new Set(settled.filter((s) => s.ok).map((s) => s.value)).size,
    p50Ms: all ? percentile(t, 0.5) : undefined,
    p99Ms: all ? percentile(t, 0.99) : undefined,
    maxMs: t.length > 0 ? Math.max(...t) : undefined,
  };
}

/** `{ key: count }`. */
export function tally(keys: Iterable<string | number>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const k of keys) counts[k] = (counts[k] ?? 0) + 1;
  return counts;
}

/** `CODE ×12, OTHER ×3`. */
export const errorList = (errors: Record<string, number>) => Object.entries(errors).map(([k, v]) => `${k} ×${v.toLocaleString('en-US')}`).join(', ');

/** Heap figures after gc, in bytes. */
export interface HeapFigures {
  heapUsed: number;
  /** heapUsed without V8's code spaces (JIT output, which keeps growing while code warms up). */
  dataHeap: number;
  /** Typed-array backing stores and other memory outside the JS heap. */
  external: number;
  rss: number;
}

/**
 * Heap after full collections (node --expose-gc), repeated with a macrotask in between until
 * heapUsed settles: WeakRef targets stay alive until the current job ends and
 * FinalizationRegistry callbacks (undici's fetch) run in later tasks, so back-to-back gc() calls
 * can leave MBs of garbage.
 */
export async function heapAfterGc(): Promise<HeapFigures> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run node with --expose-gc');
  let last = Number.NaN;
  for (let i = 0; i < 20; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    const now = process.memoryUsage().heapUsed;
    if (Math.abs(now - last) < 16 * 1024) break;
    last = now;
  }
  const { heapUsed, external, rss } = process.memoryUsage();
  const code = getHeapSpaceStatistics()
    .filter((space) => space.space_name.startsWith('code_'))
    .reduce((sum, space) => sum + space.space_used_size, 0);
  return { heapUsed, dataHeap: heapUsed - code, external, rss };
}
