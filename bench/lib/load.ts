// HTTP load with autocannon, latency recorded per response (autocannon's own histogram has 1 ms
// resolution; loopback latencies are a few ms), bounded in time.
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { summarize, type LatencySummary } from './stats.js';

interface AutocannonClient {
  setHeaders(headers: Record<string, string>): void;
}
interface AutocannonResult {
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  readonly '2xx': number;
  readonly statusCodeStats: Record<string, { count: number }>;
}
interface AutocannonInstance {
  on(event: 'response', listener: (client: unknown, statusCode: number, resBytes: number, responseTimeMs: number) => void): void;
  on(event: 'start', listener: () => void): void;
}
type Autocannon = (options: Record<string, unknown>, done: (error: Error | null, result: AutocannonResult) => void) => AutocannonInstance;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

export interface LoadOptions {
  readonly url: string;
  readonly durationSeconds: number;
  readonly connections: number;
  /** Headers of every request. */
  readonly headers?: Record<string, string>;
  /** Headers per connection (connection index from 0), e.g. one user per connection. */
  readonly connectionHeaders?: (index: number) => Record<string, string>;
}

export interface LoadRun {
  /** 2xx responses received. */
  readonly ok: number;
  /** Anything else: non-2xx, connection errors, timeouts (a run with any is rejected by the caller). */
  readonly failed: number;
  readonly statusCodes: Record<string, number>;
  readonly wallSeconds: number;
  /** Latency of each 2xx response, ms. */
  readonly latenciesMs: Float64Array;
}

/** Runs autocannon for `durationSeconds` against one URL (pipelining 1). */
export function runLoad(options: LoadOptions): Promise<LoadRun> {
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  let connection = 0;
  let startedAt = performance.now();
  return new Promise<LoadRun>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        pipelining: 1,
        duration: options.durationSeconds,
        timeout: 10,
        headers: options.headers ?? {},
        setupClient: options.connectionHeaders
          ? (client: AutocannonClient) => client.setHeaders({ ...options.headers, ...options.connectionHeaders!(connection++ % options.connections) })
          : undefined,
      },
      (error, result) => {
        const wallSeconds = (performance.now() - startedAt) / 1000;
        if (error) return reject(error);
        const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count: n }]) => [code, Number(n)]));
        resolve({
          ok: count,
          failed: result.non2xx + result.errors + result.timeouts,
          statusCodes,
          wallSeconds,
          latenciesMs: latencies.subarray(0, count),
        });
      },
    );
    instance.on('start', () => (startedAt = performance.now()));
    instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
      if (statusCode < 200 || statusCode > 299) return;
      if (count === latencies.length) {
        const grown = new Float64Array(latencies.length * 2);
        grown.set(latencies);
        latencies = grown;
      }
      latencies[count++] = responseTimeMs;
    });
  });
}

/** Several runs of one variant, merged. */
export interface LoadSummary {
  readonly requests: number;
  readonly seconds: number;
  readonly requestsPerSecond: number;
  /** Requests per second of each run, in run order. */
  readonly perRunRequestsPerSecond: readonly number[];
  /** Latency over every response of every run, µs. */
  readonly latency: LatencySummary;
}

export function mergeRuns(runs: readonly LoadRun[]): LoadSummary {
  const requests = runs.reduce((n, r) => n + r.ok, 0);
  const seconds = runs.reduce((n, r) => n + r.wallSeconds, 0);
  const all: number[] = [];
  for (const run of runs) for (const ms of run.latenciesMs) all.push(ms * 1000);
  return {
    requests,
    seconds,
    requestsPerSecond: requests / seconds,
    perRunRequestsPerSecond: runs.map((r) => r.ok / r.wallSeconds),
    latency: summarize(all),
  };
}
