// Concurrent bursts: start every call at once, time each one until it settles.

/** How one call of a burst ended, `ms` after the burst started. */
export interface Settlement<T> {
  readonly index: number;
  readonly ms: number;
  readonly ok: boolean;
  readonly value?: T;
  /** `code` (OboError), `errorCode` (msal) or the error's name. */
  readonly error?: string;
}

/** A running burst: `settled` fills in as calls end; `done` resolves when all have. */
export interface Burst<T> {
  readonly startedAt: number;
  readonly settled: Settlement<T>[];
  readonly done: Promise<Settlement<T>[]>;
}

function errorName(error: unknown): string {
  const e = error as { code?: unknown; errorCode?: unknown; name?: unknown };
  if (typeof e?.code === 'string') return e.code;
  if (typeof e?.errorCode === 'string' && e.errorCode) return e.errorCode;
  return typeof e?.name === 'string' ? e.name : 'unknown';
}

/** Starts `count` calls in the same tick (`call(i)` for i in [0, count)). */
export function startBurst<T>(count: number, call: (index: number) => Promise<T>): Burst<T> {
  const settled: Settlement<T>[] = [];
  const startedAt = performance.now();
  const calls: Promise<Settlement<T>>[] = [];
  for (let i = 0; i < count; i++) {
    let promise: Promise<T>;
    try {
      promise = call(i);
    } catch (error) {
      promise = Promise.reject(error);
    }
    calls.push(
      promise.then(
        (value) => {
          const s = { index: i, ms: performance.now() - startedAt, ok: true, value };
          settled.push(s);
          return s;
        },
        (error: unknown) => {
          const s = { index: i, ms: performance.now() - startedAt, ok: false, error: errorName(error) };
          settled.push(s);
          return s;
        },
      ),
    );
  }
  return { startedAt, settled, done: Promise.all(calls) };
}

/** Starts a burst and waits for every call. */
export async function runBurst<T>(count: number, call: (index: number) => Promise<T>): Promise<{ settled: Settlement<T>[]; wallMs: number }> {
  const burst = startBurst(count, call);
  const settled = await burst.done;
  return { settled, wallMs: performance.now() - burst.startedAt };
}

/** Nearest-rank percentile of `values` (0 < p ≤ 1). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

/** `{ code: count }` of the failed calls. */
export function errorCounts(settled: readonly Settlement<unknown>[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of settled) if (!s.ok) counts[s.error!] = (counts[s.error!] ?? 0) + 1;
  return counts;
}
