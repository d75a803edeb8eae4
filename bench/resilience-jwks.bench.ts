// JWKS flood: random `kid`s against ours (OboModule defaults) and baseline 3 (the NestJS docs
// recipe), each in its own process, the flood from a third; legitimate closed-loop load and the
// LocalAuthority (the ground-truth counters) here. Then a key rotation while random kids keep coming.
import { setTimeout as sleep } from 'node:timers/promises';
import { barChart, BLUE, RED } from './lib/chart.js';
import { startChild, type ChildServer } from './lib/child.js';
import { LocalAuthority } from '../libs/obo/testing/index.js';
import { closedLoop, get, keepAlive, type Reply } from './lib/load.js';
import { benchMain, ForeignCpu, foreignCpuLine, header, int, log, machineLine, ms, pick, table, times, type RunHeader } from './lib/report.js';
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
  readonly requests: number;
  readonly statuses: Record<string, number>;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly throughputPerS: number;
}
interface FloodRow {
  readonly app: AppKey;
  readonly name: string;
  readonly quiet: Latency;
  readonly during: Latency;
  readonly flood: FloodResult;
  readonly jwksFetches: number;
  readonly discoveryFetches: number;
  readonly secondsSinceLastFetchAtFloodStart?: number;
  readonly foreignCpuSeconds: number;
  readonly timedMs: number;
}
interface RotationRow {
  readonly probes: number;
  readonly statuses: Record<string, number>;
  readonly firstAcceptedAfterSeconds?: number;
  readonly rejectedBeforeFirstAccept: number;
  readonly trickleRequests: number;
  readonly trickleStatuses: Record<string, number>;
  readonly jwksFetches: number;
}
interface Result extends RunHeader {
  readonly config: typeof config;
  readonly foreignCpu: { seconds: number; share: number };
  readonly tokenLengthChars: number;
  readonly floods: readonly FloodRow[];
  readonly rotation: { watchedSeconds: number; windowReopensAfterS: number } & Record<AppKey, RotationRow>;
}

const latency = (replies: readonly Reply[], durationMs: number): Latency => {
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
  const plural = (n: number, one: string, many: string) => `${int(n)} ${n === 1 ? one : many}`;
  const watched = r.rotation.watchedSeconds.toFixed(0);
  const flood = (x: Result, key: AppKey) => x.floods.find((f) => f.app === key)!;
  const [ours, base] = [flood(r, 'ours'), flood(r, 'baseline')];
  const [rOurs, rBase] = [r.rotation.ours, r.rotation.baseline];
  const floodTable = (x: Result) =>
    table(
      ['app', 'flood requests (their answers)', 'JWKS GETs during the flood', 'discovery GETs', 'legit p50 without flood', 'with flood', 'ratio', 'legit p99 without flood', 'with flood', 'ratio', 'legit requests/s without → with', 'legit answers with flood'],
      'lrrrrrrrrrrl',
      APPS.map(({ key }) => flood(x, key)).map((f) => [f.name, `${int(f.flood.sent)} in ${ms(f.flood.durationMs)} (${statuses(f.flood.statuses)})`, `**${int(f.jwksFetches)}**`, int(f.discoveryFetches), ms(f.quiet.p50Ms), ms(f.during.p50Ms), times(f.during.p50Ms / f.quiet.p50Ms), ms(f.quiet.p99Ms), ms(f.during.p99Ms), times(f.during.p99Ms / f.quiet.p99Ms), `${int(f.quiet.throughputPerS)} → ${int(f.during.throughputPerS)}`, statuses(f.during.statuses)]),
    );
  const rotationTable = (x: Result) =>
    table(
      ['app', 'first new-key token accepted after', 'new-key tokens rejected before that', 'random-kid requests meanwhile', 'JWKS GETs meanwhile'],
      'lrrrr',
      APPS.map(({ key, name }) => {
        const o = x.rotation[key];
        return [name, o.firstAcceptedAfterSeconds === undefined ? `**never** in ${x.rotation.watchedSeconds.toFixed(0)} s` : `**${o.firstAcceptedAfterSeconds.toFixed(1)} s**`, `${int(o.rejectedBeforeFirstAccept)} of ${int(o.probes)} (${statuses(o.statuses)})`, `${int(o.trickleRequests)} (${statuses(o.trickleStatuses)})`, int(o.jwksFetches)];
      }),
    );
  const timedMs = r.floods.reduce((s, f) => s + f.timedMs, 0);
  const since = ours.secondsSinceLastFetchAtFloodStart;
  return {
    vars: {
      floodRequests: int(r.config.floodRequests),
      floodRate: int(r.config.floodRate),
      floodConcurrency: r.config.floodConcurrency,
      legitConcurrency: r.config.legitConcurrency,
      legitUsers: int(r.config.legitUsers),
      date: r.date,
      duration: r.durationSeconds,
      foreign: foreignCpuLine(r.foreignCpu, { what: `the latency phases (${ms(timedMs)}; the rest of the run is the rotation watch, whose result does not depend on CPU)`, seconds: r.floods.reduce((s, f) => s + f.foreignCpuSeconds, 0), wallSeconds: timedMs / 1000 }),
      machine: machineLine(r.machine, r.loadAverageAtEnd),
      jwksRsa: r.versions['jwks-rsa']!,
      limiter: r.versions.limiter!,
      passportJwt: r.versions['passport-jwt']!,
      nestjsPassport: r.versions['@nestjs/passport']!,
      floods: floodTable(r),
      rotation: rotationTable(r),
      node: r.machine.node,
      vsNode20: node20 ? `JWKS GETs during the flood: ours ${flood(node20, 'ours').jwksFetches}, the recipe ${flood(node20, 'baseline').jwksFetches}; legit throughput without a flood ours ${int(ours.quiet.throughputPerS)} req/s on Node 24 vs ${int(flood(node20, 'ours').quiet.throughputPerS)} on Node 20` : '',
      watched,
      trickleRate: r.config.trickleRate,
      windowReopens: r.rotation.windowReopensAfterS.toFixed(0),
      oursJwks: `${int(ours.jwksFetches)}** JWKS GET${ours.jwksFetches === 1 ? '' : 's'}`,
      oursSent: int(ours.flood.sent),
      oursWhy: since !== undefined && since < 30
        ? `: the flood began ${since.toFixed(0)} s after its last key-set fetch, inside the 30 s cooldown during which an unknown \`kid\` triggers no refetch (once it has passed, one unknown \`kid\` refetches and concurrent ones share that fetch)`
        : ': an unknown `kid` refetches the key set at most once per 30 s cooldown, and concurrent unknown kids share that fetch',
      oursTrickle: int(rOurs.trickleRequests),
      oursWatchFetches: plural(rOurs.jwksFetches, 'fetch', 'fetches'),
      baseJwks: int(base.jwksFetches),
      baseWarmUp: base.jwksFetches < 5 ? ' (its warm-up had used one: the first lookup of the valid key)' : '',
      oursP99: `${ms(ours.quiet.p99Ms)} → ${ms(ours.during.p99Ms)} (${times(ours.during.p99Ms / ours.quiet.p99Ms)})`,
      baseP99: `${ms(base.quiet.p99Ms)} → ${ms(base.during.p99Ms)} (${times(base.during.p99Ms / base.quiet.p99Ms)})`,
      oursP50: times(ours.during.p50Ms / ours.quiet.p50Ms),
      baseP50: times(base.during.p50Ms / base.quiet.p50Ms),
      throughput: `${int(ours.quiet.throughputPerS)} vs ${int(base.quiet.throughputPerS)} requests/s; during it: ${int(ours.during.throughputPerS)} vs ${int(base.during.throughputPerS)}`,
      sameTail: Math.abs(ours.during.p99Ms / base.during.p99Ms - 1) < 0.15 ? ' Both p99s during the flood land near the same value: with four busy processes on two cores, that tail is mostly time spent waiting for a core, whatever the app does.' : '',
      oursRotation: rOurs.firstAcceptedAfterSeconds === undefined ? `**never** within ${watched} s` : `after **${rOurs.firstAcceptedAfterSeconds.toFixed(1)} s**`,
      baseRotation: rBase.firstAcceptedAfterSeconds === undefined ? `rejected **every** new-key token for the ${watched} s we watched` : `accepted it after **${rBase.firstAcceptedAfterSeconds.toFixed(1)} s**`,
      baseWatchFetches: `${int(rBase.jwksFetches)} JWKS GET${rBase.jwksFetches === 1 ? '' : 's'}`,
      baseReopened: rBase.jwksFetches > 0
        ? ` When the window reopened (~${r.rotation.windowReopensAfterS.toFixed(0)} s after the rotation) its lookups went to whichever tokens came first: ${rBase.firstAcceptedAfterSeconds === undefined ? 'all to random kids, so the new key stayed out' : `one of them was our new-key probe, by luck of timing (the trickle sends a random kid every ${ms(1000 / r.config.trickleRate)})`}.`
        : '',
      tokenChars: int(r.tokenLengthChars),
      warmRequests: int(r.config.warmRequests),
      quiet: ms(r.config.quietMs),
      achieved: r.floods.map((f) => `${int(f.flood.achievedRatePerS)}/s against ${f.app === 'ours' ? 'ours' : 'the recipe'}`).join(', '),
    },
    chart: barChart(`JWKS flood (${int(r.config.floodRequests)} random kids): nestjs-obo vs passport-jwt + jwks-rsa`, `blue: nestjs-obo · red: the docs recipe · Node ${r.machine.node}`, [
      { title: `JWKS GETs: during the flood / during the ${watched} s watch after the rotation`, unit: 'count', scale: 'linear', bars: [{ label: 'nestjs-obo, flood', value: ours.jwksFetches, color: BLUE }, { label: 'nestjs-obo, watch', value: rOurs.jwksFetches, color: BLUE }, { label: 'recipe, flood', value: base.jwksFetches, color: RED }, { label: 'recipe, watch', value: rBase.jwksFetches, color: RED }] },
      { title: 'Legitimate requests, p99: without flood / during flood', unit: 'ms', bars: [{ label: 'nestjs-obo, no flood', value: ours.quiet.p99Ms, color: BLUE }, { label: 'nestjs-obo, flood', value: ours.during.p99Ms, color: BLUE }, { label: 'recipe, no flood', value: base.quiet.p99Ms, color: RED }, { label: 'recipe, flood', value: base.during.p99Ms, color: RED }] },
      {
        title: 'Time until a token signed with a rotated key is accepted',
        unit: 'ms',
        bars: [
          { label: 'nestjs-obo', value: (rOurs.firstAcceptedAfterSeconds ?? r.rotation.watchedSeconds) * 1000, color: BLUE, open: rOurs.firstAcceptedAfterSeconds === undefined },
          { label: 'recipe', value: (rBase.firstAcceptedAfterSeconds ?? r.rotation.watchedSeconds) * 1000, color: RED, open: rBase.firstAcceptedAfterSeconds === undefined, text: rBase.firstAcceptedAfterSeconds === undefined ? `never in ${watched} s` : undefined },
        ],
      },
    ]),
  };
}

await benchMain(NAME, run, render);
