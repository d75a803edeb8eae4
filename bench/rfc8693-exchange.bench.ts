// The RFC 8693 path (issue 10), measured the way the Entra benches measure theirs, against a
// LocalOidcAuthority in Auth0's dialect (https on 127.0.0.1, in this process) and our real code:
// TokenAcquisition + TokenCache + Rfc8693TokenExchanger (token endpoint from the SigningKeyStore's
// metadata, as OboModule wires it).
//   1. Cache hit: µs per TokenAcquisition.getAccessTokenForUser hit for 1 → 100,000 cached users,
//      with the Entra path (MsalTokenExchanger on a LocalAuthority) measured in the same rounds as a
//      reference, against the baseline Node services use today: openid-client v6 genericGrantRequest
//      per call, no cache (requests and latency per call).
//   2. Cold bursts: 1,000 concurrent first calls of one user; 1,000 users × 10 concurrent calls each:
//      token requests the authority received, wall time, failures; ours vs the baseline.
//   3. The token endpoint hangs: time-to-answer at our deadline vs openid-client's own timeout.
// Run with `npm run bench -- rfc8693-exchange` (scripts/bench.mjs).
import type { Server } from 'node:https';
import os from 'node:os';
import { Logger } from '@nestjs/common';
import type * as client from 'openid-client';
import type { Principal } from '../libs/obo/src/context/principal.js';
import { RequestContext } from '../libs/obo/src/context/request-context.service.js';
import { TokenAcquisition } from '../libs/obo/src/outbound/token-acquisition/token-acquisition.service.js';
import { mintAssertion, principalFor, startFixture } from './lib/fixture.js';
import { baselineExchange, buildRfc8693, mintOidcAssertion, oidcValidator, openidClientBaseline, startOidcFixture, syntheticPrincipal, VariantExchanger, type OursRfc8693 } from './lib/oidc-fixture.js';
import { errorCounts, percentile, runBurst, startBurst, type Settlement } from './lib/resilience-burst.js';
import { barChart } from './lib/resilience-chart.js';
import { buildOurs } from './lib/resilience-providers.js';
import { command, ForeignCpu, foreignCpuLine, int, intEnv, isDefaultRun, logger, machine, machineLine, ms, packageVersion, ratio, updateSection, writeChart, writeResult } from './lib/resilience-report.js';
import { pool, sample, summarize, type LatencySummary, type SamplingBounds } from './lib/stats.js';

const NAME = 'rfc8693-exchange';
function levels(name: string, fallback: number[]): number[] {
  const text = process.env[name];
  const list = text ? text.split(',').map((v) => Number(v.trim())) : fallback;
  if (!list.every((n) => Number.isInteger(n) && n > 0)) throw new Error(`${name} must be a comma-separated list of positive integers`);
  return [...new Set(list)].sort((a, b) => a - b);
}
const config = {
  /** 1. Cached users per level. */
  levels: levels('BENCH_LEVELS', [1, 1_000, 10_000, 100_000]),
  /** 1. Users cached through the real token endpoint (each a real exchange); beyond, synthetic users (see the Method). */
  realMax: Math.max(1, intEnv('BENCH_REAL_MAX', 5_000)),
  /** 1. The same for the Entra reference (msal-node On-Behalf-Of is slower to populate). */
  entraRealMax: Math.max(1, intEnv('BENCH_ENTRA_REAL_MAX', 1_000)),
  /** 1. Sampling rounds per level; each round samples ours (RFC 8693), the Entra reference, then the baseline. */
  rounds: Math.max(1, intEnv('BENCH_ROUNDS', 2)),
  hit: { maxMs: intEnv('BENCH_HIT_MAX_MS', 2_000), minSamples: intEnv('BENCH_HIT_MIN_SAMPLES', 1_000), maxSamples: intEnv('BENCH_HIT_MAX_SAMPLES', 100_000) },
  baseline: { maxMs: intEnv('BENCH_BASELINE_MAX_MS', 1_500), minSamples: intEnv('BENCH_BASELINE_MIN_SAMPLES', 20), maxSamples: intEnv('BENCH_BASELINE_MAX_SAMPLES', 2_000) },
  populateConcurrency: Math.max(1, intEnv('BENCH_CONCURRENCY', 16)),
  cacheMaxEntries: 200_000,
  /** 2a. Concurrent first calls of one user. */
  sameUserCalls: intEnv('BENCH_SAME_USER_CALLS', 1_000),
  /** 2b. Distinct users, each called `callsPerUser` times, all at once (ours and the baseline). */
  users: Math.max(1, intEnv('BENCH_USERS', 1_000)),
  callsPerUser: Math.max(1, intEnv('BENCH_CALLS_PER_USER', 10)),
  /** Sockets of the baseline's undici Agent (see openidClientBaseline). */
  baselineConnections: Math.max(1, intEnv('BENCH_BASELINE_CONNECTIONS', 128)),
  /** 2. Our deadline (`tokenAcquisition.timeoutMs`, at most 120 s) and openid-client's timeout in the bursts, in seconds; 3 uses the defaults. */
  burstTimeoutSeconds: Math.min(120, Math.max(1, intEnv('BENCH_BURST_TIMEOUT_S', 120))),
  /** 3. Concurrent first calls (distinct users) while the token endpoint hangs; 0 skips it. */
  outageCalls: intEnv('BENCH_OUTAGE_CALLS', 1_000),
  shortDeadlineMs: Math.max(1, intEnv('BENCH_SHORT_DEADLINE_MS', 2_000)),
  /** 3. How long we wait for the baseline's answers (openid-client's default timeout is 30 s). */
  baselineWaitSeconds: Math.max(1, intEnv('BENCH_BASELINE_WAIT_S', 40)),
};
// Failed provider calls log a warning each (thousands in the outage); the counts are reported instead.
Logger.overrideLogger(false);
const started = Date.now();
const log = logger(started);
const host = machine();
const foreign = new ForeignCpu();
const perRound = (b: SamplingBounds, rounds: number): SamplingBounds => ({ maxMs: b.maxMs / rounds, minSamples: Math.ceil(b.minSamples / rounds), maxSamples: Math.ceil(b.maxSamples / rounds) });

// ---- the two authorities and their users ----
const oidc = await startOidcFixture();
const { authority } = oidc;
const entra = await startFixture();
const scopes = [...oidc.scopes];
const target = { audience: oidc.downstreamAudience };
const entraScopes = [entra.scope];
const validator = oidcValidator(oidc);
const maxLevel = Math.max(...config.levels);
const burstUsers = Math.max(config.users, config.outageCalls, 2);
const realCount = Math.max(Math.min(maxLevel, config.realMax), burstUsers + 2);
/** Users 0 .. realCount-1: minted by the authority, validated by the module's AccessTokenValidator (Auth0 profile). */
const principals: Principal[] = [];
for (let i = 0; i < realCount; i++) principals.push(await validator.validate(mintOidcAssertion(oidc, i)));
const userIdOf = (i: number) => `auth0|${i.toString(16).padStart(24, '0')}`;
const oidcUser = (i: number): Principal => (principals[i] ??= syntheticPrincipal(principals[0]!, i, userIdOf, 'sub'));
const entraPrincipals: Principal[] = [];
const entraOidOf = (i: number) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
const entraUser = (i: number): Principal => {
  if (entraPrincipals[i]) return entraPrincipals[i];
  if (i < config.entraRealMax) return (entraPrincipals[i] = principalFor(mintAssertion(entra, i)));
  return (entraPrincipals[i] = syntheticPrincipal(entraUser(0), i, entraOidOf, 'oid'));
};
log(`${int(realCount)} Auth0-dialect user tokens minted and validated (${principals[0]!.assertion.length} characters each)`);

// ---- 1. cache hit ----
const ours = buildRfc8693(oidc, { cacheMaxEntries: config.cacheMaxEntries });
const context = new RequestContext();
const entraOurs = buildOurs(entra, { cacheMaxEntries: config.cacheMaxEntries });
authority.resetCounters();

interface Population {
  count: number;
  real: number;
  readonly populator: TokenAcquisition;
  readonly stub: VariantExchanger;
}
const oursCall = (i: number) => ours.acquisition.getAccessTokenForUser(scopes, { principal: oidcUser(i), ...target });
const entraCall = (i: number) => entraOurs.acquisition.getAccessTokenForUser(entraScopes, { principal: entraUser(i) });
// User 0 of each path is cached through its real token endpoint first; its token is the template of synthetic users' entries.
const firstOursToken = await oursCall(0);
const firstEntraToken = await entraCall(0);
/** Writes synthetic users' entries through the public path, into the measured cache: the token user 0 really got, with the user's number in its signature part. */
function population({ options, cache }: Pick<OursRfc8693, 'options' | 'cache'>, template: string, lifetimeSeconds: number): Population {
  const stub = new VariantExchanger(template, lifetimeSeconds * 1000);
  return { count: 1, real: 1, stub, populator: new TokenAcquisition(options, context, cache, stub.asExchanger()) };
}
const oursPop = population(ours, firstOursToken, authority.tokenLifetimeSeconds);
const entraPop = population(entraOurs, firstEntraToken, entra.authority.tokenLifetimeSeconds);

async function populate(pop: Population, users: number, realMax: number, call: (acquisition: TokenAcquisition, i: number) => Promise<string>, measured: TokenAcquisition): Promise<void> {
  if (pop.count >= users) return;
  const realEnd = Math.min(users, Math.max(pop.count, realMax));
  await pool(pop.count, realEnd, config.populateConcurrency, async (i) => void (await call(measured, i)));
  await pool(realEnd, users, config.populateConcurrency, async (i) => void (await call(pop.populator, i)));
  pop.real += realEnd - pop.count;
  pop.count = users;
}

interface HitLevel {
  readonly users: number;
  readonly ours: LatencySummary & { readonly realUsers: number; readonly syntheticUsers: number; readonly cacheEntries: number };
  readonly entra: LatencySummary & { readonly realUsers: number; readonly syntheticUsers: number; readonly cacheEntries: number };
  readonly baseline: LatencySummary & { readonly calls: number; readonly tokenRequests: number; readonly requestsPerCall: number; readonly usersSampled: number };
  readonly entraOverOurs: number;
  readonly baselineOverOurs: number;
}
const hitLevels: HitLevel[] = [];
for (const users of config.levels) {
  log(`level ${int(users)}: populating (RFC 8693 ${int(oursPop.count)} → ${int(users)}, Entra ${int(entraPop.count)} → ${int(users)})`);
  await populate(oursPop, users, config.realMax, (a, i) => a.getAccessTokenForUser(scopes, { principal: oidcUser(i), ...target }), ours.acquisition);
  await populate(entraPop, users, config.entraRealMax, (a, i) => a.getAccessTokenForUser(entraScopes, { principal: entraUser(i) }), entraOurs.acquisition);
  if (ours.cache.size !== users) throw new Error(`our RFC 8693 cache holds ${ours.cache.size} entries, expected ${users}`);
  if (entraOurs.cache.size !== users) throw new Error(`the Entra cache holds ${entraOurs.cache.size} entries, expected ${users}`);

  // Measure: alternate ours, the Entra reference and the baseline; ours and Entra must not reach any provider.
  const providerBefore = () => ({
    oidc: authority.requests.token + authority.requests.openidConfiguration + authority.requests.authorizationServerMetadata + authority.requests.jwks,
    entra: entra.authority.requests.token + entra.authority.requests.discovery,
    calls: ours.exchanger.providerCalls + entraOurs.exchanger.providerCalls + oursPop.stub.calls + entraPop.stub.calls,
  });
  const check = (token: string, i: number) => {
    if (typeof token !== 'string' || token.length === 0) throw new Error(`user ${i}: no token`);
  };
  const baselineUsers = Math.min(users, realCount);
  // A new baseline client per level (discovery outside the rounds): the authority closes keep-alive sockets idle for
  // 5 s, and a socket reused while it does so fails with ECONNRESET (openid-client does not retry).
  const baseline = await openidClientBaseline(oidc, config.baselineConnections);
  const baselineCall = (i: number) => baselineExchange(baseline.config, oidc, principals[i]!.assertion);
  await sample(users, { maxMs: 300, minSamples: 1_000, maxSamples: 5_000 }, oursCall, check); // warm-up
  await sample(users, { maxMs: 300, minSamples: 1_000, maxSamples: 5_000 }, entraCall, check);
  await sample(baselineUsers, { maxMs: 200, minSamples: 5, maxSamples: 200 }, baselineCall, check);
  const samples = { ours: [] as number[], entra: [] as number[], baseline: [] as number[] };
  let baselineTokenRequests = 0;
  for (let round = 0; round < config.rounds; round++) {
    const before = providerBefore();
    samples.ours.push(...(await sample(users, perRound(config.hit, config.rounds), oursCall, check)));
    samples.entra.push(...(await sample(users, perRound(config.hit, config.rounds), entraCall, check)));
    const after = providerBefore();
    if (after.oidc !== before.oidc || after.entra !== before.entra || after.calls !== before.calls) {
      throw new Error(`provider requests during hit measurement at ${users} users: ${JSON.stringify({ before, after })}`);
    }
    const tokensBefore = authority.requests.token;
    samples.baseline.push(...(await sample(baselineUsers, perRound(config.baseline, config.rounds), baselineCall, check)));
    baselineTokenRequests += authority.requests.token - tokensBefore;
    log(`@ ${int(users)}: round ${round + 1}/${config.rounds}: ${samples.ours.length} / ${samples.entra.length} / ${samples.baseline.length} samples`);
  }
  const o = summarize(samples.ours);
  const e = summarize(samples.entra);
  const b = summarize(samples.baseline);
  const level: HitLevel = {
    users,
    ours: { ...o, realUsers: oursPop.real, syntheticUsers: oursPop.count - oursPop.real, cacheEntries: ours.cache.size },
    entra: { ...e, realUsers: entraPop.real, syntheticUsers: entraPop.count - entraPop.real, cacheEntries: entraOurs.cache.size },
    baseline: { ...b, calls: samples.baseline.length, tokenRequests: baselineTokenRequests, requestsPerCall: baselineTokenRequests / samples.baseline.length, usersSampled: baselineUsers },
    entraOverOurs: e.medianUs / o.medianUs,
    baselineOverOurs: b.medianUs / o.medianUs,
  };
  hitLevels.push(level);
  await baseline.close();
  log(
    `@ ${int(users)} users: RFC 8693 median ${o.medianUs} µs p99 ${o.p99Us} µs (${o.samples}); Entra median ${e.medianUs} µs (${e.samples}); ` +
      `baseline median ${b.medianUs} µs, ${level.baseline.requestsPerCall.toFixed(2)} token requests per call (${b.samples}); baseline ÷ ours ${ratio(level.baselineOverOurs)}`,
  );
}
await entra.authority.close();

// ---- 2. cold bursts: token requests the authority receives ----
interface Count {
  readonly token: number;
  readonly exchanges: number;
  readonly discovery: number;
  readonly jwks: number;
}
function counts(): Count {
  const r = authority.requests;
  return { token: r.token, exchanges: authority.tokenRequests.tokenExchange, discovery: r.openidConfiguration + r.authorizationServerMetadata, jwks: r.jwks };
}
type Client = 'ours' | 'baseline';
interface BurstRow {
  readonly scenario: 'one user' | 'many users';
  readonly state: 'cold' | 'warm' | 'discovered at startup';
  readonly client: Client;
  readonly users: number;
  readonly callsPerUser: number;
  readonly calls: number;
  readonly tokenRequests: number;
  readonly discoveryRequests: number;
  readonly jwksRequests: number;
  /** TLS connections the authority accepted during the burst (results JSON and log only). */
  readonly tlsConnections: number;
  readonly target?: number;
  readonly failed: number;
  readonly errors: Record<string, number>;
  readonly distinctTokens: number;
  readonly wallMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Calls afterwards, one per user: all must be cache hits (ours). */
  readonly followUp?: { readonly calls: number; readonly tokenRequests: number };
}
const bursts: BurstRow[] = [];
let tlsConnections = 0;
(authority as unknown as { server: Server }).server.on('secureConnection', () => tlsConnections++);
async function measureBurst(scenario: BurstRow['scenario'], state: BurstRow['state'], clientName: Client, users: number, callsPerUser: number, targetCount: number | undefined, call: (p: Principal) => Promise<string>, followUp: boolean): Promise<BurstRow> {
  authority.resetCounters();
  const tls0 = tlsConnections;
  const calls = users * callsPerUser;
  // Call i is user i % users: every user's calls are spread over the whole burst.
  const { settled, wallMs } = await runBurst(calls, (i) => call(principals[i % users]!));
  const c = counts();
  const tls = tlsConnections - tls0;
  const times = settled.map((s) => s.ms);
  let follow: BurstRow['followUp'];
  if (followUp) {
    const before = authority.requests.token;
    await runBurst(users, (i) => call(principals[i]!));
    follow = { calls: users, tokenRequests: authority.requests.token - before };
  }
  if (c.exchanges !== c.token) throw new Error(`${scenario}/${clientName}: ${c.token} token requests but ${c.exchanges} token exchanges`);
  const row: BurstRow = {
    scenario,
    state,
    client: clientName,
    users,
    callsPerUser,
    calls,
    tokenRequests: c.token,
    discoveryRequests: c.discovery,
    jwksRequests: c.jwks,
    tlsConnections: tls,
    target: targetCount,
    failed: settled.filter((s) => !s.ok).length,
    errors: errorCounts(settled),
    distinctTokens: new Set(settled.filter((s) => s.ok).map((s) => s.value)).size,
    wallMs,
    p50Ms: percentile(times, 0.5),
    p99Ms: percentile(times, 0.99),
    followUp: follow,
  };
  bursts.push(row);
  log(
    `${scenario} (${state}) / ${clientName}: ${int(calls)} calls (${users} users × ${callsPerUser}) → ${c.token} token POSTs, ${c.discovery} discovery GETs, ${c.jwks} JWKS GETs, ${tls} TLS connections, ` +
      `${row.failed} failed, ${row.distinctTokens} distinct tokens, wall ${ms(wallMs)}` +
      (follow ? `; follow-up ${follow.calls} calls → ${follow.tokenRequests} token POSTs` : ''),
  );
  return row;
}
const warmUser = principals[burstUsers]!;
const warmUser2 = principals[burstUsers + 1]!;
const ourBurstCall = (o: OursRfc8693) => (p: Principal) => o.acquisition.getAccessTokenForUser(scopes, { principal: p, ...target });
const baselineBurstCall = (config: client.Configuration) => (p: Principal) => baselineExchange(config, oidc, p.assertion);
for (const [scenario, users, callsPerUser] of [
  ['one user', 1, config.sameUserCalls],
  ['many users', config.users, config.callsPerUser],
] as const) {
  // "cold": new providers, nothing loaded (the first exchange loads the metadata and keys); "warm": one exchange for another user first.
  for (const warm of [false, true]) {
    const o = buildRfc8693(oidc, { timeoutMs: config.burstTimeoutSeconds * 1000 });
    if (warm) await o.acquisition.getAccessTokenForUser(scopes, { principal: warmUser, ...target });
    await measureBurst(scenario, warm ? 'warm' : 'cold', 'ours', users, callsPerUser, users, ourBurstCall(o), true);
  }
  // The baseline discovers once at startup (its own code path before any call), then exchanges per call.
  // Both clients wait longer than their defaults (10 s, 30 s): the authority shares this process's event loop and
  // mints one token per request, and its throughput on 2 shared cores must not turn into failures of either.
  const b = await openidClientBaseline(oidc, config.baselineConnections, config.burstTimeoutSeconds);
  await measureBurst(scenario, 'discovered at startup', 'baseline', users, callsPerUser, undefined, baselineBurstCall(b.config), false);
  await b.close();
}

// ---- 3. the token endpoint hangs ----
interface OutageRow {
  readonly client: Client;
  readonly label: string;
  readonly deadlineMs?: number;
  readonly calls: number;
  readonly answered: number;
  readonly waitedMs: number;
  readonly tokenRequests: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly maxMs?: number;
  readonly errors: Record<string, number>;
}
const outages: OutageRow[] = [];
let outageTimed = { seconds: 0, wallSeconds: 0 };
let baselineTimeoutSeconds = 30;
if (config.outageCalls > 0) {
  // Services whose providers already made one exchange (metadata loaded): a running service whose authority starts hanging.
  const ours10 = buildRfc8693(oidc);
  const oursShort = buildRfc8693(oidc, { timeoutMs: config.shortDeadlineMs });
  const b = await openidClientBaseline(oidc, config.baselineConnections);
  baselineTimeoutSeconds = b.config.timeout ?? 30;
  await ours10.acquisition.getAccessTokenForUser(scopes, { principal: warmUser, ...target });
  await oursShort.acquisition.getAccessTokenForUser(scopes, { principal: warmUser, ...target });
  await baselineExchange(b.config, oidc, warmUser2.assertion);
  authority.resetCounters();
  authority.injectTokenFault({ kind: 'hang' });
  const n = config.outageCalls;
  // The baseline first: its calls stay pending while ours run (hung sockets cost no CPU).
  const before = counts();
  const baselineBurst = startBurst(n, (i) => baselineExchange(b.config, oidc, principals[i]!.assertion));
  for (let i = 0; i < 40 && authority.requests.token - before.token < Math.min(n, config.baselineConnections); i++) await new Promise((r) => setTimeout(r, 50));
  const baselineArrived = authority.requests.token - before.token;
  log(`outage: baseline burst of ${n} started (${baselineArrived} token POSTs arrived); we stop waiting after ${config.baselineWaitSeconds} s`);
  const oursRow = async (label: string, o: OursRfc8693): Promise<void> => {
    const c0 = counts();
    const burst = startBurst(n, (i) => o.acquisition.getAccessTokenForUser(scopes, { principal: principals[i]!, ...target }));
    const settled = await burst.done;
    const wallMs = performance.now() - burst.startedAt;
    await new Promise((r) => setTimeout(r, 200)); // let late requests arrive
    const times = settled.map((s) => s.ms);
    const row: OutageRow = {
      client: 'ours',
      label,
      deadlineMs: o.options.tokenAcquisition.timeoutMs,
      calls: n,
      answered: settled.length,
      waitedMs: wallMs,
      tokenRequests: counts().token - c0.token,
      p50Ms: percentile(times, 0.5),
      p99Ms: percentile(times, 0.99),
      maxMs: Math.max(...times),
      errors: errorCounts(settled),
    };
    outages.push(row);
    log(`outage / ours ${label}: ${n} calls answered, p50 ${ms(row.p50Ms)}, p99 ${ms(row.p99Ms)}, max ${ms(row.maxMs)}; ${row.tokenRequests} token POSTs; ${JSON.stringify(row.errors)}`);
  };
  const foreignBefore = foreign.seconds();
  const timedFrom = performance.now();
  await oursRow('default deadline', ours10);
  await oursRow(`deadline ${config.shortDeadlineMs / 1000} s`, oursShort);
  outageTimed = { seconds: foreign.seconds() - foreignBefore, wallSeconds: (performance.now() - timedFrom) / 1000 };
  const waitUntil = baselineBurst.startedAt + config.baselineWaitSeconds * 1000;
  while (performance.now() < waitUntil && baselineBurst.settled.length < n) await new Promise((r) => setTimeout(r, Math.min(250, Math.max(1, waitUntil - performance.now()))));
  const answered: Settlement<string>[] = [...baselineBurst.settled];
  const times = answered.map((s) => s.ms);
  outages.push({
    client: 'baseline',
    label: 'openid-client genericGrantRequest (defaults)',
    calls: n,
    answered: answered.length,
    waitedMs: performance.now() - baselineBurst.startedAt,
    tokenRequests: baselineArrived,
    p50Ms: answered.length === n ? percentile(times, 0.5) : undefined,
    p99Ms: answered.length === n ? percentile(times, 0.99) : undefined,
    maxMs: answered.length > 0 ? Math.max(...times) : undefined,
    errors: errorCounts(answered),
  });
  log(`outage / baseline: ${answered.length} of ${n} calls answered; p50 ${ms(percentile(times, 0.5))}, max ${ms(Math.max(...times))}; ${JSON.stringify(errorCounts(answered))}`);
  authority.clearTokenFaults();
  await Promise.race([b.close(), new Promise((r) => setTimeout(r, 1_000))]);
}
// close() waits for every socket; do not let a straggler hold the run.
await Promise.race([authority.close(), new Promise((r) => setTimeout(r, 3_000))]);

// ---- results ----
const loadAtEnd = os.loadavg();
const foreignCpu = { seconds: foreign.seconds(), share: foreign.share(), top: foreign.top(), outageTimed };
foreign.stop();
const date = new Date(started).toISOString();
const result = {
  name: NAME,
  date,
  durationSeconds: Math.round((Date.now() - started) / 1000),
  command,
  machine: host,
  loadAverageAtEnd: loadAtEnd,
  foreignCpu,
  versions: { openidClient: packageVersion('openid-client'), undici: packageVersion('undici'), msalNode: packageVersion('@azure/msal-node'), lruCache: packageVersion('lru-cache') },
  config: { ...config, isDefaultRun },
  tokens: { subjectTokenChars: principals[0]!.assertion.length, issuedTokenChars: firstOursToken.length, entraAssertionChars: entraUser(0).assertion.length, entraIssuedTokenChars: firstEntraToken.length },
  baselineTimeoutSeconds,
  hitLevels,
  bursts,
  outages,
};
const file = writeResult(NAME, date, result);
log(`results: ${file}`);

const chartPath = `bench/${NAME}.svg`;
const errorList = (errors: Record<string, number>) => Object.entries(errors).map(([k, v]) => `${k} ×${int(v)}`).join(', ');
const us = (v: number) => ms(v / 1000);
const first = hitLevels[0]!;
const last = hitLevels.at(-1)!;
const hitLine = (l: HitLevel) =>
  `| ${int(l.users)} | ${us(l.ours.medianUs)} | ${us(l.ours.p99Us)} | ${int(l.ours.samples)} | ${us(l.entra.medianUs)} | ${us(l.entra.p99Us)} | ${int(l.entra.samples)} | ${(l.ours.medianUs / l.entra.medianUs).toFixed(2)} | ` +
  `${us(l.baseline.medianUs)} | ${us(l.baseline.p99Us)} | ${int(l.baseline.calls)} | ${l.baseline.requestsPerCall.toFixed(2)} | ${ratio(l.baselineOverOurs)} |`;
const clientLabel = (r: BurstRow) => (r.client === 'ours' ? 'nestjs-obo (RFC 8693)' : 'openid-client `genericGrantRequest`');
const burstLine = (r: BurstRow) =>
  `| ${r.scenario === 'one user' ? `1 user × ${int(r.calls)}` : `${int(r.users)} users × ${r.callsPerUser}`} | ${r.state} | ${clientLabel(r)} | ${int(r.calls)} | **${int(r.tokenRequests)}** | ${r.target === undefined ? '–' : int(r.target)} | ` +
  `${int(r.discoveryRequests)} / ${int(r.jwksRequests)} | ${int(r.distinctTokens)} | ${r.failed === 0 ? '0' : `${int(r.failed)} (${errorList(r.errors)})`} | ${ms(r.wallMs)} | ${ms(r.p50Ms)} | ${ms(r.p99Ms)} | ${r.followUp ? `${int(r.followUp.tokenRequests)} / ${int(r.followUp.calls)}` : '–'} |`;
const outageLine = (o: OutageRow) =>
  `| ${o.client === 'ours' ? `nestjs-obo, ${o.label}` : `openid-client (defaults: ${baselineTimeoutSeconds} s timeout)`} | ${int(o.calls)} | ${o.answered === o.calls ? int(o.answered) : `**${int(o.answered)}** within ${ms(o.waitedMs)}`} | ` +
  `${o.p50Ms === undefined ? `> ${ms(o.waitedMs)}` : ms(o.p50Ms)} | ${o.p99Ms === undefined ? `> ${ms(o.waitedMs)}` : ms(o.p99Ms)} | ${o.maxMs === undefined ? '–' : ms(o.maxMs)} | ${int(o.tokenRequests)} | ${errorList(o.errors) || '–'} |`;
const row = (scenario: BurstRow['scenario'], c: Client, state?: BurstRow['state']) => bursts.find((r) => r.scenario === scenario && r.client === c && (state === undefined || r.state === state))!;
const a = { cold: row('one user', 'ours', 'cold'), warm: row('one user', 'ours', 'warm'), base: row('one user', 'baseline') };
const b = { cold: row('many users', 'ours', 'cold'), warm: row('many users', 'ours', 'warm'), base: row('many users', 'baseline') };
const oDefault = outages.find((o) => o.client === 'ours' && o.label === 'default deadline');
const oShort = outages.find((o) => o.client === 'ours' && o.label !== 'default deadline');
const oBase = outages.find((o) => o.client === 'baseline');
const minMax = (values: number[]) => {
  const [lo, hi] = [Math.min(...values).toFixed(2), Math.max(...values).toFixed(2)];
  return lo === hi ? lo : `${lo}–${hi}`;
};
const realNote = (l: HitLevel['ours']) => (l.syntheticUsers === 0 ? `${int(l.realUsers)} real` : `${int(l.realUsers)} real + ${int(l.syntheticUsers)} synthetic`);

const section = [
  '## The RFC 8693 path (Auth0 dialect): cache hits and cold bursts, nestjs-obo vs openid-client per call',
  '',
  'One process, one run, one `LocalOidcAuthority` in the Auth0 dialect (`libs/obo/testing`, https on 127.0.0.1, in this process, on the same cores) whose request counters are the ground truth.',
  "**Ours** is the module's real providers built without Nest DI, as `OboModule` wires them for `provider: 'oidc'`: `resolveOboOptions({ issuer, audience, tokenProfile: 'auth0', clientId, clientSecret })`, `SigningKeyStore` (the token endpoint comes from its metadata),",
  '`TokenCache`, `Rfc8693TokenExchanger` (`client_secret_basic`), `RequestContext`, `TokenAcquisition`, called through `TokenAcquisition.getAccessTokenForUser([\'read:data\'], { principal, audience })`. The **Entra reference** is the same providers with',
  '`MsalTokenExchanger` against a `LocalAuthority` (the path of the sections above), called through `getAccessTokenForUser(scopes, { principal })` in the same rounds. The **baseline** is what a Node service does today for a token exchange:',
  "openid-client v6, `discovery()` once at startup, then `genericGrantRequest(config, 'urn:ietf:params:oauth:grant-type:token-exchange', { subject_token, subject_token_type, requested_token_type, audience, scope })` per call, `client_secret_basic`, nothing cached (Auth0's own `@auth0/auth0-api-js` `getTokenOnBehalfOf` also exchanges on every call; it is not measured here).",
  '',
  `- **Run:** ${date}, ${result.durationSeconds} s in total; ${foreignCpuLine(foreignCpu.seconds, foreignCpu.share, config.outageCalls > 0 ? { what: `our outage rows (${outageTimed.wallSeconds.toFixed(0)} s)`, ...outageTimed } : undefined)}.`,
  `- **Machine:** ${machineLine(host, loadAtEnd)}.`,
  `- **Libraries:** openid-client ${result.versions.openidClient}, undici ${result.versions.undici}, @azure/msal-node ${result.versions.msalNode}, lru-cache ${result.versions.lruCache}.`,
  `- **Command:** \`${command} -- ${NAME}\` (\`node scripts/bench.mjs ${NAME}\`: trusts the local authorities' TLS certificate, compiles \`bench/\` with \`tsc -p tsconfig.bench.json\`, runs \`node --expose-gc dist/bench/bench/${NAME}.bench.js\`; JSON in \`bench/results/\`). Also part of \`${command}\`.`,
  '',
  '### Cache hit: µs per call vs cached users',
  '',
  `Medians over all rounds of one run; "÷" columns are ratios of medians from the same rounds. The baseline has no cache: every call is a token request (the authority counted them), so its column is the latency of one exchange per call, on loopback, with the authority minting and RS256-signing the downstream token on the same 2 cores.`,
  '',
  '| cached users | RFC 8693 median | p99 | samples | Entra median | p99 | samples | RFC 8693 ÷ Entra | baseline per call (median) | p99 | calls | token requests per call | baseline ÷ ours (median) |',
  '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...hitLevels.map(hitLine),
  '',
  `![Token requests per burst and time-to-answer while the token endpoint hangs, RFC 8693 path](${chartPath})`,
  '',
  '### Reading',
  '',
  `- **Ours on the RFC 8693 path:** median hit ${us(first.ours.medianUs)} at ${int(first.users)} cached ${first.users === 1 ? 'user' : 'users'} and ${us(last.ours.medianUs)} at ${int(last.users)} (${(last.ours.medianUs / first.ours.medianUs).toFixed(1)}×); p99 ${us(Math.min(...hitLevels.map((l) => l.ours.p99Us)))}–${us(Math.max(...hitLevels.map((l) => l.ours.p99Us)))}. No provider request was made during any round (checked).`,
  `- **Against the Entra path, same rounds:** RFC 8693 ÷ Entra ${minMax(hitLevels.map((l) => l.ours.medianUs / l.entra.medianUs))} across the levels. The hit path is the same provider-neutral code (the remembered per-Principal SHA-256 key, one LRU lookup); per call the RFC 8693 path also checks the \`audience\` it is given (\`tokenTarget\`: a printable-text test) and builds and hashes a longer per-Principal key text (issuer, scopes and audience, where Entra has the tenant GUID and scopes).`,
  `- **Against the baseline:** openid-client made ${minMax(hitLevels.map((l) => l.baseline.requestsPerCall))} token requests per call (it has no cache), at a median ${us(Math.min(...hitLevels.map((l) => l.baseline.medianUs)))}–${us(Math.max(...hitLevels.map((l) => l.baseline.medianUs)))} per call: **${ratio(Math.min(...hitLevels.map((l) => l.baselineOverOurs)))}–${ratio(Math.max(...hitLevels.map((l) => l.baselineOverOurs)))}** our hit's median. That is a loopback authority on the same cores; a real Auth0 tenant adds a network round trip (typically tens of ms) and its token-endpoint rate limits to every one of those calls, so against a real authority the gap is larger.`,
  '- The machine has 2 noisy cores: read medians and ratios within this run; absolute times move from run to run.',
  '',
  '### Cold bursts: token requests',
  '',
  "All calls of a burst start in the same tick; call *i* belongs to user *i* mod *users*, so each user's calls are spread over the whole burst. Every user has its own Auth0-dialect access token for our API, minted and RS256-signed by the authority (a real subject token that the token endpoint verifies).",
  '**Cold**: new providers whose `SigningKeyStore` has loaded nothing (the first exchange loads the metadata and the JWKS; in a running `OboModule` the store is loaded at startup and by the first inbound request, so this is the worst case). **Warm**: the providers made one exchange for another user first. The baseline discovers once at startup (outside the calls), then exchanges per call.',
  '',
  '| burst | state | client | calls | token requests | target | discovery / JWKS GETs | distinct tokens returned | failed | wall time | p50 time-to-answer | p99 | follow-up: requests / calls |',
  '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...bursts.map(burstLine),
  '',
  '"Follow-up": right after the burst, one more call per user; each must be a cache hit (0 requests). Time-to-answer is from the start of the burst, and includes the authority verifying the subject token and minting and signing a token per request on the same 2 cores.',
  '',
  '### Reading (bursts)',
  '',
  `- **One user, ${int(a.cold.calls)} concurrent first calls:** ours made **${int(a.cold.tokenRequests)}** token request${a.cold.tokenRequests === 1 ? '' : 's'} cold (with ${int(a.cold.discoveryRequests)} discovery and ${int(a.cold.jwksRequests)} JWKS GET) and **${int(a.warm.tokenRequests)}** warm (target 1); ${a.cold.distinctTokens === 1 && a.warm.distinctTokens === 1 ? 'every caller got the same token' : `callers got ${a.cold.distinctTokens} / ${a.warm.distinctTokens} distinct tokens`}. The baseline made **${int(a.base.tokenRequests)}** (${ratio(a.base.tokenRequests / Math.max(1, a.warm.tokenRequests))} ours), wall time ${ms(a.base.wallMs)} against ours ${ms(a.warm.wallMs)} warm / ${ms(a.cold.wallMs)} cold. Our \`TokenCache\` runs one acquisition per cache key for all concurrent callers (single flight), and \`TokenRequestRunner\` lets the first request to a cold authority run alone, so the metadata is loaded once.`,
  `- **${int(b.cold.users)} users × ${b.cold.callsPerUser} concurrent calls:** ours made **${int(b.cold.tokenRequests)}** token requests cold and **${int(b.warm.tokenRequests)}** warm for ${int(b.cold.calls)} calls (target ${int(b.cold.users)}: one per user), wall time ${ms(b.cold.wallMs)} cold / ${ms(b.warm.wallMs)} warm; the baseline made **${int(b.base.tokenRequests)}** for ${int(b.base.calls)} calls (${(b.base.tokenRequests / b.base.calls).toFixed(2)} per call; ours ${(b.warm.tokenRequests / b.warm.calls).toFixed(2)}), wall time ${ms(b.base.wallMs)}. Failures: ours ${int(b.cold.failed + b.warm.failed + a.cold.failed + a.warm.failed)}, the baseline ${int(b.base.failed + a.base.failed)}.`,
  '- The request counts do not depend on the machine; the times do (authority and clients share the 2 cores: the baseline\'s wall time is mostly the authority minting one token per call).',
  ...(oDefault && oShort && oBase
    ? [
        '',
        '### The token endpoint hangs: time-to-answer',
        '',
        `The token endpoint accepts every request and never answers (\`authority.injectTokenFault({ kind: 'hang' })\`; discovery still works). ${int(config.outageCalls)} distinct users call at once (first calls: nothing cached); every client made one successful exchange first.`,
        'Time-to-answer is from the start of the burst until each call settles (with an error, as it must). The baseline\'s calls are started first and stay pending while ours run (hung sockets cost no CPU).',
        '',
        '| client | calls | answered | p50 | p99 | max | token requests | errors |',
        '|---|---:|---:|---:|---:|---:|---:|---|',
        ...outages.map(outageLine),
        '',
        `- Ours answered every call with \`${Object.keys(oShort.errors).join(', ')}\` (the exception filter makes it a 504 with \`Retry-After\`): p99 ${ms(oDefault.p99Ms)} at the default deadline (${(oDefault.deadlineMs ?? 0) / 1000} s), ${ms(oShort.p99Ms)} with \`tokenAcquisition.timeoutMs: ${config.shortDeadlineMs}\`. ` +
          (oBase.p99Ms !== undefined
            ? `openid-client answered at its own default timeout (${baselineTimeoutSeconds} s): p50 ${ms(oBase.p50Ms)}, p99 ${ms(oBase.p99Ms)} (${errorList(oBase.errors)}); ours answers ${ratio(oBase.p99Ms / (oShort.p99Ms ?? 1))} sooner at p99 with the ${config.shortDeadlineMs / 1000} s deadline, ${ratio(oBase.p99Ms / (oDefault.p99Ms ?? 1))} with the default.`
            : `openid-client answered ${int(oBase.answered)} of ${int(oBase.calls)} calls within the ${ms(oBase.waitedMs)} we waited (its default timeout is ${baselineTimeoutSeconds} s).`),
        `- Token requests: the baseline's undici Agent (${config.baselineConnections} connections) let ${int(oBase.tokenRequests)} of its calls reach the hung endpoint; the others waited in its queue until the timeout. Ours sent at most one request per call (no retry: a second attempt would not fit in the deadline).`,
      ]
    : []),
  '',
  '### Method',
  '',
  `- **Users (cache hit):** the first ${int(Math.min(config.realMax, maxLevel))} users are real: each has its own access token for our API in Auth0's default dialect (RS256, \`typ\` JWT, \`aud\` [API, userinfo], \`scope\`, \`permissions\`, \`azp\`; ${result.tokens.subjectTokenChars} characters), minted by the authority and turned into a \`Principal\` by the module's own \`AccessTokenValidator\` (auth0 profile), and was cached through a real RFC 8693 exchange (a miss of \`getAccessTokenForUser\`: the authority verified the subject token, authenticated the client and issued a ${result.tokens.issuedTokenChars}-character token), ${config.populateConcurrency} in flight.`,
  `  Beyond that, users are **synthetic**: user 0's validated \`Principal\` with its own \`sub\`, and user 0's token with the user's number written into its signature part; their entries are written through the same public path by a second \`TokenAcquisition\` that shares the measured \`TokenCache\` and whose exchanger answers at once with the token user 0 really got, with the call's number in its signature part (as in the churn benchmark). A hit never looks at a signature, so this changes nothing that is measured; it keeps the run to minutes (every real user costs the authority two RS256 signatures).`,
  `  The Entra reference likewise: ${int(Math.min(config.entraRealMax, maxLevel))} real users (Entra v2.0 tokens, msal-node On-Behalf-Of against the \`LocalAuthority\`), then synthetic users with their own \`oid\`. Per level: ${hitLevels.map((l) => `${int(l.users)}: RFC 8693 ${realNote(l.ours)}, Entra ${realNote(l.entra)}`).join('; ')}.`,
  `- **Sampling:** per level, a warm-up, then ${config.rounds} rounds, each: ours (RFC 8693), the Entra reference, the baseline; awaited calls for a uniformly random cached user, timed one by one with \`process.hrtime\`. Ours and Entra: up to ${(config.hit.maxMs / 1000).toFixed(1)} s or ${int(config.hit.maxSamples)} samples per level each; the baseline up to ${(config.baseline.maxMs / 1000).toFixed(1)} s per level, for random real users (its subject tokens must verify). p99 is nearest-rank. Both caches are built with \`tokenAcquisition.cacheMaxEntries: ${int(config.cacheMaxEntries)}\`, no Redis level.`,
  "- **Checks:** during ours' and the Entra rounds neither authority may see a token, discovery or JWKS request and no exchanger (real or population stub) may be called; the run aborts otherwise. The baseline's token requests are the authority's count during its rounds.",
  `- **Bursts:** ours' deadline (\`tokenAcquisition.timeoutMs\`) and openid-client's \`timeout\` are both ${config.burstTimeoutSeconds} s in the bursts instead of their defaults (10 s, 30 s): the authority runs on this process's event loop and mints a token per request, and on 2 shared cores its throughput must not turn into failures of either client (the counts are the point here; the outage below uses the defaults). Counters are reset before each burst; "token requests" is the authority's count of POSTs to its token endpoint (all were token exchanges: checked). Ours gets new providers per row. The baseline's \`fetch\` goes through its own undici \`Agent\` with ${config.baselineConnections} connections (openid-client's \`customFetch\`): with fetch's defaults every concurrent call opens its own TLS connection, so ${int(config.users * config.callsPerUser)} calls at once would hold twice as many sockets in this one process (client and authority ends), at its file-descriptor limit (msal-node's unbounded pool failed that way in the resilience-bursts trial). The bounded pool only helps the baseline (fewer TLS handshakes). Our egress dispatcher is the module's default undici \`Agent\`.`,
  ...(config.outageCalls > 0
    ? [`- **Outage:** ours' two rows run one after the other while the baseline's calls are pending; ${config.baselineWaitSeconds} s after the baseline's burst started we stop waiting and close the authority, which drops the hung sockets.`]
    : []),
];
if (isDefaultRun || process.env.BENCH_UPDATE_DOCS === '1') {
  writeChart(
    chartPath,
    barChart({
      title: 'The RFC 8693 path: nestjs-obo vs openid-client genericGrantRequest per call',
      panels: [
        {
          title: `Token requests: ${int(a.warm.calls)} concurrent first calls of one user`,
          unit: 'count',
          bars: [
            { label: 'nestjs-obo', value: a.warm.tokenRequests, series: 'ours' },
            { label: 'openid-client', value: a.base.tokenRequests, series: 'baseline' },
          ],
        },
        {
          title: `Token requests: ${int(b.warm.users)} users × ${b.warm.callsPerUser} concurrent calls`,
          unit: 'count',
          bars: [
            { label: 'nestjs-obo', value: b.warm.tokenRequests, series: 'ours' },
            { label: 'openid-client', value: b.base.tokenRequests, series: 'baseline' },
          ],
        },
        ...(oDefault && oShort && oBase
          ? [
              {
                title: `p99 time-to-answer of ${int(config.outageCalls)} calls, token endpoint hung`,
                unit: 'ms' as const,
                bars: [
                  { label: `nestjs-obo, ${config.shortDeadlineMs / 1000} s deadline`, value: oShort.p99Ms ?? 0, series: 'ours' as const },
                  { label: 'nestjs-obo, default deadline', value: oDefault.p99Ms ?? 0, series: 'ours' as const },
                  oBase.p99Ms !== undefined
                    ? { label: 'openid-client', value: oBase.p99Ms, series: 'baseline' as const }
                    : { label: 'openid-client', value: oBase.waitedMs, series: 'baseline' as const, open: true, text: `no answer in ${ms(oBase.waitedMs)}` },
                ],
              },
            ]
          : []),
      ],
    }),
  );
  updateSection(NAME, section);
  log(`updated BENCHMARKS.md (bench:${NAME}) and ${chartPath}`);
} else {
  log('non-default BENCH_* settings: BENCHMARKS.md left as is (BENCH_UPDATE_DOCS=1 to write it anyway)');
}
process.exit(0); // the baseline's abandoned calls may still hold timers
