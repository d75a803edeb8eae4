// Token cache hit latency and memory vs number of cached users:
//   ours  = TokenAcquisition.getAuthenticationResultForUser (TokenCache in front of msal-node),
//   msal  = one shared msal-node ConfidentialClientApplication, acquireTokenOnBehalfOf, default cache.
// Same process, same run, same users. Run with `npm run bench` (scripts/bench.mjs).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfidentialClientApplication, type AuthenticationResult } from '@azure/msal-node';
import type { Principal } from '../libs/obo/src/context/principal.js';
import { RequestContext } from '../libs/obo/src/context/request-context.service.js';
import { resolveOboOptions } from '../libs/obo/src/options/resolve-obo-options.js';
import { createConfidentialClient } from '../libs/obo/src/outbound/token-acquisition/confidential-client.provider.js';
import { MsalTokenExchanger } from '../libs/obo/src/outbound/token-acquisition/msal-token-exchanger.js';
import { TokenAcquisition, type AuthenticationResultInfo } from '../libs/obo/src/outbound/token-acquisition/token-acquisition.service.js';
import { TokenCache } from '../libs/obo/src/outbound/token-cache/token-cache.js';
import { mintAssertion, principalFor, startFixture } from './lib/fixture.js';
import { MsalCacheSeeder, storageOf, type SeededUser } from './lib/msal-seed.js';
import { renderChart, updateBenchmarksMd, type BenchResult, type LevelResult } from './lib/report.js';
import { heapAfterGc, pool, sample, summarize, type SamplingBounds } from './lib/stats.js';
import { StubExchanger } from './lib/stub-exchanger.js';

function levels(name: string, fallback: number[]): number[] {
  const text = process.env[name];
  const list = text ? text.split(',').map((v) => Number(v.trim())) : fallback;
  if (!list.every((n) => Number.isInteger(n) && n > 0)) throw new Error(`${name} must be a comma-separated list of positive integers`);
  return [...new Set(list)].sort((a, b) => a - b);
}
function int(name: string, fallback: number): number {
  const value = process.env[name] === undefined ? fallback : Number(process.env[name]);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer`);
  return value;
}

const WARM_USERS = 1_000;
const DEFAULTS = {
  oursLevels: [1, 1_000, 10_000, 100_000],
  msalLevels: [1, 1_000, 10_000],
  oursRealMax: Number.MAX_SAFE_INTEGER, // every cached user of ours comes from the real token endpoint
  msalRealMax: 2_000,
};
const config = {
  oursLevels: levels('BENCH_OURS_LEVELS', DEFAULTS.oursLevels),
  msalLevels: levels('BENCH_MSAL_LEVELS', DEFAULTS.msalLevels),
  oursRealMax: int('BENCH_OURS_REAL_MAX', DEFAULTS.oursRealMax),
  msalRealMax: Math.max(1, int('BENCH_MSAL_REAL_MAX', DEFAULTS.msalRealMax)),
  /** Sampling rounds per level; each round samples ours, then msal (alternating against drift). */
  rounds: Math.max(1, int('BENCH_ROUNDS', 2)),
  ours: { maxMs: int('BENCH_OURS_MAX_MS', 3_000), minSamples: int('BENCH_OURS_MIN_SAMPLES', 1_000), maxSamples: int('BENCH_OURS_MAX_SAMPLES', 200_000) },
  msal: { maxMs: int('BENCH_MSAL_MAX_MS', 15_000), minSamples: int('BENCH_MSAL_MIN_SAMPLES', 15), maxSamples: int('BENCH_MSAL_MAX_SAMPLES', 3_000) },
  populateConcurrency: int('BENCH_CONCURRENCY', 16),
  cacheMaxEntries: 200_000,
  warmUsers: WARM_USERS,
};
const isDefaultRun = !Object.keys(process.env).some((k) => k.startsWith('BENCH_') && k !== 'BENCH_ROOT' && k !== 'BENCH_COMMAND' && k !== 'BENCH_UPDATE_DOCS');
const root = process.env.BENCH_ROOT ?? process.cwd();
const started = Date.now();
const log = (line: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}`);
const perRound = (b: SamplingBounds, rounds: number): SamplingBounds => ({
  maxMs: b.maxMs / rounds,
  minSamples: Math.ceil(b.minSamples / rounds),
  maxSamples: Math.ceil(b.maxSamples / rounds),
});

const fixture = await startFixture();
const { authority } = fixture;
/**
 * Heap after gc with no open connection: the authority's idle keep-alive sockets (and so the
 * client's, undici's) are closed first, else up to 2 × concurrency TLS sockets and their buffers
 * (MBs) would land in whichever snapshot follows a population step.
 */
async function quietHeap() {
  (authority as unknown as { server: Server }).server.closeIdleConnections();
  await sleep(200);
  return heapAfterGc();
}
const scopes = [fixture.scope];
const principals: Principal[] = [];
function ensurePrincipals(n: number): void {
  while (principals.length < n) principals.push(principalFor(mintAssertion(fixture, principals.length)));
}

// ---- ours: the module's real providers, built without Nest DI ----
const heapEmpty = await quietHeap();
const options = resolveOboOptions({
  instance: authority.instance,
  tenantId: authority.tenantId,
  clientId: fixture.originalId,
  clientSecret: fixture.clientSecret,
  // timeoutMs (the per-call deadline) only matters to population: its timers are awaited before heap snapshots.
  tokenAcquisition: { cacheMaxEntries: config.cacheMaxEntries, timeoutMs: 2_000 },
});
const cache = new TokenCache(options);
const heapCacheBuilt = await quietHeap(); // TokenCache alone: the LRU preallocates per cacheMaxEntries
const exchanger = new MsalTokenExchanger(options, createConfidentialClient(options));
const context = new RequestContext();
const ours = new TokenAcquisition(options, context, cache, exchanger);
const stub = new StubExchanger(fixture);
const oursPopulator = new TokenAcquisition(options, context, cache, stub as unknown as MsalTokenExchanger);
let oursCount = 0;
let oursReal = 0;
let oursCacheHeap = 0;
let downstreamTokenLength = 0;

// ---- baseline: one shared msal-node CCA, default in-memory cache ----
const newMsalClient = () =>
  new ConfidentialClientApplication({
    auth: {
      clientId: fixture.originalId,
      authority: `${authority.instance}${authority.tenantId}`,
      clientSecret: fixture.clientSecret,
      knownAuthorities: [authority.authorityHost],
    },
  });

// ---- warm-up on throwaway caches and users, so one-time costs (compiled code, connections, lazy
// module state) are neither in the memory deltas nor in the first levels' latencies ----
{
  const warmUsers = Array.from({ length: WARM_USERS }, (_, i) => principalFor(mintAssertion(fixture, 1_000_000 + i)));
  const warmCache = new TokenCache(options);
  const real = new TokenAcquisition(options, context, warmCache, exchanger);
  const stubbed = new TokenAcquisition(options, context, warmCache, stub as unknown as MsalTokenExchanger);
  const half = WARM_USERS / 2;
  await pool(0, half, config.populateConcurrency, async (i) => void (await real.getAuthenticationResultForUser(scopes, { principal: warmUsers[i] })));
  await pool(half, WARM_USERS, config.populateConcurrency, async (i) => void (await stubbed.getAuthenticationResultForUser(scopes, { principal: warmUsers[i] })));
  for (let k = 0; k < 20_000; k++) await real.getAuthenticationResultForUser(scopes, { principal: warmUsers[k % WARM_USERS] });
  const warmMsal = newMsalClient();
  const msalReal = 200;
  await pool(0, msalReal, 4, async (i) => void (await warmMsal.acquireTokenOnBehalfOf({ oboAssertion: warmUsers[i]!.assertion, scopes })));
  const warmSeeder = new MsalCacheSeeder(storageOf(warmMsal), authority, warmUsers[0]!.assertion);
  for (let i = msalReal; i < WARM_USERS; i++) warmSeeder.seed(warmUsers[i]!.assertion);
  for (let k = 0; k < 200; k++) await warmMsal.acquireTokenOnBehalfOf({ oboAssertion: warmUsers[k % WARM_USERS]!.assertion, scopes });
  authority.resetCounters();
  log(`warm-up done (${WARM_USERS} throwaway users)`);
}

let msal: ConfidentialClientApplication | undefined = newMsalClient();
let msalCount = 0;
let msalReal = 0;
let msalHeap = 0;
let seeder: MsalCacheSeeder | undefined;

const results: LevelResult[] = [];
let previous: { users: number; cacheHeap: number } | undefined;
let firstLevelHeap: number | undefined;

for (const users of [...new Set([...config.oursLevels, ...config.msalLevels])].sort((a, b) => a - b)) {
  const measureOurs = config.oursLevels.includes(users);
  const measureMsal = config.msalLevels.includes(users) && msal !== undefined;
  ensurePrincipals(users);

  // Populate ours: every entry through getAuthenticationResultForUser (a miss, so a real OBO).
  if (oursCount < users && users <= Math.max(...config.oursLevels)) {
    const h0 = await quietHeap();
    const realEnd = Math.min(users, Math.max(oursCount, config.oursRealMax));
    log(`ours: populating users ${oursCount}..${users - 1} (${realEnd - oursCount} via the token endpoint, ${users - realEnd} stubbed)`);
    const populate = (acquisition: TokenAcquisition) => async (i: number) => {
      const result = await acquisition.getAuthenticationResultForUser(scopes, { principal: principals[i] });
      if (result.fromCache) throw new Error(`user ${i} was already cached`);
      downstreamTokenLength ||= result.accessToken.length;
    };
    await pool(oursCount, realEnd, config.populateConcurrency, populate(ours));
    await pool(realEnd, users, config.populateConcurrency, populate(oursPopulator));
    oursReal += realEnd - oursCount;
    oursCount = users;
    if (cache.size !== users) throw new Error(`our cache holds ${cache.size} entries, expected ${users}`);
    authority.resetCounters(); // the authority's per-user request counters are not part of our cache
    await sleep(options.tokenAcquisition.timeoutMs + 200); // let the population's per-call deadline timers fire
    oursCacheHeap += (await quietHeap()).dataHeap - h0.dataHeap;
  }

  // Populate msal: real OBO requests up to msalRealMax users, then seeded clones.
  if (msal && config.msalLevels.includes(users) && msalCount < users) {
    const storage = storageOf(msal);
    const h0 = await quietHeap();
    const realEnd = Math.min(users, Math.max(msalCount, config.msalRealMax));
    log(`msal: populating users ${msalCount}..${users - 1} (${realEnd - msalCount} via the token endpoint, ${users - realEnd} seeded)`);
    const client = msal;
    await pool(msalCount, realEnd, 4, async (i) => {
      const result = await client.acquireTokenOnBehalfOf({ oboAssertion: principals[i]!.assertion, scopes });
      if (!result || result.fromCache) throw new Error(`msal: user ${i} was already cached`);
    });
    msalReal += realEnd - msalCount;
    const checks: Array<[number, SeededUser]> = [];
    if (realEnd < users) {
      seeder ??= new MsalCacheSeeder(storage, authority, principals[0]!.assertion);
      for (let i = realEnd; i < users; i++) {
        const seeded = seeder.seed(principals[i]!.assertion);
        if (i === realEnd || i === users - 1) checks.push([i, seeded]);
      }
    }
    msalCount = users;
    const keys = Object.keys(storage.getCache()).length;
    if (keys !== 4 * users + 1) throw new Error(`msal cache has ${keys} keys, expected ${4 * users + 1}`);
    // Seeded users must be cache hits that return exactly their seeded access token. (msal-node 7.2.1
    // returns account null on every OBO hit, real or seeded: readIdTokenFromCacheForOBO calls
    // Object.values on a Map, so the id token is never found; only the token can be compared.)
    const tokensBefore = authority.requests.token;
    for (const [i, seeded] of checks) {
      const result = await client.acquireTokenOnBehalfOf({ oboAssertion: principals[i]!.assertion, scopes });
      if (!result?.fromCache || result.accessToken !== seeded.accessToken) throw new Error(`msal: seeded user ${i} was not served from its seeded entries`);
    }
    if (authority.requests.token !== tokensBefore) throw new Error('msal: a seeded user reached the token endpoint');
    authority.resetCounters();
    msalHeap += (await quietHeap()).dataHeap - h0.dataHeap;
  }

  // Measure: alternate ours and msal rounds; every call must be a hit and nobody may call the provider.
  const heap = await quietHeap();
  const oursSamples: number[] = [];
  const msalSamples: number[] = [];
  const tokenRequestsBefore = authority.requests.token + authority.requests.discovery;
  const providerCallsBefore = exchanger.providerCalls + stub.calls;
  const oursCall = (i: number) => ours.getAuthenticationResultForUser(scopes, { principal: principals[i] });
  const oursCheck = (r: AuthenticationResultInfo, i: number) => {
    if (!r.fromCache) throw new Error(`ours: user ${i} missed the cache`);
  };
  const client = msal;
  const msalCall = (i: number) => client!.acquireTokenOnBehalfOf({ oboAssertion: principals[i]!.assertion, scopes });
  const msalCheck = (r: AuthenticationResult | null, i: number) => {
    if (!r?.fromCache) throw new Error(`msal: user ${i} missed the cache`);
  };
  if (measureOurs) await sample(users, { maxMs: 500, minSamples: 1_000, maxSamples: 5_000 }, oursCall, oursCheck); // warm-up
  if (measureMsal) await sample(users, { maxMs: 500, minSamples: 2, maxSamples: 200 }, msalCall, msalCheck); // warm-up
  for (let round = 0; round < config.rounds; round++) {
    if (measureOurs) {
      oursSamples.push(...(await sample(users, perRound(config.ours, config.rounds), oursCall, oursCheck)));
      log(`ours @ ${users}: round ${round + 1}/${config.rounds}, ${oursSamples.length} samples`);
    }
    if (measureMsal) {
      msalSamples.push(...(await sample(users, perRound(config.msal, config.rounds), msalCall, msalCheck)));
      log(`msal @ ${users}: round ${round + 1}/${config.rounds}, ${msalSamples.length} samples`);
    }
  }
  const tokenRequests = authority.requests.token + authority.requests.discovery - tokenRequestsBefore;
  const providerCalls = exchanger.providerCalls + stub.calls - providerCallsBefore;
  if (tokenRequests !== 0 || providerCalls !== 0) throw new Error(`provider requests during measurement at ${users} users: ${tokenRequests} HTTP, ${providerCalls} exchanger calls`);

  let oursResult: LevelResult['ours'];
  if (measureOurs) {
    if (users === 1) firstLevelHeap = oursCacheHeap;
    const marginal = previous && users > previous.users ? (oursCacheHeap - previous.cacheHeap) / (users - previous.users) : undefined;
    oursResult = {
      ...summarize(oursSamples),
      cacheEntries: cache.size,
      realUsers: oursReal,
      stubbedUsers: oursCount - oursReal,
      cacheHeapBytes: oursCacheHeap,
      // The 1-user step holds the LRU's lazily allocated TTL arrays (fixed, per cacheMaxEntries).
      cacheHeapPerUserBytes: firstLevelHeap !== undefined && users > 1 ? (oursCacheHeap - firstLevelHeap) / (users - 1) : oursCacheHeap / users,
      marginalHeapPerUserBytes: marginal,
    };
    previous = { users, cacheHeap: oursCacheHeap };
  }
  let msalResult: LevelResult['msal'];
  if (measureMsal) {
    msalResult = {
      ...summarize(msalSamples),
      cacheKeys: Object.keys(storageOf(msal!).getCache()).length,
      realUsers: msalReal,
      seededUsers: msalCount - msalReal,
      cacheHeapBytes: msalHeap,
      cacheHeapPerUserBytes: msalHeap / users,
    };
  }
  const level: LevelResult = {
    users,
    heapUsedAfterGcBytes: heap.heapUsed,
    externalBytes: heap.external,
    rssBytes: heap.rss,
    msalCacheLive: msal !== undefined,
    ours: oursResult,
    msal: msalResult,
    ratioMedian: oursResult && msalResult ? msalResult.medianUs / oursResult.medianUs : undefined,
  };
  results.push(level);
  log(
    `@ ${users} users: ours median ${oursResult?.medianUs ?? '-'} µs p99 ${oursResult?.p99Us ?? '-'} µs (${oursResult?.samples ?? 0}); ` +
      `msal median ${msalResult?.medianUs ?? '-'} µs p99 ${msalResult?.p99Us ?? '-'} µs (${msalResult?.samples ?? 0}); ratio ${level.ratioMedian?.toFixed(0) ?? '-'}; ` +
      `heapUsed ${(heap.heapUsed / 1048576).toFixed(1)} MB`,
  );
  // After the last msal level its cache is dropped, so larger levels measure ours alone.
  if (msal && users >= Math.max(...config.msalLevels)) {
    msal = undefined;
    seeder = undefined;
  }
}
await authority.close();

const pkg = (name: string) => (JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
const cpus = os.cpus();
const result: BenchResult = {
  name: 'token-cache-hit',
  date: new Date(started).toISOString(),
  durationSeconds: Math.round((Date.now() - started) / 1000),
  command: process.env.BENCH_COMMAND ?? 'npm run bench',
  machine: {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpuCount: cpus.length,
    cpuMHz: cpus[0]?.speed ?? 0,
    totalMemBytes: os.totalmem(),
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverageAtStart: os.loadavg(),
  },
  versions: { msalNode: pkg('@azure/msal-node'), msalCommon: pkg('@azure/msal-common'), lruCache: pkg('lru-cache') },
  config: { ...config, oursRealMax: Math.min(config.oursRealMax, Math.max(...config.oursLevels)), isDefaultRun },
  assertionLengthChars: principals[0]!.assertion.length,
  downstreamTokenLengthChars: downstreamTokenLength,
  heap: {
    emptyBytes: heapEmpty.heapUsed,
    tokenCacheConstructionBytes: heapCacheBuilt.dataHeap - heapEmpty.dataHeap,
    tokenCacheConstructionExternalBytes: heapCacheBuilt.external - heapEmpty.external,
    oursFirstLevelBytes: firstLevelHeap,
  },
  levels: results,
};

const resultsDir = join(root, 'bench', 'results');
mkdirSync(resultsDir, { recursive: true });
const stamp = result.date.replace(/[:.]/g, '-');
writeFileSync(join(resultsDir, `token-cache-hit-${stamp}.json`), `${JSON.stringify(result, null, 2)}\n`);
writeFileSync(join(resultsDir, 'token-cache-hit-latest.json'), `${JSON.stringify(result, null, 2)}\n`);
log(`results: bench/results/token-cache-hit-${stamp}.json`);
if (isDefaultRun || process.env.BENCH_UPDATE_DOCS === '1') {
  writeFileSync(join(root, 'bench', 'token-cache-hit.svg'), renderChart(result));
  updateBenchmarksMd(join(root, 'BENCHMARKS.md'), result, 'bench/token-cache-hit.svg');
  log('updated BENCHMARKS.md and bench/token-cache-hit.svg');
} else {
  log('non-default BENCH_* settings: BENCHMARKS.md left as is (BENCH_UPDATE_DOCS=1 to write it anyway)');
}
