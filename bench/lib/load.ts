// HTTP load: autocannon runs (latency recorded per response; autocannon's own histogram has 1 ms
// resolution), alternating rounds over child servers with their CPU sampled around every run, and
// a node:http keep-alive client for closed-loop load with a token per request.
import { Agent, request } from 'node:http';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuBetween, type ChildServer } from './child.js';
import { median, summarize, type LatencySummary } from './stats.js';

interface AutocannonClient {
  setHeaders(headers: Record<string, string>): void;
}
interface AutocannonResult {
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  statusCodeStats: Record<string, { count: number }>;
}
interface AutocannonInstance {
  on(event: 'response', listener: (client: unknown, statusCode: number, resBytes: number, responseTimeMs: number) => void): void;
  on(event: 'start', listener: () => void): void;
}
type Autocannon = (options: Record<string, unknown>, done: (error: Error | null, result: AutocannonResult) => void) => AutocannonInstance;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

export interface LoadOptions {
  url: string;
  durationSeconds: number;
  connections: number;
  /** Headers of every request. */
  headers?: Record<string, string>;
  /** Headers per connection (connection index from 0), e.g. one user per connection. */
  connectionHeaders?: (index: number) => Record<string, string>;
}

export interface LoadRun {
  /** 2xx responses received. */
  ok: number;
  /** Anything else: non-2xx, connection errors, timeouts (a run with any is rejected by the caller). */
  failed: number;
  statusCodes: Record<string, number>;
  wallSeconds: number;
  /** Latency of each 2xx response, ms. */
  latenciesMs: Float64Array;
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
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  /** Requests per second of each run, in run order. */
  perRunRequestsPerSecond: number[];
  /** Latency over every response of every run, µs. */
  latency: LatencySummary;
}

export function mergeRuns(runs: LoadRun[]): LoadSummary {
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

// ---- alternating rounds over child servers ----

export interface Variant {
  key: string;
  /** The server under load. */
  server: ChildServer;
  path: string;
  headers?: LoadOptions['headers'];
  connectionHeaders?: LoadOptions['connectionHeaders'];
  /** Other processes whose CPU is also charged per request (e.g. the downstream API). */
  helpers?: ChildServer[];
}

export interface VariantResult {
  key: string;
  /** All runs pooled: requests, time, latency percentiles over every response. */
  load: LoadSummary;
  /** Median over the runs of each run's 2xx responses ÷ its wall time. */
  requestsPerSecond: number;
  /** Median over the runs of each run's server CPU (user + system) ÷ its 2xx responses, µs. */
  cpuUsPerRequest: number;
  /** All runs' server CPU ÷ all their responses, µs. */
  pooledCpuUsPerRequest: number;
  perRunCpuUsPerRequest: number[];
  /** Server CPU time ÷ wall time over the runs (1 = one core busy). */
  cpuUtilisation: number;
  /** Helper processes' CPU per request, by name. */
  helperCpuUsPerRequest: Record<string, number>;
}

export interface RoundsOptions {
  rounds: number;
  durationSeconds: number;
  connections: number;
  /**
   * Unmeasured load on the same variant right before each measured run, in seconds (default 0).
   * A server that sat idle while the others took their turns has had V8's idle-time and memory
   * reducer GCs run, shrinking its heap; this brings it back to steady state before measuring.
   */
  settleSeconds?: number;
  log: (line: string) => void;
}

async function once(variant: Variant, durationSeconds: number, connections: number): Promise<{ run: LoadRun; cpuUs: number; wallUs: number; helperCpuUs: number[] }> {
  const helpers = variant.helpers ?? [];
  const before = await variant.server.cpu();
  const helpersBefore = await Promise.all(helpers.map((h) => h.cpu()));
  const run = await runLoad({ url: `${variant.server.url}${variant.path}`, durationSeconds, connections, headers: variant.headers, connectionHeaders: variant.connectionHeaders });
  await sleep(100); // let requests cut off at the deadline finish: their CPU is then in the sample (at most `connections` of them)
  const after = await variant.server.cpu();
  const helpersAfter = await Promise.all(helpers.map((h) => h.cpu()));
  if (run.failed > 0 || run.ok === 0) throw new Error(`${variant.key}: ${run.failed} failed requests (status codes ${JSON.stringify(run.statusCodes)})`);
  const { cpuUs, wallUs } = cpuBetween(before, after);
  return { run, cpuUs, wallUs, helperCpuUs: helpers.map((_, i) => cpuBetween(helpersBefore[i]!, helpersAfter[i]!).cpuUs) };
}

/** Warm-up: one short run per variant, results dropped. */
export async function warmUp(variants: Variant[], durationSeconds: number, connections: number, log: (line: string) => void): Promise<void> {
  for (const variant of variants) {
    const { run } = await once(variant, durationSeconds, connections);
    log(`warm-up ${variant.key}: ${Math.round(run.ok / run.wallSeconds)} req/s`);
  }
}

/**
 * `rounds` rounds; each runs every variant once for `durationSeconds`, the order rotated by one
 * per round so no variant always follows the same one (drift and noise spread over all).
 */
export async function alternate(variants: Variant[], options: RoundsOptions): Promise<VariantResult[]> {
  const runs = new Map(variants.map((v) => [v.key, [] as Array<Awaited<ReturnType<typeof once>>>]));
  for (let round = 0; round < options.rounds; round++) {
    const order = variants.map((_, i) => variants[(i + round) % variants.length]!);
    for (const variant of order) {
      if (options.settleSeconds) await runLoad({ url: `${variant.server.url}${variant.path}`, durationSeconds: options.settleSeconds, connections: options.connections, headers: variant.headers, connectionHeaders: variant.connectionHeaders });
      const result = await once(variant, options.durationSeconds, options.connections);
      runs.get(variant.key)!.push(result);
      options.log(
        `round ${round + 1}/${options.rounds} ${variant.key.padEnd(22)} ${String(Math.round(result.run.ok / result.run.wallSeconds)).padStart(6)} req/s, ` +
          `${(result.cpuUs / result.run.ok).toFixed(1)} µs CPU/request`,
      );
    }
  }
  return variants.map((variant) => {
    const list = runs.get(variant.key)!;
    const ok = list.reduce((n, r) => n + r.run.ok, 0);
    const cpu = list.reduce((n, r) => n + r.cpuUs, 0);
    const wall = list.reduce((n, r) => n + r.wallUs, 0);
    const helperCpuUsPerRequest: Record<string, number> = {};
    (variant.helpers ?? []).forEach((helper, i) => (helperCpuUsPerRequest[helper.name] = list.reduce((n, r) => n + r.helperCpuUs[i]!, 0) / ok));
    const load = mergeRuns(list.map((r) => r.run));
    return {
      key: variant.key,
      load,
      requestsPerSecond: median(load.perRunRequestsPerSecond),
      cpuUsPerRequest: median(list.map((r) => r.cpuUs / r.run.ok)),
      pooledCpuUsPerRequest: cpu / ok,
      perRunCpuUsPerRequest: list.map((r) => r.cpuUs / r.run.ok),
      cpuUtilisation: cpu / wall,
      helperCpuUsPerRequest,
    };
  });
}

/** One pair of back-to-back runs of two variants: their throughput ratio and CPU difference. */
export interface PairedRun {
  /** a's req/s ÷ b's req/s in this pair. */
  rpsRatio: number;
  /** a's API CPU per request − b's, µs. */
  cpuExtraUs: number;
}

/**
 * `pairs` pairs of runs of `a` and `b` back to back (order alternating: ab, ba, ab, ...), each after
 * its settle load. On a machine whose speed drifts over seconds (shared cores), two runs a second
 * apart see nearly the same machine, so the median of per-pair ratios is steadier than the ratio of
 * two medians taken over minutes.
 */
export async function paired(a: Variant, b: Variant, options: RoundsOptions & { pairs: number }): Promise<PairedRun[]> {
  const out: PairedRun[] = [];
  for (let pair = 0; pair < options.pairs; pair++) {
    const measured = new Map<string, { rps: number; cpu: number }>();
    for (const variant of pair % 2 === 0 ? [a, b] : [b, a]) {
      if (options.settleSeconds) await runLoad({ url: `${variant.server.url}${variant.path}`, durationSeconds: options.settleSeconds, connections: options.connections, headers: variant.headers, connectionHeaders: variant.connectionHeaders });
      const { run, cpuUs } = await once(variant, options.durationSeconds, options.connections);
      measured.set(variant.key, { rps: run.ok / run.wallSeconds, cpu: cpuUs / run.ok });
    }
    const [x, y] = [measured.get(a.key)!, measured.get(b.key)!];
    out.push({ rpsRatio: x.rps / y.rps, cpuExtraUs: x.cpu - y.cpu });
    options.log(`pair ${pair + 1}/${options.pairs} ${a.key} ÷ ${b.key}: ${(x.rps / y.rps).toFixed(3)} (${Math.round(x.rps)} vs ${Math.round(y.rps)} req/s)`);
  }
  return out;
}

// ---- node:http keep-alive client ----

export interface Reply {
  status: number;
  ms: number;
  body: string;
}

/** GET `url` with `Authorization: Bearer <token>` through `agent` (keep-alive), timed from the call to the end of the body. */
export function get(agent: Agent, url: string, token?: string, timeoutMs = 30_000): Promise<Reply> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers: token ? { authorization: `Bearer ${token}` } : {}, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

export const keepAlive = (sockets: number) => new Agent({ keepAlive: true, maxSockets: sockets });

/**
 * Closed-loop load: `concurrency` workers, each sending one request after the other (request i
 * carries `tokenFor(i)`) until `stop()` returns true or `maxRequests` were sent.
 */
export async function closedLoop(url: string, tokenFor: (i: number) => string, concurrency: number, stop: () => boolean, maxRequests = Number.MAX_SAFE_INTEGER): Promise<Reply[]> {
  const agent = keepAlive(concurrency);
  const replies: Reply[] = [];
  let next = 0;
  const worker = async () => {
    while (!stop() && next < maxRequests) {
      const reply = await get(agent, url, tokenFor(next++));
      replies.push({ status: reply.status, ms: reply.ms, body: '' });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  return replies;
}
