import { getHeapSpaceStatistics } from 'node:v8';

/** Latency summary of one measurement, in microseconds. */
export interface LatencySummary {
  readonly samples: number;
  readonly medianUs: number;
  readonly p99Us: number;
  readonly meanUs: number;
  readonly minUs: number;
  readonly maxUs: number;
}

/** Median (mean of the two middle values for an even count) and nearest-rank p99. */
export function summarize(samplesUs: readonly number[]): LatencySummary {
  if (samplesUs.length === 0) throw new Error('no samples');
  const sorted = [...samplesUs].sort((a, b) => a - b);
  const n = sorted.length;
  const mid = n >> 1;
  const median = n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const p99 = sorted[Math.min(n - 1, Math.ceil(0.99 * n) - 1)]!;
  const mean = sorted.reduce((sum, v) => sum + v, 0) / n;
  return { samples: n, medianUs: round(median), p99Us: round(p99), meanUs: round(mean), minUs: round(sorted[0]!), maxUs: round(sorted[n - 1]!) };
}

function round(us: number): number {
  return Math.round(us * 100) / 100;
}

/** Bounds of one sampling loop. */
export interface SamplingBounds {
  /** Stop once this much time was spent sampling and at least `minSamples` were taken. */
  readonly maxMs: number;
  readonly minSamples: number;
  /** Stop at this many samples even if time is left. */
  readonly maxSamples: number;
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

/** Heap figures after gc, in bytes. */
export interface HeapFigures {
  readonly heapUsed: number;
  /** heapUsed without V8's code spaces (JIT output, which keeps growing while code warms up). */
  readonly dataHeap: number;
  /** Typed-array backing stores and other memory outside the JS heap. */
  readonly external: number;
  readonly rss: number;
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
