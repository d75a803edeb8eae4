// The RFC 8693 path (LocalOidcAuthority, Auth0 dialect): cache-hit µs vs cached users against the
// Entra path in the same rounds and openid-client `genericGrantRequest` per call; cold bursts
// (token requests); a hung token endpoint at our deadline vs openid-client's timeout.
import type { Server } from 'node:https';
import { Logger } from '@nestjs/common';
import type * as client from 'openid-client';
import type { Principal, TokenAcquisition } from '../libs/obo/src/index.js';
import { barChart, BLUE, RED } from './lib/chart.js';
import { baselineExchange, entraOptions, mintAssertion, mintOidcAssertion, oboModule, oidcOptions, openidClientBaseline, principalFor, startFixture, startOidcFixture, syntheticPrincipal, VariantExchanger, type Ours } from './lib/fixture.js';
import { benchMain, ForeignCpu, foreignCpuLine, header, int, log, ms, pick, times, us, type RunHeader } from './lib/report.js';
import { errorList, pool, sample, summarize, type LatencySummary, type SamplingBounds } from './lib/stats.js';
import { burst, burstTable, hungBurst, outageTable, pendingBurst, type BurstRow, type OutageRow } from './lib/burst.js';

const NAME = 'rfc8693-exchange';
const config = {
  levels: pick([1, 1_000, 10_000, 100_000], [1, 1_000]),
  /** Users cached through the real token endpoint; beyond, synthetic users (see the Method). */
  realMax: pick(5_000, 500),
  entraRealMax: pick(1_000, 200),
  rounds: 2,
  hit: { maxMs: pick(2_000, 500), minSamples: 1_000, maxSamples: 100_000 },
  baseline: { maxMs: pick(1_500, 500), minSamples: 20, maxSamples: 2_000 },
  populateConcurrency: 16,
  cacheMaxEntries: 200_000,
  sameUserCalls: pick(1_000, 200),
  users: pick(1_000, 100),
  callsPerUser: 10,
  /** Sockets of the baseline's undici Agent (see openidClientBaseline). */
  baselineConnections: 128,
  /** Our deadline and openid-client's timeout in the bursts, s; the outage uses the defaults. */
  burstTimeoutSeconds: 120,
  outageCalls: pick(1_000, 100),
  shortDeadlineMs: 2_000,
  /** How long we wait for the baseline's answers (openid-client's default timeout is 30 s). */
  baselineWaitSeconds: 40,
};

type Hit = LatencySummary & { realUsers: number; syntheticUsers: number; cacheEntries: number };
interface HitLevel {
  users: number;
  ours: Hit;
  entra: Hit;
  baseline: LatencySummary & { calls: number; tokenRequests: number; requestsPerCall: number };
  baselineOverOurs: number;
}
interface Result extends RunHeader {
  config: typeof config;
  foreignCpu: { seconds: number; share: number; outageTimed: { seconds: number; wallSeconds: number } };
  tokens: { subjectTokenChars: number; issuedTokenChars: number };
  baselineTimeoutSeconds: number;
  hitLevels: HitLevel[];
  bursts: BurstRow[];
  outages: OutageRow[];
}

const perRound = (b: SamplingBounds): SamplingBounds => ({ maxMs: b.maxMs / config.rounds, minSamples: Math.ceil(b.minSamples / config.rounds), maxSamples: Math.ceil(b.maxSamples / config.rounds) });

async function run(): Promise<Result> {
  Logger.overrideLogger(false); // failed provider calls warn each (thousands in the outage); counts are reported instead
  const foreign = new ForeignCpu();
  const oidc = await startOidcFixture();
  const { authority } = oidc;
  const entra = await startFixture();
  const scopes = [...oidc.scopes];
  const target = { audience: oidc.downstreamAudience };
  const entraScopes = [entra.scope];
  const ours = await oboModule(oidcOptions(oidc, { tokenAcquisition: { cacheMaxEntries: config.cacheMaxEntries } }));
  const entraOurs = await oboModule(entraOptions(entra, { tokenAcquisition: { cacheMaxEntries: config.cacheMaxEntries } }));
  // Users: minted by the authority, turned into Principals by the module's own AccessTokenValidator (auth0 profile).
  const burstUsers = Math.max(config.users, config.outageCalls);
  const realCount = Math.max(Math.min(Math.max(...config.levels), config.realMax), burstUsers + 2);
  const principals: Principal[] = [];
  for (let i = 0; i < realCount; i++) principals.push(await ours.validator.validate(mintOidcAssertion(oidc, i)));
  const oidcUser = (i: number) => (principals[i] ??= syntheticPrincipal(principals[0]!, i, (n) => `auth0|${n.toString(16).padStart(24, '0')}`, 'sub'));
  const entraPrincipals: Principal[] = [];
  const entraUser = (i: number): Principal => (entraPrincipals[i] ??= i < config.entraRealMax ? principalFor(mintAssertion(entra, i)) : syntheticPrincipal(entraUser(0), i, (n) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`, 'oid'));
  const oursCall = (a: TokenAcquisition) => (i: number) => a.getAccessTokenForUser(scopes, { principal: oidcUser(i), ...target });
  const entraCall = (a: TokenAcquisition) => (i: number) => a.getAccessTokenForUser(entraScopes, { principal: entraUser(i) });

  // ---- 1. cache hit. User 0 of each path is cached for real first; its token is the template of synthetic users' entries.
  const firstOurs = await oursCall(ours.acquisition)(0);
  const firstEntra = await entraCall(entraOurs.acquisition)(0);
  const population = (o: Ours, template: string, lifetimeSeconds: number, realMax: number, call: (a: TokenAcquisition) => (i: number) => Promise<string>) => {
    const stub = new VariantExchanger(template, lifetimeSeconds * 1000);
    const populator = o.populator(stub);
    const pop = { count: 1, real: 1, stub };
    return Object.assign(pop, {
      async fill(users: number) {
        const realEnd = Math.min(users, Math.max(pop.count, realMax));
        await pool(pop.count, realEnd, config.populateConcurrency, async (i) => void (await call(o.acquisition)(i)));
        await pool(realEnd, users, config.populateConcurrency, async (i) => void (await call(populator)(i)));
        if (realEnd > pop.count) pop.real += realEnd - pop.count;
        pop.count = Math.max(pop.count, users);
        if (o.cache.size !== users) throw new Error(`a cache holds ${o.cache.size} entries, expected ${users}`);
      },
    });
  };
  const oursPop = population(ours, firstOurs, authority.tokenLifetimeSeconds, config.realMax, oursCall);
  const entraPop = population(entraOurs, firstEntra, entra.authority.tokenLifetimeSeconds, config.entraRealMax, entraCall);
  const providerCount = () => {
    const r = authority.requests;
    return r.token + r.openidConfiguration + r.authorizationServerMetadata + r.jwks + entra.authority.requests.token + entra.authority.requests.discovery + (ours.exchanger.providerCalls ?? 0) + (entraOurs.exchanger.providerCalls ?? 0) + oursPop.stub.calls + entraPop.stub.calls;
  };
  const check = (token: string, i: number) => {
    if (typeof token !== 'string' || token.length === 0) throw new Error(`user ${i}: no token`);
  };
  const hitLevels: HitLevel[] = [];
  for (const users of config.levels) {
    await oursPop.fill(users);
    await entraPop.fill(users);
    // A new baseline client per level: the authority closes keep-alive sockets idle for 5 s, and openid-client does not retry an ECONNRESET.
    const baseline = await openidClientBaseline(oidc, config.baselineConnections);
    const baselineUsers = Math.min(users, realCount);
    const baselineCall = (i: number) => baselineExchange(baseline.config, oidc, principals[i]!.assertion);
    await sample(users, { maxMs: 300, minSamples: 1_000, maxSamples: 5_000 }, oursCall(ours.acquisition), check);
    await sample(users, { maxMs: 300, minSamples: 1_000, maxSamples: 5_000 }, entraCall(entraOurs.acquisition), check);
    await sample(baselineUsers, { maxMs: 200, minSamples: 5, maxSamples: 200 }, baselineCall, check);
    const samples = { ours: [] as number[], entra: [] as number[], baseline: [] as number[] };
    let baselineRequests = 0;
    for (let round = 0; round < config.rounds; round++) {
      const before = providerCount();
      samples.ours.push(...(await sample(users, perRound(config.hit), oursCall(ours.acquisition), check)));
      samples.entra.push(...(await sample(users, perRound(config.hit), entraCall(entraOurs.acquisition), check)));
      if (providerCount() !== before) throw new Error(`provider requests during hit measurement at ${users} users`);
      const tokensBefore = authority.requests.token;
      samples.baseline.push(...(await sample(baselineUsers, perRound(config.baseline), baselineCall, check)));
      baselineRequests += authority.requests.token - tokensBefore;
    }
    await baseline.close();
    const [o, e, b] = [summarize(samples.ours), summarize(samples.entra), summarize(samples.baseline)];
    hitLevels.push({
      users,
      ours: { ...o, realUsers: oursPop.real, syntheticUsers: oursPop.count - oursPop.real, cacheEntries: ours.cache.size },
      entra: { ...e, realUsers: entraPop.real, syntheticUsers: entraPop.count - entraPop.real, cacheEntries: entraOurs.cache.size },
      baseline: { ...b, calls: samples.baseline.length, tokenRequests: baselineRequests, requestsPerCall: baselineRequests / samples.baseline.length },
      baselineOverOurs: b.medianUs / o.medianUs,
    });
    log(`@ ${int(users)} users: RFC 8693 median ${us(o.medianUs)}, Entra ${us(e.medianUs)}, baseline ${us(b.medianUs)} per call`);
  }
  await ours.module.close();
  await entraOurs.module.close();
  await entra.authority.close();

  // ---- 2. cold bursts: the token requests the authority receives
  const counts = () => ({ ...authority.requests, discovery: authority.requests.openidConfiguration + authority.requests.authorizationServerMetadata, grants: authority.tokenRequests.tokenExchange });
  let tls = 0; // TLS connections the authority accepted (results JSON and log only)
  (authority as unknown as { server: Server }).server.on('secureConnection', () => tls++);
  const bursts: (BurstRow & { tlsConnections: number })[] = [];
  const measure = async (scenario: BurstRow['scenario'], state: string, client: 'ours' | 'baseline', users: number, callsPerUser: number, call: (p: Principal) => Promise<string>) => {
    const tls0 = tls;
    const row = await burst({ scenario, state, client, users, callsPerUser, target: client === 'ours' ? users : undefined }, (i) => call(principals[i]!), counts, () => authority.resetCounters(), client === 'ours');
    bursts.push({ ...row, tlsConnections: tls - tls0 });
    log(`${scenario} (${state}) / ${client}: ${row.tokenRequests} token POSTs, ${tls - tls0} TLS connections, wall ${ms(row.wallMs)}`);
  };
  const [warmUser, warmUser2] = [principals[burstUsers]!, principals[burstUsers + 1]!];
  const oursAt = (timeoutMs?: number) => oboModule(oidcOptions(oidc, timeoutMs ? { tokenAcquisition: { timeoutMs } } : {}));
  const burstCall = (o: Ours) => (p: Principal) => o.acquisition.getAccessTokenForUser(scopes, { principal: p, ...target });
  const baselineCall = (c: client.Configuration) => (p: Principal) => baselineExchange(c, oidc, p.assertion);
  for (const [scenario, users, callsPerUser] of [['one user', 1, config.sameUserCalls], ['many users', config.users, config.callsPerUser]] as const) {
    // "cold": a new module, nothing loaded (the first exchange loads the metadata and keys); "warm": one exchange for another user first.
    for (const state of ['cold', 'warm'] as const) {
      const o = await oursAt(config.burstTimeoutSeconds * 1000);
      if (state === 'warm') await burstCall(o)(warmUser);
      await measure(scenario, state, 'ours', users, callsPerUser, burstCall(o));
      await o.module.close();
    }
    // Both clients wait longer than their defaults: the same-process authority mints one token per request on 2 shared cores.
    const b = await openidClientBaseline(oidc, config.baselineConnections, config.burstTimeoutSeconds);
    await measure(scenario, 'discovered at startup', 'baseline', users, callsPerUser, baselineCall(b.config));
    await b.close();
  }

  // ---- 3. the token endpoint hangs; every client made one successful exchange first
  const outages: OutageRow[] = [];
  const [ours10, oursShort] = [await oursAt(), await oursAt(config.shortDeadlineMs)];
  const b = await openidClientBaseline(oidc, config.baselineConnections);
  await burstCall(ours10)(warmUser);
  await burstCall(oursShort)(warmUser);
  await baselineExchange(b.config, oidc, warmUser2.assertion);
  authority.resetCounters();
  authority.injectTokenFault({ kind: 'hang' });
  const n = config.outageCalls;
  // The baseline first: its calls stay pending while ours run (hung sockets cost no CPU).
  const before = counts().token;
  const pending = pendingBurst('baseline', 'openid-client genericGrantRequest (defaults)', n, (i) => baselineCall(b.config)(principals[i]!), counts);
  for (let i = 0; i < 40 && counts().token - before < Math.min(n, config.baselineConnections); i++) await new Promise((r) => setTimeout(r, 50));
  const baselineArrived = counts().token - before;
  const foreignBefore = foreign.seconds();
  const timedFrom = performance.now();
  for (const [label, o] of [['default deadline', ours10], [`deadline ${config.shortDeadlineMs / 1000} s`, oursShort]] as const) {
    outages.push(await hungBurst('ours', label, n, (i) => burstCall(o)(principals[i]!), counts, o.options.tokenAcquisition.timeoutMs));
  }
  const outageTimed = { seconds: foreign.seconds() - foreignBefore, wallSeconds: (performance.now() - timedFrom) / 1000 };
  // Its token requests: those that reached the hung endpoint at the start (the rest wait in its Agent's queue).
  outages.push({ ...(await pending.collect(config.baselineWaitSeconds, outages)), tokenRequests: baselineArrived });
  authority.clearTokenFaults();
  await Promise.race([b.close(), new Promise((r) => setTimeout(r, 1_000))]);
  await Promise.race([authority.close(), new Promise((r) => setTimeout(r, 3_000))]);
  return {
    ...header(NAME, ['openid-client', 'undici', '@azure/msal-node', 'lru-cache']),
    config,
    foreignCpu: { ...foreign.stop(), outageTimed },
    tokens: { subjectTokenChars: principals[0]!.assertion.length, issuedTokenChars: firstOurs.length },
    baselineTimeoutSeconds: b.config.timeout ?? 30,
    hitLevels,
    bursts,
    outages,
  };
}

function render(r: Result, node20?: Result) {
  const L = r.hitLevels;
  const range = (values: number[], f: (v: number) => string) => {
    const [lo, hi] = [f(Math.min(...values)), f(Math.max(...values))];
    return lo === hi ? lo : `${lo}–${hi}`;
  };
  const burst = (scenario: string, who: string, state?: string) => r.bursts.find((b) => b.scenario === scenario && b.client === who && (state === undefined || b.state === state))!;
  const [one, many] = (['one user', 'many users'] as const).map((s) => ({ cold: burst(s, 'ours', 'cold'), warm: burst(s, 'ours', 'warm'), base: burst(s, 'baseline') }));
  const [oDefault, oShort, oBase] = r.outages as [OutageRow, OutageRow, OutageRow];
  const real = (h: Hit) => (h.syntheticUsers === 0 ? `${int(h.realUsers)} real` : `${int(h.realUsers)} real + ${int(h.syntheticUsers)} synthetic`);
  const t = r.foreignCpu.outageTimed;
  const maxLevel = Math.max(...r.config.levels);
  return {
    vars: {
      foreign: foreignCpuLine(r.foreignCpu, { what: `our outage rows (${t.wallSeconds.toFixed(0)} s)`, ...t }),
      hits: L.map((l) => ({ ...l, overEntra: l.ours.medianUs / l.entra.medianUs })),
      bursts: burstTable(r.bursts),
      outages: outageTable(r.outages, (o) => (o.client === 'ours' ? `nestjs-obo, ${o.label}` : `openid-client (defaults: ${r.baselineTimeoutSeconds} s timeout)`)),
      first: L[0],
      last: L.at(-1),
      last20: node20?.hitLevels.at(-1),
      oursGrowth: L.at(-1)!.ours.medianUs / L[0]!.ours.medianUs,
      oursP99: range(L.map((l) => l.ours.p99Us), us),
      vsEntra: range(L.map((l) => l.ours.medianUs / l.entra.medianUs), (v) => v.toFixed(2)),
      baselinePerCall: range(L.map((l) => l.baseline.requestsPerCall), (v) => v.toFixed(2)),
      baselineMedian: range(L.map((l) => l.baseline.medianUs), us),
      baselineOverOurs: range(L.map((l) => l.baselineOverOurs), times),
      one,
      many,
      oneSameToken: one.cold.distinctTokens === 1 && one.warm.distinctTokens === 1,
      oneRatio: one.base.tokenRequests / Math.max(1, one.warm.tokenRequests),
      perCall: { base: many.base.tokenRequests / many.base.calls, ours: many.warm.tokenRequests / many.warm.calls },
      failed: { ours: many.cold.failed + many.warm.failed + one.cold.failed + one.warm.failed, base: many.base.failed + one.base.failed },
      oDefault,
      oShort,
      oBase,
      oursErrors: Object.keys(oShort.errors).join(', '),
      baseErrors: errorList(oBase.errors),
      baseOverShort: (oBase.p99Ms ?? 0) / (oShort.p99Ms ?? 1),
      baseOverDefault: (oBase.p99Ms ?? 0) / (oDefault.p99Ms ?? 1),
      realMax: Math.min(r.config.realMax, maxLevel),
      entraRealMax: Math.min(r.config.entraRealMax, maxLevel),
      perLevel: L.map((l) => `${int(l.users)}: RFC 8693 ${real(l.ours)}, Entra ${real(l.entra)}`).join('; '),
      burstCalls: r.config.users * r.config.callsPerUser,
    },
    chart: barChart('The RFC 8693 path: nestjs-obo vs openid-client genericGrantRequest per call', `log scales · blue: nestjs-obo · red: openid-client · hollow dashed bar: a lower bound · Node ${r.machine.node}`, [
      { title: `Token requests: ${int(one.warm.calls)} concurrent first calls of one user`, unit: 'count', bars: [{ label: 'nestjs-obo', value: one.warm.tokenRequests, color: BLUE }, { label: 'openid-client', value: one.base.tokenRequests, color: RED }] },
      { title: `Token requests: ${int(many.warm.users)} users × ${many.warm.callsPerUser} concurrent calls`, unit: 'count', bars: [{ label: 'nestjs-obo', value: many.warm.tokenRequests, color: BLUE }, { label: 'openid-client', value: many.base.tokenRequests, color: RED }] },
      {
        title: `p99 time-to-answer of ${int(r.config.outageCalls)} calls, token endpoint hung`,
        unit: 'ms',
        bars: [
          { label: `nestjs-obo, ${r.config.shortDeadlineMs / 1000} s deadline`, value: oShort.p99Ms ?? 0, color: BLUE },
          { label: 'nestjs-obo, default deadline', value: oDefault.p99Ms ?? 0, color: BLUE },
          oBase.p99Ms !== undefined ? { label: 'openid-client', value: oBase.p99Ms, color: RED } : { label: 'openid-client', value: oBase.waitedMs, color: RED, open: true, text: `no answer in ${ms(oBase.waitedMs)}` },
        ],
      },
    ]),
  };
}

await benchMain(NAME, run, render);
