// Memory ceiling of our in-memory token cache (L1) under churn: 1,000,000 distinct users streamed
// through TokenAcquisition (OboModule defaults: tokenAcquisition.cacheMaxEntries 10,000), heapUsed
// after gc every 100,000 users. The provider is stubbed: this measures our cache bound, not msal or HTTP.
import type { Principal } from '../libs/obo/src/index.js';
import { BLUE, GREY, lineChart } from './lib/chart.js';
import { entraOptions, MintingExchanger, mintAssertion, oboModule, principalFor, startFixture, syntheticPrincipal, VariantExchanger } from './lib/fixture.js';
import { benchMain, ForeignCpu, foreignCpuLine, header, int, log, mb, pick, type RunHeader } from './lib/report.js';
import { heapAfterGc, pool, type HeapFigures } from './lib/stats.js';

const NAME = 'resilience-churn';
const config = { users: pick(1_000_000, 60_000), sampleEvery: pick(100_000, 20_000), maxSeconds: 80, concurrency: 32 };
const STEP = 10_000;

interface Sample {
  users: number;
  heapUsedBytes: number;
  rssBytes: number;
  cacheEntries: number;
  ownerIndexEntries: number;
}
interface Result extends RunHeader {
  config: typeof config & { cacheMaxEntries: number };
  foreignCpu: { seconds: number; share: number };
  assertionLengthChars: number;
  downstreamTokenLengthChars: number;
  tokenLifetimeSeconds: number;
  streamedUsers: number;
  stoppedByTime: boolean;
  streamSeconds: number;
  emptyCacheHeapBytes: number;
  samples: Sample[];
}

async function run(): Promise<Result> {
  const foreign = new ForeignCpu();
  // Realistic token texts, minted once by the local authority.
  const fixture = await startFixture();
  const scopes = [fixture.scope];
  const template = principalFor(mintAssertion(fixture, 0));
  const downstream = (await new MintingExchanger(fixture).onBehalfOf({ assertion: template.assertion, scopes, tenantId: fixture.authority.tenantId })).accessToken;
  const lifetimeSeconds = fixture.authority.tokenLifetimeSeconds;
  await fixture.authority.close();
  // User i: its own assertion (the template with i in its signature part: a new flat string) and object id.
  const userAt = (i: number): Principal => syntheticPrincipal(template, i, (n) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`, 'oid');
  const stream = async (acquisition: typeof ours.acquisition, from: number, to: number) =>
    pool(from, to, config.concurrency, async (i) => {
      if ((await acquisition.getAuthenticationResultForUser(scopes, { principal: userAt(i) })).fromCache) throw new Error(`user ${i} was already cached`);
    });

  const options = entraOptions(fixture); // no tokenAcquisition settings: the defaults
  const exchanger = new VariantExchanger(downstream, lifetimeSeconds * 1000);
  const ours = await oboModule(options, exchanger);
  const maxEntries = ours.options.tokenAcquisition.cacheMaxEntries;
  const internals = ours.cache as unknown as { byOwner: Map<string, unknown>; inFlight: Map<string, unknown> };
  // Warm-up on a throwaway module (JIT, lazily allocated LRU arrays), so one-time costs are not in the samples.
  const warm = await oboModule(options, new VariantExchanger(downstream, lifetimeSeconds * 1000));
  await stream(warm.acquisition, 10_000_000, 10_000_000 + 2 * maxEntries);
  await warm.module.close();

  const samples: Sample[] = [];
  const sampleAt = (users: number, h: HeapFigures) => {
    samples.push({ users, heapUsedBytes: h.heapUsed, rssBytes: h.rss, cacheEntries: ours.cache.size, ownerIndexEntries: internals.byOwner.size });
    log(`${int(users).padStart(9)} users: heapUsed ${mb(h.heapUsed)}, cache ${int(ours.cache.size)} entries, owner index ${int(internals.byOwner.size)}`);
  };
  const empty = await heapAfterGc();
  sampleAt(0, empty);
  const streamStart = Date.now();
  let streamed = 0;
  let streamMs = 0;
  let stoppedByTime = false;
  while (streamed < config.users) {
    const end = Math.min(config.users, streamed + STEP);
    const t0 = performance.now();
    await stream(ours.acquisition, streamed, end);
    streamMs += performance.now() - t0;
    streamed = end;
    if (ours.cache.size !== Math.min(streamed, maxEntries)) throw new Error(`cache holds ${ours.cache.size} entries after ${streamed} users`);
    if (streamed === maxEntries || streamed % config.sampleEvery === 0 || streamed === config.users) sampleAt(streamed, await heapAfterGc());
    if ((Date.now() - streamStart) / 1000 > config.maxSeconds && streamed < config.users) {
      stoppedByTime = true;
      if (samples.at(-1)!.users !== streamed) sampleAt(streamed, await heapAfterGc());
      break;
    }
  }
  // The bound is LRU: the newest users are cached, the oldest are gone.
  const last = await ours.acquisition.getAuthenticationResultForUser(scopes, { principal: userAt(streamed - 1) });
  const first = await ours.acquisition.getAuthenticationResultForUser(scopes, { principal: userAt(0) });
  if (!last.fromCache || (streamed > maxEntries && first.fromCache)) throw new Error('the cache did not keep the most recent users');
  if (exchanger.calls !== streamed + 1) throw new Error(`the stub was called ${exchanger.calls} times for ${streamed + 1} misses`);
  if (internals.inFlight.size !== 0) throw new Error('acquisitions left in flight');
  await ours.module.close();
  return {
    ...header(NAME, ['lru-cache']),
    config: { ...config, cacheMaxEntries: maxEntries },
    foreignCpu: foreign.stop(),
    assertionLengthChars: template.assertion.length,
    downstreamTokenLengthChars: downstream.length,
    tokenLifetimeSeconds: lifetimeSeconds,
    streamedUsers: streamed,
    stoppedByTime,
    streamSeconds: streamMs / 1000,
    emptyCacheHeapBytes: empty.heapUsed,
    samples,
  };
}

function render(r: Result, node20?: Result) {
  const max = r.config.cacheMaxEntries;
  const empty = r.emptyCacheHeapBytes;
  const perUser = (x: Result) => (x.samples.find((s) => s.users === x.config.cacheMaxEntries)!.heapUsedBytes - x.emptyCacheHeapBytes) / x.config.cacheMaxEntries;
  const plateau = r.samples.filter((s) => s.users >= r.config.sampleEvery);
  const heaps = plateau.map((s) => s.heapUsedBytes);
  // Least-squares slope of heapUsed over the plateau, bytes per 100,000 users.
  const xs = plateau.map((s) => s.users / 100_000);
  const [mx, my] = [xs.reduce((a, b) => a + b, 0) / xs.length, heaps.reduce((a, b) => a + b, 0) / heaps.length];
  const slope = xs.length < 2 ? 0 : xs.reduce((sum, x, i) => sum + (x - mx) * (heaps[i]! - my), 0) / xs.reduce((sum, x) => sum + (x - mx) ** 2, 0);
  const [lo, hi] = [Math.min(...heaps), Math.max(...heaps)];
  return {
    vars: {
      foreign: foreignCpuLine(r.foreignCpu),
      table: r.samples.map((s) => ({ ...s, growth: s.heapUsedBytes - empty })),
      perUser: perUser(r),
      perUser20: node20 && perUser(node20),
      plateau: { from: plateau[0]?.users ?? 0, lo, hi, spread: hi - lo, slopeMb: slope / 1048576, flat: plateau.length > 1 && (hi - lo) / (perUser(r) * max) < 0.25 },
      usersPerSecond: r.streamedUsers / r.streamSeconds,
      indexAtEnd: r.samples.at(-1)!.ownerIndexEntries,
      cap: perUser(r) * max,
      msalMillionGb: (5.2 * 1_000_000) / 1024 / 1024,
      partial: r.stoppedByTime || r.streamedUsers < 1_000_000,
      warmUsers: 2 * max,
    },
    chart: lineChart({
      title: `nestjs-obo token cache under churn: heapUsed after gc (default bound ${int(max)} entries)`,
      note: `${int(r.streamedUsers)} distinct users, one miss each, provider stubbed; the cache holds at most ${int(max)} tokens; Node ${r.machine.node}`,
      xLabel: 'distinct users streamed',
      yLabel: 'heapUsed after gc (MB)',
      yMax: (Math.max(...r.samples.map((s) => s.heapUsedBytes)) / 1048576) * 1.6,
      series: [
        { name: 'heapUsed after gc', color: BLUE, points: r.samples.map((s) => ({ x: s.users, y: s.heapUsedBytes / 1048576 })) },
        { name: 'empty cache (after warm-up)', color: GREY, dashed: true, points: [{ x: 0, y: empty / 1048576 }, { x: r.streamedUsers, y: empty / 1048576 }] },
      ],
    }),
  };
}

await benchMain(NAME, run, render);
