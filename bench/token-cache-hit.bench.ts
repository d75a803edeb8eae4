// Token cache hit latency and memory vs cached users: ours (TokenAcquisition from OboModule) against
// one shared msal-node ConfidentialClientApplication with its default cache. Same process, users, run.
import type { Server } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AuthenticationResult, ConfidentialClientApplication } from '@azure/msal-node';
import type { AuthenticationResultInfo, Principal } from '../libs/obo/src/index.js';
import { TokenCache } from '../libs/obo/src/outbound/token-cache/token-cache.js';
import { BLUE, lineChart, RED } from './lib/chart.js';
import { entraOptions, MintingExchanger, mintAssertion, newMsalClient, oboModule, principalFor, startFixture } from './lib/fixture.js';
import { MsalCacheSeeder, storageOf, type SeededUser } from './lib/msal-seed.js';
import { benchMain, header, int, kb, log, mb, pick, times, us, type RunHeader } from './lib/report.js';
import { heapAfterGc, pool, sample, summarize, type LatencySummary, type SamplingBounds } from './lib/stats.js';

const NAME = 'token-cache-hit';
const config = {
  oursLevels: pick([1, 1_000, 10_000, 100_000], [1, 1_000]),
  msalLevels: pick([1, 1_000, 10_000], [1, 1_000]),
  msalRealMax: pick(2_000, 200),
  rounds: 2,
  ours: { maxMs: pick(3_000, 500), minSamples: 1_000, maxSamples: 200_000 },
  msal: { maxMs: pick(15_000, 2_000), minSamples: 15, maxSamples: 3_000 },
  populateConcurrency: 16,
  cacheMaxEntries: 200_000,
  warmUsers: pick(1_000, 200),
};

interface Level {
  users: number;
  /** Process heap after gc before sampling (both caches while msal's is live). */
  heapUsedAfterGcBytes: number;
  msalCacheLive: boolean;
  ours?: LatencySummary & { cacheEntries: number; realUsers: number; cacheHeapBytes: number; cacheHeapPerUserBytes: number; marginalHeapPerUserBytes?: number };
  msal?: LatencySummary & { cacheKeys: number; realUsers: number; seededUsers: number; cacheHeapBytes: number; cacheHeapPerUserBytes: number };
  ratioMedian?: number;
}
interface Result extends RunHeader {
  config: typeof config;
  assertionLengthChars: number;
  downstreamTokenLengthChars: number;
  heap: { tokenCacheConstructionBytes: number; tokenCacheConstructionExternalBytes: number; oursFirstLevelBytes?: number };
  levels: Level[];
}

async function run(): Promise<Result> {
  const fixture = await startFixture();
  const { authority } = fixture;
  const scopes = [fixture.scope];
  /** Heap after gc with no open connection (idle keep-alive TLS sockets hold MBs of buffers). */
  const quietHeap = async () => {
    (authority as unknown as { server: Server }).server.closeIdleConnections();
    await sleep(200);
    return heapAfterGc();
  };
  const principals: Principal[] = [];
  const ensurePrincipals = (n: number) => {
    while (principals.length < n) principals.push(principalFor(mintAssertion(fixture, principals.length)));
  };
  const options = entraOptions(fixture, { tokenAcquisition: { cacheMaxEntries: config.cacheMaxEntries, timeoutMs: 2_000 } });
  const stub = new MintingExchanger(fixture);

  // Warm-up on a throwaway module, msal client and users: one-time costs stay out of the deltas and first levels.
  {
    const warm = await oboModule(options);
    const users = Array.from({ length: config.warmUsers }, (_, i) => principalFor(mintAssertion(fixture, 1_000_000 + i)));
    const half = config.warmUsers / 2;
    await pool(0, half, 16, async (i) => void (await warm.acquisition.getAuthenticationResultForUser(scopes, { principal: users[i] })));
    await pool(half, config.warmUsers, 16, async (i) => void (await warm.populator(stub).getAuthenticationResultForUser(scopes, { principal: users[i] })));
    for (let k = 0; k < 20_000; k++) await warm.acquisition.getAuthenticationResultForUser(scopes, { principal: users[k % config.warmUsers] });
    const msal = newMsalClient(fixture);
    await pool(0, 100, 4, async (i) => void (await msal.acquireTokenOnBehalfOf({ oboAssertion: users[i]!.assertion, scopes })));
    const seeder = new MsalCacheSeeder(storageOf(msal), authority, users[0]!.assertion);
    for (let i = 100; i < config.warmUsers; i++) seeder.seed(users[i]!.assertion);
    for (let k = 0; k < 200; k++) await msal.acquireTokenOnBehalfOf({ oboAssertion: users[k % config.warmUsers]!.assertion, scopes });
    await warm.module.close();
    authority.resetCounters();
    log(`warm-up done (${config.warmUsers} throwaway users)`);
  }

  const ours = await oboModule(options);
  const populator = ours.populator(stub);
  // What an empty TokenCache costs up front (the LRU preallocates per cacheMaxEntries): one built beside the module's.
  const h0 = await quietHeap();
  let probe: TokenCache | undefined = new TokenCache(ours.options);
  const h1 = await quietHeap();
  probe = void probe;
  const construction = { tokenCacheConstructionBytes: h1.dataHeap - h0.dataHeap, tokenCacheConstructionExternalBytes: h1.external - h0.external };

  let msal: ConfidentialClientApplication | undefined = newMsalClient(fixture);
  let seeder: MsalCacheSeeder | undefined;
  const count = { ours: 0, msal: 0, msalReal: 0, oursHeap: 0, msalHeap: 0, downstreamLength: 0 };
  let previous: { users: number; heap: number } | undefined;
  let firstLevelHeap: number | undefined;
  const levels: Level[] = [];
  const perRound = (b: SamplingBounds): SamplingBounds => ({ maxMs: b.maxMs / config.rounds, minSamples: Math.ceil(b.minSamples / config.rounds), maxSamples: Math.ceil(b.maxSamples / config.rounds) });

  for (const users of [...new Set([...config.oursLevels, ...config.msalLevels])].sort((a, b) => a - b)) {
    const measureOurs = config.oursLevels.includes(users);
    const measureMsal = config.msalLevels.includes(users) && msal !== undefined;
    ensurePrincipals(users);

    if (count.ours < users && measureOurs) {
      // Every entry through getAuthenticationResultForUser: a miss, so a real On-Behalf-Of request.
      const before = await quietHeap();
      log(`ours: populating users ${count.ours}..${users - 1} through the token endpoint`);
      await pool(count.ours, users, config.populateConcurrency, async (i) => {
        const result = await ours.acquisition.getAuthenticationResultForUser(scopes, { principal: principals[i] });
        if (result.fromCache) throw new Error(`user ${i} was already cached`);
        count.downstreamLength ||= result.accessToken.length;
      });
      count.ours = users;
      if (ours.cache.size !== users) throw new Error(`our cache holds ${ours.cache.size} entries, expected ${users}`);
      authority.resetCounters(); // the authority's per-user counters are not our cache
      await sleep(ours.options.tokenAcquisition.timeoutMs + 200); // the population's deadline timers fire
      count.oursHeap += (await quietHeap()).dataHeap - before.dataHeap;
    }

    if (msal && measureMsal && count.msal < users) {
      // Real On-Behalf-Of requests up to msalRealMax users, then clones seeded into msal's own storage.
      const client = msal;
      const storage = storageOf(client);
      const before = await quietHeap();
      const realEnd = Math.min(users, Math.max(count.msal, config.msalRealMax));
      log(`msal: populating users ${count.msal}..${users - 1} (${realEnd - count.msal} via the token endpoint, ${users - realEnd} seeded)`);
      await pool(count.msal, realEnd, 4, async (i) => {
        const result = await client.acquireTokenOnBehalfOf({ oboAssertion: principals[i]!.assertion, scopes });
        if (!result || result.fromCache) throw new Error(`msal: user ${i} was already cached`);
      });
      count.msalReal += realEnd - count.msal;
      const checks: Array<[number, SeededUser]> = [];
      for (let i = realEnd; i < users; i++) {
        seeder ??= new MsalCacheSeeder(storage, authority, principals[0]!.assertion);
        const seeded = seeder.seed(principals[i]!.assertion);
        if (i === realEnd || i === users - 1) checks.push([i, seeded]);
      }
      count.msal = users;
      const keys = Object.keys(storage.getCache()).length;
      if (keys !== 4 * users + 1) throw new Error(`msal cache has ${keys} keys, expected ${4 * users + 1}`);
      const tokensBefore = authority.requests.token;
      for (const [i, seeded] of checks) {
        const result = await client.acquireTokenOnBehalfOf({ oboAssertion: principals[i]!.assertion, scopes });
        if (!result?.fromCache || result.accessToken !== seeded.accessToken) throw new Error(`msal: seeded user ${i} was not served from its seeded entries`);
      }
      if (authority.requests.token !== tokensBefore) throw new Error('msal: a seeded user reached the token endpoint');
      authority.resetCounters();
      count.msalHeap += (await quietHeap()).dataHeap - before.dataHeap;
    }

    // Measure: alternate ours and msal rounds; every call must be a hit and nobody may call the provider.
    const heap = await quietHeap();
    const samples = { ours: [] as number[], msal: [] as number[] };
    const requestsBefore = authority.requests.token + authority.requests.discovery;
    const callsBefore = (ours.exchanger.providerCalls ?? 0) + stub.calls;
    const oursCall = (i: number) => ours.acquisition.getAuthenticationResultForUser(scopes, { principal: principals[i] });
    const oursCheck = (r: AuthenticationResultInfo, i: number) => {
      if (!r.fromCache) throw new Error(`ours: user ${i} missed the cache`);
    };
    const client = msal;
    const msalCall = (i: number) => client!.acquireTokenOnBehalfOf({ oboAssertion: principals[i]!.assertion, scopes });
    const msalCheck = (r: AuthenticationResult | null, i: number) => {
      if (!r?.fromCache) throw new Error(`msal: user ${i} missed the cache`);
    };
    if (measureOurs) await sample(users, { maxMs: 500, minSamples: 1_000, maxSamples: 5_000 }, oursCall, oursCheck);
    if (measureMsal) await sample(users, { maxMs: 500, minSamples: 2, maxSamples: 200 }, msalCall, msalCheck);
    for (let round = 0; round < config.rounds; round++) {
      if (measureOurs) samples.ours.push(...(await sample(users, perRound(config.ours), oursCall, oursCheck)));
      if (measureMsal) samples.msal.push(...(await sample(users, perRound(config.msal), msalCall, msalCheck)));
    }
    const requests = authority.requests.token + authority.requests.discovery - requestsBefore;
    const calls = (ours.exchanger.providerCalls ?? 0) + stub.calls - callsBefore;
    if (requests !== 0 || calls !== 0) throw new Error(`provider requests during measurement at ${users} users: ${requests} HTTP, ${calls} exchanger calls`);

    let oursLevel: Level['ours'];
    if (measureOurs) {
      if (users === 1) firstLevelHeap = count.oursHeap;
      oursLevel = {
        ...summarize(samples.ours),
        cacheEntries: ours.cache.size,
        realUsers: count.ours,
        cacheHeapBytes: count.oursHeap,
        // The 1-user step holds the LRU's lazily allocated TTL arrays (fixed, per cacheMaxEntries).
        cacheHeapPerUserBytes: firstLevelHeap !== undefined && users > 1 ? (count.oursHeap - firstLevelHeap) / (users - 1) : count.oursHeap / users,
        marginalHeapPerUserBytes: previous && users > previous.users ? (count.oursHeap - previous.heap) / (users - previous.users) : undefined,
      };
      previous = { users, heap: count.oursHeap };
    }
    const msalLevel: Level['msal'] = measureMsal
      ? { ...summarize(samples.msal), cacheKeys: Object.keys(storageOf(msal!).getCache()).length, realUsers: count.msalReal, seededUsers: count.msal - count.msalReal, cacheHeapBytes: count.msalHeap, cacheHeapPerUserBytes: count.msalHeap / users }
      : undefined;
    const ratioMedian = oursLevel && msalLevel ? msalLevel.medianUs / oursLevel.medianUs : undefined;
    levels.push({ users, heapUsedAfterGcBytes: heap.heapUsed, msalCacheLive: msal !== undefined, ours: oursLevel, msal: msalLevel, ratioMedian });
    log(`@ ${users} users: ours median ${us(oursLevel?.medianUs)}, msal median ${us(msalLevel?.medianUs)}, ratio ${times(ratioMedian)}, heapUsed ${mb(heap.heapUsed)}`);
    // After the last msal level its cache is dropped, so larger levels measure ours alone.
    if (msal && users >= Math.max(...config.msalLevels)) msal = seeder = undefined;
  }
  await ours.module.close();
  await authority.close();
  return {
    ...header(NAME, ['@azure/msal-node', '@azure/msal-common', 'lru-cache']),
    config,
    assertionLengthChars: principals[0]!.assertion.length,
    downstreamTokenLengthChars: count.downstreamLength,
    heap: { ...construction, oursFirstLevelBytes: firstLevelHeap },
    levels,
  };
}

function render(r: Result, node20?: Result) {
  const ours = r.levels.filter((l) => l.ours);
  const msal = r.levels.filter((l) => l.msal);
  const o = (l: Level) => l.ours!;
  const m = (l: Level) => l.msal!;
  const steps = ours.filter((l) => l.users > 1 && o(l).marginalHeapPerUserBytes !== undefined);
  const tail = steps.slice(-2).map((l) => o(l).marginalHeapPerUserBytes!);
  const medians = ours.map((l) => o(l).medianUs);
  const largest = (x: Result) => o(x.levels.filter((l) => l.ours).at(-1)!);
  return {
    vars: {
      table: r.levels.map((l) => ({ ...l, perUser: l.ours && l.users > 1 ? l.ours.cacheHeapPerUserBytes : undefined })),
      first: ours[0],
      last: ours.at(-1),
      largest20: node20 && largest(node20),
      node24Over20: node20 && largest(r).medianUs / largest(node20).medianUs,
      spread: Math.max(...medians) / Math.min(...medians),
      p99: { lo: Math.min(...ours.map((l) => o(l).p99Us)), hi: Math.max(...ours.map((l) => o(l).p99Us)) },
      msal: { first: msal[0], prev: msal.at(-2) ?? msal[0], last: msal.at(-1) },
      msalGrowth: m(msal.at(-1)!).medianUs / m(msal[0]!).medianUs,
      msalStepGrowth: m(msal.at(-1)!).medianUs / m(msal.at(-2) ?? msal[0]!).medianUs,
      msalStepUsers: msal.at(-1)!.users / (msal.at(-2) ?? msal[0]!).users,
      ratios: r.levels.filter((l) => l.ratioMedian !== undefined).map((l) => `${times(l.ratioMedian)} at ${int(l.users)}`).join(', '),
      steps: steps.map((l) => `${kb(o(l).marginalHeapPerUserBytes)} (to ${int(l.users)})`).join(', '),
      flat: tail.length > 1 && Math.max(...tail) / Math.min(...tail) < 1.2,
      memoryTable: ours.map((l) => ({ ...o(l), users: l.users, perUser: l.users > 1 ? o(l).cacheHeapPerUserBytes : undefined })),
      msalTable: msal.map((l) => ({ ...m(l), users: l.users, perUser: l.users > 1 ? m(l).cacheHeapPerUserBytes : undefined })),
      firstLevelHeap: r.heap.oursFirstLevelBytes ?? 0,
      ttlArrays: 2 * 8 * r.config.cacheMaxEntries,
    },
    chart: lineChart({
      title: 'OBO token cache hit: time per hit vs cached users',
      note: `log-log; median solid, p99 dashed; ${r.machine.cpuCount} × ${r.machine.cpuModel}, Node ${r.machine.node}, ${r.date.slice(0, 10)}`,
      xLabel: 'cached users',
      yLabel: 'time per cache hit',
      log: true,
      yFormat: (v) => us(v).replace(/\.0+ /, ' '),
      series: [
        { name: 'nestjs-obo (median)', color: BLUE, points: ours.map((l) => ({ x: l.users, y: o(l).medianUs, label: us(o(l).medianUs) })) },
        { name: 'nestjs-obo (p99)', color: BLUE, dashed: true, points: ours.map((l) => ({ x: l.users, y: o(l).p99Us })) },
        { name: 'msal-node, shared CCA (median)', color: RED, points: msal.map((l) => ({ x: l.users, y: m(l).medianUs, label: us(m(l).medianUs) })) },
        { name: 'msal-node, shared CCA (p99)', color: RED, dashed: true, points: msal.map((l) => ({ x: l.users, y: m(l).p99Us })) },
      ],
    }),
  };
}

await benchMain(NAME, run, render);
