// Cold bursts (provider requests per burst of first calls) and a provider outage (time-to-answer
// while the token endpoint hangs): ours (TokenAcquisition from OboModule) vs one shared msal-node
// ConfidentialClientApplication. One process, one LocalAuthority whose counters are the ground truth.
import { Logger } from '@nestjs/common';
import type { AuthenticationResult, ConfidentialClientApplication } from '@azure/msal-node';
import type { Principal } from '../libs/obo/src/index.js';
import { barChart, BLUE, RED } from './lib/chart.js';
import { entraOptions, mintAssertion, newMsalClient, oboModule, principalFor, startFixture, type Fixture, type Ours } from './lib/fixture.js';
import { benchMain, ForeignCpu, foreignCpuLine, header, int, log, ms, pick, type RunHeader } from './lib/report.js';
import { errorList, runBurst, settledFigures, startBurst } from './lib/stats.js';

const NAME = 'resilience-bursts';
const config = {
  /** Concurrent first calls of one user. */
  sameUserCalls: pick(1_000, 200),
  /** Distinct users, each called `callsPerUser` times, all at once. */
  users: pick(1_000, 100),
  callsPerUser: 10,
  /** msal-node's users in that burst: it opens one connection per concurrent call (see the Method). */
  msalUsers: pick(100, 20),
  /** Concurrent first calls (distinct users) while the token endpoint hangs. */
  outageCalls: pick(1_000, 100),
  shortDeadlineMs: 2_000,
  /** How long we wait for msal-node's answers before giving up. */
  msalWaitSeconds: pick(30, 12),
};

interface BurstRow {
  readonly scenario: 'one user' | 'many users';
  readonly state: 'cold' | 'warm';
  readonly client: 'ours' | 'msal';
  readonly users: number;
  readonly callsPerUser: number;
  readonly calls: number;
  readonly tokenRequests: number;
  readonly discoveryRequests: number;
  readonly target?: number;
  readonly failed: number;
  readonly errors: Record<string, number>;
  readonly distinctTokens: number;
  readonly wallMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** One more call per user afterwards: all must be cache hits. */
  readonly followUp?: { readonly calls: number; readonly tokenRequests: number };
}
interface OutageRow {
  readonly client: 'ours' | 'msal';
  readonly label: string;
  readonly calls: number;
  readonly answered: number;
  readonly waitedMs: number;
  readonly tokenRequests: number;
  /** Of these, how many reached the authority after the last caller's deadline (ours only). */
  readonly tokenRequestsAfterDeadline?: number;
  readonly discoveryRequests: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly maxMs?: number;
  readonly errors: Record<string, number>;
}
interface Result extends RunHeader {
  readonly config: typeof config;
  readonly foreignCpu: { seconds: number; share: number; outageTimed: { seconds: number; wallSeconds: number } };
  readonly bursts: readonly BurstRow[];
  readonly outages: readonly OutageRow[];
}

const tokenOf = (r: AuthenticationResult | null) => r?.accessToken ?? Promise.reject(new Error('msal returned no token'));

async function run(): Promise<Result> {
  Logger.overrideLogger(false); // the exchanger warns per failed provider call (thousands here); counts are reported instead
  const foreign = new ForeignCpu();
  const fixture: Fixture = await startFixture();
  const { authority } = fixture;
  const scopes = [fixture.scope];
  const userCount = Math.max(config.users, config.msalUsers, config.outageCalls);
  const principals: Principal[] = Array.from({ length: userCount + 2 }, (_, i) => principalFor(mintAssertion(fixture, i)));
  const [warmUser, warmUser2] = [principals[userCount]!, principals[userCount + 1]!]; // only to warm clients
  const counts = () => ({ token: authority.requests.token, obo: authority.tokenRequests.onBehalfOf, discovery: authority.requests.discovery });
  const ours = (timeoutMs?: number) => oboModule(entraOptions(fixture, timeoutMs ? { tokenAcquisition: { timeoutMs } } : {}));
  const oursCall = (o: Ours) => (p: Principal) => o.acquisition.getAccessTokenForUser(scopes, { principal: p });
  const msalCall = (m: ConfidentialClientApplication) => async (p: Principal) => tokenOf(await m.acquireTokenOnBehalfOf({ oboAssertion: p.assertion, scopes }));

  // Cold bursts. "cold": a new client's first calls (it must discover the authority too); "warm": a
  // new client that made one call for another user first (nothing of the burst's users cached).
  const bursts: BurstRow[] = [];
  const burst = async (scenario: BurstRow['scenario'], state: BurstRow['state'], client: BurstRow['client'], users: number, callsPerUser: number, call: (p: Principal) => Promise<string>, followUp: boolean) => {
    if (state === 'warm') await call(warmUser);
    authority.resetCounters();
    // Call i is user i % users: every user's calls are spread over the whole burst.
    const { settled, wallMs } = await runBurst(users * callsPerUser, (i) => call(principals[i % users]!));
    const c = counts();
    if (c.obo !== c.token) throw new Error(`${scenario}/${client}: ${c.token} token requests but ${c.obo} OBO grants`);
    const before = authority.requests.token;
    if (followUp) await runBurst(users, (i) => call(principals[i]!));
    const { failed, errors, distinctTokens, p50Ms, p99Ms } = settledFigures(settled, users * callsPerUser);
    const row: BurstRow = {
      ...{ scenario, state, client, users, callsPerUser, calls: users * callsPerUser, tokenRequests: c.token, discoveryRequests: c.discovery, target: client === 'ours' ? users : undefined },
      ...{ failed, errors, distinctTokens, wallMs, p50Ms: p50Ms!, p99Ms: p99Ms! },
      followUp: followUp ? { calls: users, tokenRequests: authority.requests.token - before } : undefined,
    };
    bursts.push(row);
    log(`${scenario} (${state}) / ${client}: ${int(row.calls)} calls → ${c.token} token POSTs, ${c.discovery} discovery GETs, ${row.failed} failed, wall ${ms(wallMs)}`);
  };
  for (const state of ['cold', 'warm'] as const) {
    await burst('one user', state, 'ours', 1, config.sameUserCalls, oursCall(await ours()), true);
    await burst('one user', state, 'msal', 1, config.sameUserCalls, msalCall(newMsalClient(fixture)), true);
    await burst('many users', state, 'ours', config.users, config.callsPerUser, oursCall(await ours()), true);
    await burst('many users', state, 'msal', config.msalUsers, config.callsPerUser, msalCall(newMsalClient(fixture)), false);
  }

  // Provider outage: the token endpoint accepts requests and never answers. The 10 s and 2 s clients
  // made one successful call first (a running service whose provider starts hanging).
  const outages: OutageRow[] = [];
  const [ours10, ours2, ours2cold] = [await ours(), await ours(config.shortDeadlineMs), await ours(config.shortDeadlineMs)];
  const msal = newMsalClient(fixture);
  await ours10.acquisition.getAccessTokenForUser(scopes, { principal: warmUser });
  await ours2.acquisition.getAccessTokenForUser(scopes, { principal: warmUser });
  await msal.acquireTokenOnBehalfOf({ oboAssertion: warmUser2.assertion, scopes });
  if (ours10.options.tokenAcquisition.timeoutMs !== 10_000) throw new Error('the default deadline is no longer 10 s: update this benchmark');
  authority.resetCounters();
  authority.injectTokenFault({ kind: 'hang' });
  const n = config.outageCalls;
  // msal-node first: its calls stay pending while ours run (hung sockets cost no CPU).
  const before = counts();
  const msalBurst = startBurst(n, (i) => msalCall(msal)(principals[i]!));
  for (let i = 0; i < 100 && authority.requests.token - before.token < n; i++) await new Promise((r) => setTimeout(r, 50));
  const oursRow = async (label: string, o: Ours) => {
    const c0 = counts();
    // Every call has started when startBurst returns, so the last caller's deadline is timeoutMs from now.
    const b = startBurst(n, (i) => oursCall(o)(principals[i]!));
    let atDeadline = c0;
    const snapshot = setTimeout(() => (atDeadline = counts()), o.options.tokenAcquisition.timeoutMs);
    const settled = await b.done;
    const waitedMs = performance.now() - b.startedAt;
    await new Promise((r) => setTimeout(r, 200)); // let late requests arrive
    clearTimeout(snapshot);
    const c1 = counts();
    const { answered, errors, p50Ms, p99Ms, maxMs } = settledFigures(settled, n);
    outages.push({ client: 'ours', label, calls: n, answered, waitedMs, tokenRequests: c1.token - c0.token, tokenRequestsAfterDeadline: c1.token - atDeadline.token, discoveryRequests: c1.discovery - c0.discovery, p50Ms, p99Ms, maxMs, errors });
    log(`outage / ours ${label}: p99 ${ms(p99Ms)}, ${c1.token - c0.token} token POSTs`);
  };
  const foreignBefore = foreign.seconds();
  const timedFrom = performance.now();
  await oursRow('default deadline', ours10);
  await oursRow('deadline 2 s', ours2);
  await oursRow('deadline 2 s, cold client', ours2cold);
  const outageTimed = { seconds: foreign.seconds() - foreignBefore, wallSeconds: (performance.now() - timedFrom) / 1000 };
  const waitUntil = msalBurst.startedAt + config.msalWaitSeconds * 1000;
  while (performance.now() < waitUntil && msalBurst.settled.length < n) await new Promise((r) => setTimeout(r, 250));
  const after = counts();
  const sum = (pick: (o: OutageRow) => number) => outages.reduce((s, o) => s + pick(o), 0);
  const { answered, errors, p50Ms, p99Ms, maxMs } = settledFigures([...msalBurst.settled], n);
  outages.push({
    ...{ client: 'msal', label: 'msal-node defaults', calls: n, answered, waitedMs: performance.now() - msalBurst.startedAt, p50Ms, p99Ms, maxMs, errors },
    // Counted over the whole window: ours' requests are subtracted.
    ...{ tokenRequests: after.token - before.token - sum((o) => o.tokenRequests), discoveryRequests: after.discovery - before.discovery - sum((o) => o.discoveryRequests) },
  });
  authority.clearTokenFaults();
  await Promise.race([authority.close(), new Promise((r) => setTimeout(r, 3_000))]); // close() drops the hung sockets; no straggler holds the run
  return { ...header(NAME, ['@azure/msal-node', '@azure/msal-common']), config, foreignCpu: { ...foreign.stop(), outageTimed }, bursts, outages };
}

const LAB_MSAL_HANG_MS = 300_900; // msal-node lab §5c: a network_error after 300.9 s on a hung token endpoint

function render(r: Result, node20?: Result) {
  const row = (x: Result, scenario: string, state: string, client: string) => x.bursts.find((b) => b.scenario === scenario && b.state === state && b.client === client)!;
  const one = { cold: row(r, 'one user', 'cold', 'ours'), msal: row(r, 'one user', 'cold', 'msal'), warm: row(r, 'one user', 'warm', 'ours'), msalWarm: row(r, 'one user', 'warm', 'msal') };
  const many = { cold: row(r, 'many users', 'cold', 'ours'), msal: row(r, 'many users', 'cold', 'msal'), warm: row(r, 'many users', 'warm', 'ours'), msalWarm: row(r, 'many users', 'warm', 'msal') };
  const outage = (x: Result, label: string) => x.outages.find((o) => o.label === label)!;
  const [o10, o2, o2cold, msal] = ['default deadline', 'deadline 2 s', 'deadline 2 s, cold client', 'msal-node defaults'].map((l) => outage(r, l)) as [OutageRow, OutageRow, OutageRow, OutageRow];
  const t = r.foreignCpu.outageTimed;
  const late = r.outages.filter((o) => (o.tokenRequestsAfterDeadline ?? 0) > 0);
  return {
    vars: {
      foreign: foreignCpuLine(r.foreignCpu, { what: `our outage rows (${t.wallSeconds.toFixed(0)} s)`, ...t }),
      bursts: r.bursts.map((b) => ({ ...b, label: b.users === 1 ? `1 user × ${int(b.calls)}` : `${int(b.users)} users × ${b.callsPerUser}`, errorText: errorList(b.errors) })),
      outages: r.outages.map((o) => ({ ...o, name: o.client === 'ours' ? `nestjs-obo, ${o.label}` : 'msal-node (shared CCA, defaults)', all: o.answered === o.calls, errorText: errorList(o.errors) })),
      one,
      many,
      o10,
      o2,
      o2cold,
      msal,
      o2p99Node20: node20 && outage(node20, 'deadline 2 s').p99Ms,
      manyWarmWall20: node20 && row(node20, 'many users', 'warm', 'ours').wallMs,
      msalWarmRatio: one.msalWarm.tokenRequests / Math.max(1, one.warm.tokenRequests),
      msalLuck: one.msal.tokenRequests < one.msal.calls / 2,
      msalScaled: many.msal.users !== r.config.users,
      perCall: { msal: many.msalWarm.tokenRequests / many.msalWarm.calls, ours: many.warm.tokenRequests / many.warm.calls },
      oursErrors: Object.keys(o10.errors).join(', '),
      vsLab: { o10: LAB_MSAL_HANG_MS / (o10.p99Ms ?? 1), o2: LAB_MSAL_HANG_MS / (o2.p99Ms ?? 1) },
      late: late.map((o) => `${o.label}: ${int(o.tokenRequestsAfterDeadline!)} of ${int(o.tokenRequests)}`).join('; '),
      warm2sShort: o2.tokenRequests < o2.calls,
      totalCalls: r.config.users * r.config.callsPerUser,
    },
    chart: barChart('Cold bursts and a hung provider: nestjs-obo vs plain msal-node', `log scales unless linear · blue: nestjs-obo · red: msal-node · hollow dashed bar: a lower bound (we stopped waiting) · Node ${r.machine.node}`, [
      { title: `Token requests: ${int(one.cold.calls)} concurrent first calls of one user (warm clients)`, unit: 'count', bars: [{ label: 'nestjs-obo', value: one.warm.tokenRequests, color: BLUE }, { label: 'msal-node', value: one.msalWarm.tokenRequests, color: RED }] },
      { title: 'Discovery GETs: the same burst on cold clients', unit: 'count', bars: [{ label: 'nestjs-obo', value: one.cold.discoveryRequests, color: BLUE }, { label: 'msal-node', value: one.msal.discoveryRequests, color: RED }] },
      { title: `Token requests per 1,000 calls: users × ${r.config.callsPerUser} concurrent calls (warm)`, unit: 'count', bars: [{ label: `nestjs-obo (${int(many.warm.users)} users)`, value: (many.warm.tokenRequests / many.warm.calls) * 1000, color: BLUE }, { label: `msal-node (${int(many.msalWarm.users)} users)`, value: (many.msalWarm.tokenRequests / many.msalWarm.calls) * 1000, color: RED }] },
      {
        title: `p99 time-to-answer of ${int(o10.calls)} calls, token endpoint hung`,
        unit: 'ms',
        bars: [
          { label: `nestjs-obo, ${r.config.shortDeadlineMs / 1000} s deadline`, value: o2.p99Ms ?? 0, color: BLUE },
          { label: 'nestjs-obo, default 10 s', value: o10.p99Ms ?? 0, color: BLUE },
          { label: 'msal-node, this run', value: msal.waitedMs, color: RED, open: true, text: `no answer in ${ms(msal.waitedMs)}` },
          { label: 'msal-node, measured by the lab', value: LAB_MSAL_HANG_MS, color: RED },
        ],
      },
    ]),
  };
}

await benchMain(NAME, run, render);
