// Cold bursts (provider requests per burst of first calls) and a provider outage (time-to-answer
// while the token endpoint hangs): ours (TokenAcquisition from OboModule) vs one shared msal-node
// ConfidentialClientApplication. One process, one LocalAuthority whose counters are the ground truth.
import { Logger } from '@nestjs/common';
import type { AuthenticationResult, ConfidentialClientApplication } from '@azure/msal-node';
import type { Principal } from '../libs/obo/src/index.js';
import { barChart, BLUE, RED } from './lib/chart.js';
import { entraOptions, mintAssertion, newMsalClient, oboModule, principalFor, startFixture, type Fixture, type Ours } from './lib/fixture.js';
import { benchMain, ForeignCpu, foreignCpuLine, header, int, log, ms, pick, type RunHeader } from './lib/report.js';
import { burst, burstTable, hungBurst, outageTable, pendingBurst, type BurstRow, type OutageRow } from './lib/burst.js';

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

interface Result extends RunHeader {
  config: typeof config;
  foreignCpu: { seconds: number; share: number; outageTimed: { seconds: number; wallSeconds: number } };
  bursts: BurstRow[];
  outages: OutageRow[];
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
  const counts = () => ({ ...authority.requests, grants: authority.tokenRequests.onBehalfOf });
  const ours = (timeoutMs?: number) => oboModule(entraOptions(fixture, timeoutMs ? { tokenAcquisition: { timeoutMs } } : {}));
  const oursCall = (o: Ours) => (p: Principal) => o.acquisition.getAccessTokenForUser(scopes, { principal: p });
  const msalCall = (m: ConfidentialClientApplication) => async (p: Principal) => tokenOf(await m.acquireTokenOnBehalfOf({ oboAssertion: p.assertion, scopes }));

  // Cold bursts. "cold": a new client's first calls (it must discover the authority too); "warm": a
  // new client that made one call for another user first (nothing of the burst's users cached).
  const bursts: BurstRow[] = [];
  const measure = async (scenario: BurstRow['scenario'], state: string, client: 'ours' | 'msal', users: number, callsPerUser: number, call: (p: Principal) => Promise<string>) => {
    if (state === 'warm') await call(warmUser);
    bursts.push(await burst({ scenario, state, client, users, callsPerUser, target: client === 'ours' ? users : undefined }, (i) => call(principals[i]!), counts, () => authority.resetCounters(), client === 'ours' || users === 1));
    log(`${scenario} (${state}) / ${client}: ${bursts.at(-1)!.tokenRequests} token POSTs, wall ${ms(bursts.at(-1)!.wallMs)}`);
  };
  for (const state of ['cold', 'warm'] as const) {
    await measure('one user', state, 'ours', 1, config.sameUserCalls, oursCall(await ours()));
    await measure('one user', state, 'msal', 1, config.sameUserCalls, msalCall(newMsalClient(fixture)));
    await measure('many users', state, 'ours', config.users, config.callsPerUser, oursCall(await ours()));
    await measure('many users', state, 'msal', config.msalUsers, config.callsPerUser, msalCall(newMsalClient(fixture)));
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
  const before = counts().token;
  const msalBurst = pendingBurst('msal', 'msal-node defaults', n, (i) => msalCall(msal)(principals[i]!), counts);
  for (let i = 0; i < 100 && counts().token - before < n; i++) await new Promise((r) => setTimeout(r, 50));
  const foreignBefore = foreign.seconds();
  const timedFrom = performance.now();
  for (const [label, o] of [['default deadline', ours10], ['deadline 2 s', ours2], ['deadline 2 s, cold client', ours2cold]] as const) {
    outages.push(await hungBurst('ours', label, n, (i) => oursCall(o)(principals[i]!), counts, o.options.tokenAcquisition.timeoutMs));
  }
  const outageTimed = { seconds: foreign.seconds() - foreignBefore, wallSeconds: (performance.now() - timedFrom) / 1000 };
  outages.push(await msalBurst.collect(config.msalWaitSeconds, outages));
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
      bursts: burstTable(r.bursts),
      outages: outageTable(r.outages, (o) => (o.client === 'ours' ? `nestjs-obo, ${o.label}` : 'msal-node (shared CCA, defaults)')),
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
