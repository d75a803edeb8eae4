// What OpenTelemetry costs on the outbound hot paths: a TokenAcquisition cache hit and a
// DownstreamApi call (cached token, one HTTP request) in three variants, each in its own process
// (the API's globals are per process), measured in alternating rounds of one run:
//   before: libs/obo/src at the commit before telemetry, compiled beside this tree (bench/lib/git-baseline.ts);
//   no SDK: this tree, no SDK registered (the API's no-op tracer and meter: what every app without OpenTelemetry runs);
//   control: the no-SDK variant again in a second process: the difference two processes show with nothing changed;
//   SDK:    this tree, the OpenTelemetry SDK registered (AlwaysOn, BatchSpanProcessor, a metric reader; exporters that drop).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChild, type ChildServer } from './lib/child.js';
import { mintAssertion, startFixture } from './lib/fixture.js';
import { compileLibraryAt } from './lib/git-baseline.js';
import { benchMain, ForeignCpu, foreignCpuLine, header, log, pick, times, us, type RunHeader } from './lib/report.js';
import { median, summarize, type LatencySummary } from './lib/stats.js';
import type { MeasureRequest, TelemetryOverheadConfig } from './servers/telemetry-overhead.server.js';

const NAME = 'telemetry-overhead';
/** The last commit before the library had any OpenTelemetry code. */
const BEFORE_TELEMETRY = 'a775d3f10f568fbf7298080f35e992f5337793ef';
const settings = {
  users: pick(1_000, 100),
  rounds: pick(6, 2),
  hit: { maxMs: pick(1_500, 300), minSamples: 2_000, maxSamples: pick(60_000, 10_000) },
  downstream: { maxMs: pick(2_000, 400), minSamples: 200, maxSamples: pick(10_000, 2_000) },
};
const VARIANTS = [
  ['before', 'before telemetry'],
  ['no-sdk', 'no SDK registered'],
  // The same code as no-sdk in another process: how far two processes differ with nothing changed.
  ['control', 'no SDK registered, second process (control)'],
  ['sdk', 'OpenTelemetry SDK registered'],
] as const;
type VariantKey = (typeof VARIANTS)[number][0];
const PATHS = [
  ['hit', '`TokenAcquisition.getAccessTokenForUser` cache hit'],
  ['downstream', '`DownstreamApi.get` (cached token, one HTTP request)'],
] as const;
type PathKey = (typeof PATHS)[number][0];

interface Row extends LatencySummary {
  path: PathKey;
  pathLabel: string;
  variant: VariantKey;
  variantLabel: string;
  /** Median ÷ the "before" variant's median, same path, same run. */
  overBefore?: number;
  /** Median minus the "before" variant's median, µs. */
  addedUs?: number;
  /** The spread of the per-round ratio to "before" (min–max). */
  roundRatios?: { min: number; max: number };
}
interface Result extends RunHeader {
  settings: typeof settings;
  baselineCommit: string | undefined;
  rows: Row[];
  foreignCpu: { seconds: number; share: number };
}

async function run(): Promise<Result> {
  const foreign = new ForeignCpu();
  const fixture = await startFixture();
  const downstream = await startChild('downstream', 'downstream.server.js', {});
  const beforeEntry = compileLibraryAt(BEFORE_TELEMETRY);
  const currentEntry = new URL('../libs/obo/src/index.js', import.meta.url).pathname;
  const work = mkdtempSync(join(tmpdir(), 'obo-telemetry-bench-'));
  const assertionsFile = join(work, 'assertions.json');
  writeFileSync(assertionsFile, JSON.stringify(Array.from({ length: settings.users }, (_, i) => mintAssertion(fixture, i))));
  const base: Omit<TelemetryOverheadConfig, 'libEntry' | 'sdk'> = {
    instance: fixture.authority.instance,
    tenantId: fixture.authority.tenantId,
    clientId: fixture.originalId,
    clientSecret: fixture.clientSecret,
    downstreamBaseUrl: downstream.url,
    downstreamScope: fixture.scope,
    assertionsFile,
  };
  const variants = VARIANTS.filter(([key]) => key !== 'before' || beforeEntry !== undefined);
  const children = new Map<VariantKey, ChildServer>();
  const rows: Row[] = [];
  try {
    for (const [key] of variants) {
      log(`starting ${key} (${settings.users} users through real On-Behalf-Of requests)`);
      const config: TelemetryOverheadConfig = { ...base, libEntry: key === 'before' ? beforeEntry! : currentEntry, sdk: key === 'sdk' };
      children.set(key, await startChild(`${key}-${randomUUID().slice(0, 4)}`, 'telemetry-overhead.server.js', config));
    }
    const measure = async (key: VariantKey, path: PathKey, bounds: Omit<MeasureRequest, 'path'>): Promise<number[]> => {
      const answer = await children.get(key)!.ask<{ samples: number[]; providerCalls: number }>('measure', { path, ...bounds } satisfies MeasureRequest, 300_000);
      if (answer.providerCalls !== 0) throw new Error(`${key}: ${answer.providerCalls} provider calls while measuring ${path}`);
      return answer.samples;
    };
    // Warm-up: JIT and connection pools of every variant, unrecorded.
    for (const [key] of variants) {
      await measure(key, 'hit', { maxMs: 300, minSamples: 2_000, maxSamples: 20_000 });
      await measure(key, 'downstream', { maxMs: 300, minSamples: 200, maxSamples: 2_000 });
    }
    const tokenRequests = fixture.authority.requests.token;
    const samples = new Map<string, number[]>();
    const roundMedians = new Map<string, number[]>();
    const add = (map: Map<string, number[]>, key: string, values: number[]) => map.set(key, [...(map.get(key) ?? []), ...values]);
    for (let round = 0; round < settings.rounds; round++) {
      // The order rotates each round, so no variant always runs first (or right after another).
      const order = variants.map((_, i) => variants[(i + round) % variants.length]!);
      for (const [path] of PATHS) {
        for (const [key] of order) {
          const values = await measure(key, path, settings[path]);
          add(samples, `${path}/${key}`, values);
          add(roundMedians, `${path}/${key}`, [median(values)]);
        }
      }
      log(`round ${round + 1}/${settings.rounds}: ${PATHS.map(([path]) => `${path} ${variants.map(([key]) => `${key} ${us(median(samples.get(`${path}/${key}`)!))}`).join(', ')}`).join('; ')}`);
    }
    if (fixture.authority.requests.token !== tokenRequests) throw new Error('token requests while measuring: some call was not a cache hit');
    for (const [path, pathLabel] of PATHS) {
      const before = samples.get(`${path}/before`);
      const beforeMedian = before && median(before);
      for (const [key, variantLabel] of variants) {
        const summary = summarize(samples.get(`${path}/${key}`)!);
        // The "before" row is the reference: no ratio of its own.
        const compared = beforeMedian !== undefined && key !== 'before';
        const ratios = compared ? roundMedians.get(`${path}/${key}`)!.map((m, i) => m / roundMedians.get(`${path}/before`)![i]!) : undefined;
        rows.push({
          ...summary,
          path,
          pathLabel,
          variant: key,
          variantLabel,
          overBefore: compared ? summary.medianUs / beforeMedian : undefined,
          addedUs: compared ? summary.medianUs - beforeMedian : undefined,
          roundRatios: ratios && { min: Math.min(...ratios), max: Math.max(...ratios) },
        });
      }
    }
  } finally {
    // Also after a failure: no child process outlives the bench.
    for (const child of children.values()) await child.stop();
    await downstream.stop();
    await fixture.authority.close();
    rmSync(work, { recursive: true, force: true });
  }
  return {
    ...header(NAME, ['@opentelemetry/api', '@opentelemetry/sdk-trace-base', '@opentelemetry/sdk-metrics', 'undici']),
    settings,
    baselineCommit: beforeEntry === undefined ? undefined : BEFORE_TELEMETRY,
    rows,
    foreignCpu: foreign.stop(),
  };
}

function render(r: Result) {
  const row = (path: PathKey, variant: VariantKey) => r.rows.find((x) => x.path === path && x.variant === variant);
  const sdkOverNoSdk = (path: PathKey) => {
    const [sdk, none] = [row(path, 'sdk'), row(path, 'no-sdk')];
    return sdk && none ? sdk.medianUs / none.medianUs : undefined;
  };
  return {
    vars: {
      table: r.rows.map((x) => ({ ...x, spread: x.roundRatios ? `${x.roundRatios.min.toFixed(2)}–${x.roundRatios.max.toFixed(2)}` : '–' })),
      commit: r.baselineCommit?.slice(0, 10) ?? 'not available',
      hitNoSdk: row('hit', 'no-sdk'),
      hitControl: row('hit', 'control'),
      callControl: row('downstream', 'control'),
      hitSdk: row('hit', 'sdk'),
      callNoSdk: row('downstream', 'no-sdk'),
      callSdk: row('downstream', 'sdk'),
      hitSdkOverNoSdk: sdkOverNoSdk('hit'),
      callSdkOverNoSdk: sdkOverNoSdk('downstream'),
      hitSdkOverNoSdkText: times(sdkOverNoSdk('hit')),
      callSdkOverNoSdkText: times(sdkOverNoSdk('downstream')),
      foreign: foreignCpuLine(r.foreignCpu),
    },
  };
}

await benchMain(NAME, run, render);
