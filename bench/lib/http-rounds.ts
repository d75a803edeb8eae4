// Alternating load rounds over several servers (child processes), with the servers' CPU time
// sampled around every run.
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuBetween, type ChildServer } from './child-server.js';
import { mergeRuns, runLoad, type LoadOptions, type LoadRun, type LoadSummary } from './load.js';

export interface Variant {
  readonly key: string;
  /** The server under load. */
  readonly server: ChildServer;
  readonly path: string;
  readonly headers?: LoadOptions['headers'];
  readonly connectionHeaders?: LoadOptions['connectionHeaders'];
  /** Other processes whose CPU is also charged per request (e.g. the downstream API). */
  readonly helpers?: readonly ChildServer[];
}

export interface VariantResult {
  readonly key: string;
  /** All runs pooled: requests, time, latency percentiles over every response. */
  readonly load: LoadSummary;
  /** Median over the runs of each run's 2xx responses ÷ its wall time. */
  readonly requestsPerSecond: number;
  /** Median over the runs of each run's server CPU (user + system) ÷ its 2xx responses, µs. */
  readonly cpuUsPerRequest: number;
  /** All runs' server CPU ÷ all their responses, µs. */
  readonly pooledCpuUsPerRequest: number;
  readonly perRunCpuUsPerRequest: readonly number[];
  /** Server CPU time ÷ wall time over the runs (1 = one core busy). */
  readonly cpuUtilisation: number;
  /** Helper processes' CPU per request, by name. */
  readonly helperCpuUsPerRequest: Record<string, number>;
}

export interface RoundsOptions {
  readonly rounds: number;
  readonly durationSeconds: number;
  readonly connections: number;
  /**
   * Unmeasured load on the same variant right before each measured run, in seconds (default 0).
   * A server that sat idle while the others took their turns has had V8's idle-time and memory
   * reducer GCs run, shrinking its heap; this brings it back to steady state before measuring.
   */
  readonly settleSeconds?: number;
  readonly log: (line: string) => void;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
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
export async function warmUp(variants: readonly Variant[], durationSeconds: number, connections: number, log: (line: string) => void): Promise<void> {
  for (const variant of variants) {
    const { run } = await once(variant, durationSeconds, connections);
    log(`warm-up ${variant.key}: ${Math.round(run.ok / run.wallSeconds)} req/s`);
  }
}

/**
 * `rounds` rounds; each runs every variant once for `durationSeconds`, the order rotated by one
 * per round so no variant always follows the same one (drift and noise spread over all).
 */
export async function alternate(variants: readonly Variant[], options: RoundsOptions): Promise<VariantResult[]> {
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
