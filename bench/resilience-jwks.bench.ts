// JWKS flood: random `kid`s against ours (OboModule defaults) and baseline 3 (the NestJS docs
// recipe), each in its own process, the flood from a third; legitimate closed-loop load and the
// LocalAuthority (the ground-truth counters) here. Then a key rotation while random kids keep coming.
import { setTimeout as sleep } from 'node:timers/promises';
import { barChart, BLUE, RED } from './lib/chart.js';
import { startChild, type ChildServer } from './lib/child.js';
import { LocalAuthority } from '../libs/obo/testing/index.js';
import { closedLoop, get, keepAlive, type Reply } from './lib/load.js';
import { benchMain, ForeignCpu, foreignCpuLine, header, int, log, ms, pick, type RunHeader } from './lib/report.js';
import { percentile, tally } from './lib/stats.js';
import type { Flood, FloodResult } from './servers/flood.worker.js';
import type { InboundServerConfig } from './servers/inbound.server.js';

const NAME = 'resilience-jwks';
const config = {
  floodRequests: pick(10_000, 2_000),
  /** Open loop: the same schedule for both apps. */
  floodRate: 2_000,
  floodConcurrency: 100,
  legitConcurrency: 10,
  legitUsers: 200,
  warmRequests: pick(3_000, 1_000),
  quietMs: pick(3_000, 1_000),
  /** Watch after the rotation until ours' cooldown (30 s) has passed and the recipe's limiter window reopened, at most this long. */
  rotationMaxSeconds: pick(70, 35),
  /** Random-kid requests per second per app while we watch. */
  trickleRate: 20,
};
const APPS = [
  // The recipe first: its limiter's one-minute window starts with its first key lookup, and the rotation watch waits for it to reopen.
  { key: 'baseline', variant: 'passport-jwks', name: 'passport-jwt + jwks-rsa (docs recipe)' },
  { key: 'ours', variant: 'ours-cached', name: 'nestjs-obo (OboModule defaults)' },
] as const;
type AppKey = (typeof APPS)[number]['key'];

interface Latency {
  requests: number;
  statuses: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  throughputPerS: number;
}
interface FloodRow {
  app: AppKey;
  name: string;
  quiet: Latency;
  during: Latency;
  flood: FloodResult;
  jwksFetches: number;
  discoveryFetches: number;
  secondsSinceLastFetchAtFloodStart?: number;
  foreignCpuSeconds: number;
  timedMs: number;
}
interface RotationRow {
  probes: number;
  statuses: Record<string, number>;
  firstAcceptedAfterSeconds?: number;
  rejectedBeforeFirstAccept: number;
  trickleRequests: number;
  trickleStatuses: Record<string, number>;
  jwksFetches: number;
}
interface Result extends RunHeader {
  config: typeof config;
  foreignCpu: { seconds: number; share: number };
  tokenLengthChars: number;
  floods: FloodRow[];
  rotation: { watchedSeconds: number; windowReopensAfterS: number } & Record<AppKey, RotationRow>;
}

const latency = (replies: Reply[], durationMs: number): Latency => {
  const ok = replies.filter((r) => r.status === 200).map((r) => r.ms);
  return { requests: replies.length, statuses: tally(replies.map((r) => r.status)), p50Ms: percentile(ok, 0.5), p99Ms: percentile(ok, 0.99), throughputPerS: (replies.length / durationMs) * 1000 };
};

async function run(): Promise<Result> {
  const foreign = new ForeignCpu();
  const authority = await LocalAuthority.start();
  const legitTokens = Array.from({ length: config.legitUsers }, () => authority.mintUserToken());
  const token = (i: number) => legitTokens[i % legitTokens.length]!;
  const servers: Record<AppKey, ChildServer> = {} as Record<AppKey, ChildServer>;
  const children: ChildServer[] = [];
  try {
    for (const app of APPS) {
      const cfg: InboundServerConfig = { variant: app.variant, instance: authority.instance, tenantId: authority.tenantId, clientId: authority.clientId, scope: 'access_as_user', quiet: true };
      children.push((servers[app.key] = await startChild(app.key, 'inbound.server.js', cfg)));
    }
    const url = (key: AppKey) => `${servers[key].url}/api/ok`;
    const oursFetches = () => servers.ours.ask<number>('jwks-fetches');
    let baselineFirstLookupAt = 0;
    let oursLastFetchAt = 0;
    const floods: FloodRow[] = [];
    for (const app of APPS) {
      const jwks0 = authority.requests.jwks;
      if (app.key === 'baseline') baselineFirstLookupAt = performance.now();
      const warm = await closedLoop(url(app.key), token, config.legitConcurrency, () => false, config.warmRequests);
      if (warm.some((r) => r.status !== 200)) throw new Error(`${app.key}: warm-up answered ${JSON.stringify(tally(warm.map((r) => r.status)))}`);
      if (app.key === 'ours' && authority.requests.jwks > jwks0) oursLastFetchAt = Date.now();
      const f0 = foreign.seconds();
      const quietStart = performance.now();
      const quiet = await closedLoop(url(app.key), token, config.legitConcurrency, () => performance.now() - quietStart >= config.quietMs);
      const quietMs = performance.now() - quietStart;
      const before = { jwks: authority.requests.jwks, discovery: authority.requests.discovery };
      const sinceLastFetch = app.key === 'ours' ? (Date.now() - oursLastFetchAt) / 1000 : undefined;
      const worker = await startChild('flood', 'flood.worker.js', {});
      children.push(worker);
      let floodDone = false;
      const flood = worker.ask<FloodResult>('flood', { url: url(app.key), count: config.floodRequests, rate: config.floodRate, concurrency: config.floodConcurrency, token: legitTokens[0]! } satisfies Flood).finally(() => (floodDone = true));
      const duringStart = performance.now();
      const during = await closedLoop(url(app.key), token, config.legitConcurrency, () => floodDone);
      const duringMs = performance.now() - duringStart;
      const row: FloodRow = {
        ...{ app: app.key, name: app.name, quiet: latency(quiet, quietMs), during: latency(during, duringMs), flood: await flood },
        ...{ jwksFetches: authority.requests.jwks - before.jwks, discoveryFetches: authority.requests.discovery - before.discovery, secondsSinceLastFetchAtFloodStart: sinceLastFetch },
        ...{ foreignCpuSeconds: foreign.seconds() - f0, timedMs: quietMs + duringMs },
      };
      await worker.stop();
      if (app.key === 'ours' && row.jwksFetches > 0) oursLastFetchAt = Date.now();
      floods.push(row);
      log(`${app.key}: ${int(row.flood.sent)} random kids → ${row.jwksFetches} JWKS GETs; legit p99 ${ms(row.quiet.p99Ms)} → ${ms(row.during.p99Ms)}`);
    }

    // Key rotation while random kids keep coming: once a second, a token signed with the new key.
    await authority.rotateKey();
    const rotatedTokens = Array.from({ length: 3 }, () => authority.mintUserToken());
    const rotatedAt = performance.now();
    const before = { jwks: authority.requests.jwks, ours: await oursFetches() };
    const probes: Record<AppKey, { s: number; status: number }[]> = { ours: [], baseline: [] };
    const trickle: Record<AppKey, number[]> = { ours: [], baseline: [] };
    const watchUntil = Math.min(rotatedAt + config.rotationMaxSeconds * 1000, Math.max(rotatedAt + 33_000, baselineFirstLookupAt + 65_000));
    const windowReopensAfterS = (baselineFirstLookupAt + 60_000 - rotatedAt) / 1000;
    const agents = { ours: keepAlive(8), baseline: keepAlive(8) };
    const pending: Promise<unknown>[] = [];
    const randomKid = () => `${Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: crypto.randomUUID() })).toString('base64url')}.${legitTokens[0]!.split('.').slice(1).join('.')}`;
    const timer = setInterval(() => {
      for (const { key } of APPS) pending.push(get(agents[key], url(key), randomKid()).then((r) => trickle[key].push(r.status), () => trickle[key].push(0)));
    }, 1000 / config.trickleRate);
    const accepted = (key: AppKey) => probes[key].slice(-3).filter((p) => p.status === 200).length === 3;
    for (let probe = 0; performance.now() < watchUntil && !(accepted('ours') && accepted('baseline')); probe++) {
      await Promise.all(APPS.map(async ({ key }) => probes[key].push({ s: (performance.now() - rotatedAt) / 1000, status: (await get(agents[key], url(key), rotatedTokens[probe % 3])).status })));
      await sleep(Math.max(0, rotatedAt + (probe + 1) * 1000 - performance.now()));
    }
    clearInterval(timer);
    await Promise.allSettled(pending);
    agents.ours.destroy();
    agents.baseline.destroy();
    const oursDuring = (await oursFetches()) - before.ours;
    const rotation = (key: AppKey): RotationRow => {
      const first = probes[key].find((p) => p.status === 200);
      return {
        ...{ probes: probes[key].length, statuses: tally(probes[key].map((p) => p.status)), firstAcceptedAfterSeconds: first?.s, rejectedBeforeFirstAccept: first ? probes[key].indexOf(first) : probes[key].length },
        ...{ trickleRequests: trickle[key].length, trickleStatuses: tally(trickle[key]), jwksFetches: key === 'ours' ? oursDuring : authority.requests.jwks - before.jwks - oursDuring },
      };
    };
    return {
      ...header(NAME, ['jwks-rsa', 'limiter', 'passport-jwt', '@nestjs/passport']),
      config,
      foreignCpu: foreign.stop(),
      tokenLengthChars: legitTokens[0]!.length,
      floods,
      rotation: { watchedSeconds: (performance.now() - rotatedAt) / 1000, windowReopensAfterS, ours: rotation('ours'), baseline: rotation('baseline') },
    };
  } finally {
    for (const child of children) await child.stop();
    await Promise.race([authority.close(), sleep(3_000)]);
  }
}

function render(r: Result, node20?: Result) {
  const statuses = (s: Record<string, number>) => Object.entries(s).map(([k, v]) => `${k === '0' ? 'error' : k} ×${int(v)}`).join(', ');
  const flood = (x: Result, key: AppKey) => x.floods.find((f) => f.app === key)!;
  const [ours, base] = [flood(r, 'ours'), flood(r, 'baseline')];
  const [rOurs, rBase] = [r.rotation.ours, r.rotation.baseline];
  const watched = r.rotation.watchedSeconds.toFixed(0);
  const timedMs = r.floods.reduce((s, f) => s + f.timedMs, 0);
  const ratios = (f: FloodRow) => ({ p50: f.during.p50Ms / f.quiet.p50Ms, p99: f.during.p99Ms / f.quiet.p99Ms });
  return {
    vars: {
      foreign: foreignCpuLine(r.foreignCpu, { what: `the latency phases (${ms(timedMs)}; the rest of the run is the rotation watch, whose result does not depend on CPU)`, seconds: r.floods.reduce((s, f) => s + f.foreignCpuSeconds, 0), wallSeconds: timedMs / 1000 }),
      floods: APPS.map(({ key }) => flood(r, key)).map((f) => ({ ...f, ...ratios(f), answers: statuses(f.flood.statuses), legit: statuses(f.during.statuses) })),
      rotationTable: APPS.map(({ key, name }) => ({ ...r.rotation[key], name, probeStatuses: statuses(r.rotation[key].statuses), trickle: statuses(r.rotation[key].trickleStatuses) })),
      ours: { ...ours, ...ratios(ours) },
      base: { ...base, ...ratios(base) },
      rOurs,
      rBase,
      ours20: node20 && flood(node20, 'ours'),
      base20: node20 && flood(node20, 'baseline'),
      watched,
      inCooldown: ours.secondsSinceLastFetchAtFloodStart !== undefined && ours.secondsSinceLastFetchAtFloodStart < 30,
      baseWarmUpUsedOne: base.jwksFetches < 5,
      sameTail: Math.abs(ours.during.p99Ms / base.during.p99Ms - 1) < 0.15,
      trickleEvery: 1000 / r.config.trickleRate,
      achieved: r.floods.map((f) => `${int(f.flood.achievedRatePerS)}/s against ${f.app === 'ours' ? 'ours' : 'the recipe'}`).join(', '),
    },
    chart: barChart(`JWKS flood (${int(r.config.floodRequests)} random kids): nestjs-obo vs passport-jwt + jwks-rsa`, `blue: nestjs-obo · red: the docs recipe · Node ${r.machine.node}`, [
      { title: `JWKS GETs: during the flood / during the ${watched} s watch after the rotation`, unit: 'count', scale: 'linear', bars: [{ label: 'nestjs-obo, flood', value: ours.jwksFetches, color: BLUE }, { label: 'nestjs-obo, watch', value: rOurs.jwksFetches, color: BLUE }, { label: 'recipe, flood', value: base.jwksFetches, color: RED }, { label: 'recipe, watch', value: rBase.jwksFetches, color: RED }] },
      { title: 'Legitimate requests, p99: without flood / during flood', unit: 'ms', bars: [{ label: 'nestjs-obo, no flood', value: ours.quiet.p99Ms, color: BLUE }, { label: 'nestjs-obo, flood', value: ours.during.p99Ms, color: BLUE }, { label: 'recipe, no flood', value: base.quiet.p99Ms, color: RED }, { label: 'recipe, flood', value: base.during.p99Ms, color: RED }] },
      {
        title: 'Time until a token signed with a rotated key is accepted',
        unit: 'ms',
        bars: [rOurs, rBase].map((o, i) => ({ label: i === 0 ? 'nestjs-obo' : 'recipe', color: i === 0 ? BLUE : RED, value: (o.firstAcceptedAfterSeconds ?? r.rotation.watchedSeconds) * 1000, open: o.firstAcceptedAfterSeconds === undefined, text: o.firstAcceptedAfterSeconds === undefined ? `never in ${watched} s` : undefined })),
      },
    ]),
  };
}

await benchMain(NAME, run, render);
