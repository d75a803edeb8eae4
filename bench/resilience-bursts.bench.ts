// Cold bursts (provider requests per burst of first calls) and a provider outage (time-to-answer
// while the token endpoint hangs): ours (TokenAcquisition from OboModule) vs one shared msal-node
// ConfidentialClientApplication. One process, one LocalAuthority whose counters are the ground truth.
import { Logger } from '@nestjs/common';
import type { AuthenticationResult, ConfidentialClientApplication } from '@azure/msal-node';
import type { Principal } from '../libs/obo/src/index.js';
import { barChart, BLUE, RED } from './lib/chart.js';
import { entraOptions, mintAssertion, newMsalClient, oboModule, principalFor, startFixture, type Fixture, type Ours } from './lib/fixture.js';
import { benchMain, ForeignCpu, foreignCpuLine, header, int, log, machineLine, ms, pick, table, times, type RunHeader } from './lib/report.js';
import { percentile, runBurst, startBurst, tally, type Settlement } from './lib/stats.js';

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

const errorsOf = (settled: readonly Settlement<unknown>[]) => tally(settled.filter((s) => !s.ok).map((s) => s.error!));
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
    const times = settled.map((s) => s.ms);
    const row: BurstRow = {
      ...{ scenario, state, client, users, callsPerUser, calls: users * callsPerUser, tokenRequests: c.token, discoveryRequests: c.discovery, target: client === 'ours' ? users : undefined },
      ...{ failed: settled.filter((s) => !s.ok).length, errors: errorsOf(settled), distinctTokens: new Set(settled.filter((s) => s.ok).map((s) => s.value)).size },
      ...{ wallMs, p50Ms: percentile(times, 0.5), p99Ms: percentile(times, 0.99), followUp: followUp ? { calls: users, tokenRequests: authority.requests.token - before } : undefined },
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
    const times = settled.map((s) => s.ms);
    outages.push({ client: 'ours', label, calls: n, answered: settled.length, waitedMs, tokenRequests: c1.token - c0.token, tokenRequestsAfterDeadline: c1.token - atDeadline.token, discoveryRequests: c1.discovery - c0.discovery, p50Ms: percentile(times, 0.5), p99Ms: percentile(times, 0.99), maxMs: Math.max(...times), errors: errorsOf(settled) });
    log(`outage / ours ${label}: p99 ${ms(percentile(times, 0.99))}, ${c1.token - c0.token} token POSTs`);
  };
  const foreignBefore = foreign.seconds();
  const timedFrom = performance.now();
  await oursRow('default deadline', ours10);
  await oursRow('deadline 2 s', ours2);
  await oursRow('deadline 2 s, cold client', ours2cold);
  const outageTimed = { seconds: foreign.seconds() - foreignBefore, wallSeconds: (performance.now() - timedFrom) / 1000 };
  const waitUntil = msalBurst.startedAt + config.msalWaitSeconds * 1000;
  while (performance.now() < waitUntil && msalBurst.settled.length < n) await new Promise((r) => setTimeout(r, 250));
  const answered = [...msalBurst.settled];
  const after = counts();
  const msalTimes = answered.map((s) => s.ms);
  const sum = (pick: (o: OutageRow) => number) => outages.reduce((s, o) => s + pick(o), 0);
  outages.push({
    ...{ client: 'msal', label: 'msal-node defaults', calls: n, answered: answered.length, waitedMs: performance.now() - msalBurst.startedAt },
    // Counted over the whole window: ours' requests are subtracted.
    ...{ tokenRequests: after.token - before.token - sum((o) => o.tokenRequests), discoveryRequests: after.discovery - before.discovery - sum((o) => o.discoveryRequests) },
    ...{ p50Ms: answered.length === n ? percentile(msalTimes, 0.5) : undefined, p99Ms: answered.length === n ? percentile(msalTimes, 0.99) : undefined, maxMs: answered.length > 0 ? Math.max(...msalTimes) : undefined, errors: errorsOf(answered) },
  });
  authority.clearTokenFaults();
  await Promise.race([authority.close(), new Promise((r) => setTimeout(r, 3_000))]); // close() drops the hung sockets; no straggler holds the run
  return { ...header(NAME, ['@azure/msal-node', '@azure/msal-common']), config, foreignCpu: { ...foreign.stop(), outageTimed }, bursts, outages };
}

const LAB_MSAL_HANG_MS = 300_900; // msal-node lab §5c: a network_error after 300.9 s on a hung token endpoint

function render(r: Result, node20?: Result) {
  const row = (x: Result, scenario: string, state: string, client: string) => x.bursts.find((b) => b.scenario === scenario && b.state === state && b.client === client)!;
  const [a, aMsal, aWarm, aMsalWarm] = [row(r, 'one user', 'cold', 'ours'), row(r, 'one user', 'cold', 'msal'), row(r, 'one user', 'warm', 'ours'), row(r, 'one user', 'warm', 'msal')];
  const [b, bMsal, bWarm, bMsalWarm] = [row(r, 'many users', 'cold', 'ours'), row(r, 'many users', 'cold', 'msal'), row(r, 'many users', 'warm', 'ours'), row(r, 'many users', 'warm', 'msal')];
  const outage = (x: Result, label: string) => x.outages.find((o) => o.label === label)!;
  const [o10, o2, o2cold, msalOut] = ['default deadline', 'deadline 2 s', 'deadline 2 s, cold client', 'msal-node defaults'].map((l) => outage(r, l)) as [OutageRow, OutageRow, OutageRow, OutageRow];
  const perCall = (x: BurstRow) => (x.tokenRequests / x.calls).toFixed(2);
  const errorList = (errors: Record<string, number>) => Object.entries(errors).map(([k, v]) => `${k} ×${int(v)}`).join(', ');
  const plural = (n: number, word: string) => `${int(n)} ${word}${n === 1 ? '' : 's'}`;
  const burstTable = (x: Result) =>
    table(
      ['burst', 'client state', 'client', 'calls', 'token (OBO) requests', 'target', 'discovery GETs', 'distinct tokens returned', 'failed', 'p50 time-to-answer', 'p99', 'follow-up: requests / calls'],
      'lllrrrrrrrrr',
      x.bursts.map((b) => [b.scenario === 'one user' ? `1 user × ${int(b.calls)}` : `${int(b.users)} users × ${b.callsPerUser}`, b.state, b.client === 'ours' ? 'nestjs-obo' : 'msal-node (shared CCA)', int(b.calls), `**${int(b.tokenRequests)}**`, b.target === undefined ? '–' : int(b.target), int(b.discoveryRequests), int(b.distinctTokens), b.failed === 0 ? '0' : `${int(b.failed)} (${errorList(b.errors)})`, ms(b.p50Ms), ms(b.p99Ms), b.followUp ? `${int(b.followUp.tokenRequests)} / ${int(b.followUp.calls)}` : '–']),
    );
  const outageTable = (x: Result) =>
    table(
      ['client', 'calls', 'answered', 'p50', 'p99', 'max', 'token requests', 'of which arrived after the last caller’s deadline', 'discovery GETs', 'errors'],
      'lrrrrrrrrl',
      [
        ...x.outages.map((o) => [o.client === 'ours' ? `nestjs-obo, ${o.label}` : 'msal-node (shared CCA, defaults)', int(o.calls), o.answered === o.calls ? int(o.answered) : `**${int(o.answered)}** within ${ms(o.waitedMs)}`, o.p50Ms === undefined ? `> ${ms(o.waitedMs)}` : ms(o.p50Ms), o.p99Ms === undefined ? `> ${ms(o.waitedMs)}` : ms(o.p99Ms), o.maxMs === undefined ? '–' : ms(o.maxMs), int(o.tokenRequests), o.tokenRequestsAfterDeadline === undefined ? '–' : int(o.tokenRequestsAfterDeadline), int(o.discoveryRequests), errorList(o.errors) || '–']),
        ['msal-node, measured by the lab (msal-node lab, §5c; not this run)', 1, 1, '300.9 s', '300.9 s', '300.9 s', '–', '–', '–', 'network_error'],
      ],
    );
  const late = r.outages.filter((o) => (o.tokenRequestsAfterDeadline ?? 0) > 0);
  const msalScaled = bMsal.users !== r.config.users;
  const t = r.foreignCpu.outageTimed;
  return {
    vars: {
      date: r.date,
      duration: r.durationSeconds,
      foreign: foreignCpuLine(r.foreignCpu, { what: `our outage rows (${t.wallSeconds.toFixed(0)} s)`, ...t }),
      machine: machineLine(r.machine, r.loadAverageAtEnd),
      msalNode: r.versions['@azure/msal-node']!,
      msalCommon: r.versions['@azure/msal-common']!,
      bursts: burstTable(r),
      outages: outageTable(r),
      node: r.machine.node,
      vsNode20: node20 ? `p99 time-to-answer with the 2 s deadline ${ms(o2.p99Ms)} (Node 20: ${ms(outage(node20, 'deadline 2 s').p99Ms)}); ours' many-users burst wall time ${ms(bWarm.wallMs)} warm (Node 20: ${ms(row(node20, 'many users', 'warm', 'ours').wallMs)})` : '',
      aCalls: int(a.calls),
      aCold: plural(a.tokenRequests, 'token request'),
      aWarm: int(aWarm.tokenRequests),
      aDiscovery: plural(a.discoveryRequests, 'discovery GET'),
      aMsalWarm: int(aMsalWarm.tokenRequests),
      aMsalRatio: times(aMsalWarm.tokenRequests / Math.max(1, aWarm.tokenRequests)),
      aMsalCold: plural(aMsal.tokenRequests, 'token request'),
      aMsalDiscovery: int(aMsal.discoveryRequests),
      aMsalLuck: aMsal.tokenRequests < aMsal.calls / 2 ? ': cold, its calls are spread out by their own discovery requests, so the first token came back before most of the others looked in the cache; that is luck of timing on loopback (the lab saw 100 token requests for 100 cold calls with 50 ms of provider latency, §3), not coalescing' : '',
      users: int(r.config.users),
      callsPerUser: r.config.callsPerUser,
      bCold: int(b.tokenRequests),
      bWarm: int(bWarm.tokenRequests),
      bCalls: int(b.calls),
      bDiscovery: plural(b.discoveryRequests, 'discovery GET'),
      bMsalScaled: msalScaled ? ` (${int(bMsal.users)} users × ${bMsal.callsPerUser}, scaled down: see Method)` : '',
      bMsalWarm: int(bMsalWarm.tokenRequests),
      bMsalCalls: int(bMsalWarm.calls),
      bMsalPerCall: perCall(bMsalWarm),
      bOursPerCall: perCall(bWarm),
      bMsalCold: int(bMsal.tokenRequests),
      bMsalColdDiscovery: int(bMsal.discoveryRequests),
      outageCalls: int(o10.calls),
      oursErrors: Object.keys(o10.errors).join(', '),
      o10p50: ms(o10.p50Ms),
      o10p99: ms(o10.p99Ms),
      shortDeadline: r.config.shortDeadlineMs,
      o2p50: ms(o2.p50Ms),
      o2p99: ms(o2.p99Ms),
      o2coldP99: ms(o2cold.p99Ms),
      msalAnswered: int(msalOut.answered),
      msalWaited: ms(msalOut.waitedMs),
      vsLab10: times(LAB_MSAL_HANG_MS / (o10.p99Ms ?? 1)),
      vsLab2: times(LAB_MSAL_HANG_MS / (o2.p99Ms ?? 1)),
      afterDeadline: late.length === 0
        ? "none of ours reached the authority after the last caller's deadline: a call whose deadline has passed sends nothing more, even when msal finishes its own work later (unit-tested with a slow client assertion)."
        : `counted by the authority after the last caller's deadline (${late.map((o) => `${o.label}: ${int(o.tokenRequestsAfterDeadline!)} of ${int(o.tokenRequests)}`).join('; ')}). The authority runs on this process's event loop under the burst, so a request sent just before the deadline can be read after it; the library sends nothing for a call whose deadline has passed, even when msal finishes its own work later (unit-tested with a slow client assertion).`,
      warm2s: o2.tokenRequests < o2.calls ? `\n- **Warm client, 2 s:** ${int(o2.tokenRequests)} of ${int(o2.calls)} token requests reached the authority before the deadline: each call opens its own TLS connection and runs msal's request building, and this process (client and authority on the same 2 cores) did not get through ${int(o2.calls)} of them in 2 s (with the 10 s deadline all ${int(o10.tokenRequests)} arrived). The calls still answered at the deadline.` : '',
      sameUserCalls: int(r.config.sameUserCalls),
      totalCalls: int(r.config.users * r.config.callsPerUser),
      msalMethod: msalScaled
        ? `ran ${int(bMsal.users)} users × ${bMsal.callsPerUser} (${int(bMsal.calls)} concurrent calls). msal-node opens a connection per concurrent call (undici's pool is unbounded), and 10,000 at once overrun this setup (client and authority share one process and its 20,000 file descriptors): in a trial run with 1,000 users most of its calls failed with \`network_error\` / \`endpoints_resolution_error\` before reaching the authority. The requests-per-call figure is what carries over.`
        : `ran the same ${int(r.config.users)} users × ${r.config.callsPerUser} calls.`,
      msalWait: r.config.msalWaitSeconds,
    },
    chart: barChart('Cold bursts and a hung provider: nestjs-obo vs plain msal-node', `log scales unless linear · blue: nestjs-obo · red: msal-node · hollow dashed bar: a lower bound (we stopped waiting) · Node ${r.machine.node}`, [
      { title: `Token requests: ${int(a.calls)} concurrent first calls of one user (warm clients)`, unit: 'count', bars: [{ label: 'nestjs-obo', value: aWarm.tokenRequests, color: BLUE }, { label: 'msal-node', value: aMsalWarm.tokenRequests, color: RED }] },
      { title: 'Discovery GETs: the same burst on cold clients', unit: 'count', bars: [{ label: 'nestjs-obo', value: a.discoveryRequests, color: BLUE }, { label: 'msal-node', value: aMsal.discoveryRequests, color: RED }] },
      { title: `Token requests per 1,000 calls: users × ${r.config.callsPerUser} concurrent calls (warm)`, unit: 'count', bars: [{ label: `nestjs-obo (${int(bWarm.users)} users)`, value: (bWarm.tokenRequests / bWarm.calls) * 1000, color: BLUE }, { label: `msal-node (${int(bMsalWarm.users)} users)`, value: (bMsalWarm.tokenRequests / bMsalWarm.calls) * 1000, color: RED }] },
      {
        title: `p99 time-to-answer of ${int(o10.calls)} calls, token endpoint hung`,
        unit: 'ms',
        bars: [
          { label: `nestjs-obo, ${r.config.shortDeadlineMs / 1000} s deadline`, value: o2.p99Ms ?? 0, color: BLUE },
          { label: 'nestjs-obo, default 10 s', value: o10.p99Ms ?? 0, color: BLUE },
          { label: 'msal-node, this run', value: msalOut.waitedMs, color: RED, open: true, text: `no answer in ${ms(msalOut.waitedMs)}` },
          { label: 'msal-node, measured by the lab', value: LAB_MSAL_HANG_MS, color: RED },
        ],
      },
    ]),
  };
}

await benchMain(NAME, run, render);
