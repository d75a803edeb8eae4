// Cold bursts and a provider outage, ours vs plain msal-node, one process, one LocalAuthority:
//   1. 1,000 concurrent first calls of one user, then 1,000 users × 10 concurrent calls each, on cold
//      clients: token (OBO) requests and discovery GETs the authority receives;
//   4. the token endpoint hangs: time-to-answer of 1,000 concurrent first calls, ours at the default
//      10 s deadline and at 2 s, vs msal-node (bounded: we stop waiting at 30 s).
// Run with `npm run bench -- resilience-bursts` (scripts/bench.mjs).
import type { AuthenticationResult, ConfidentialClientApplication } from '@azure/msal-node';
import type { Principal } from '../libs/obo/src/context/principal.js';
import { mintAssertion, principalFor, startFixture } from './lib/fixture.js';
import { errorCounts, percentile, runBurst, startBurst, type Settlement } from './lib/resilience-burst.js';
import { barChart } from './lib/resilience-chart.js';
import { buildOurs, newMsalClient, type Ours } from './lib/resilience-providers.js';
import { command, ForeignCpu, foreignCpuLine, int, intEnv, isDefaultRun, logger, machine, machineLine, ms, packageVersion, ratio, updateSection, writeChart, writeResult } from './lib/resilience-report.js';
import os from 'node:os';
import { Logger } from '@nestjs/common';

const NAME = 'resilience-bursts';
const config = {
  /** (a) concurrent first calls of one user. */
  sameUserCalls: intEnv('BENCH_SAME_USER_CALLS', 1_000),
  /** (b) distinct users, each called `callsPerUser` times, all at once. */
  users: intEnv('BENCH_USERS', 1_000),
  callsPerUser: intEnv('BENCH_CALLS_PER_USER', 10),
  /**
   * (b) for msal-node: its users. msal opens one connection per concurrent call; 10,000 at once
   * overrun this same-process authority (see the Method), 1,000 at once (as in (a)) do not.
   */
  msalUsers: intEnv('BENCH_MSAL_USERS', 100),
  /** 4. concurrent first calls (distinct users) while the token endpoint hangs. */
  outageCalls: intEnv('BENCH_OUTAGE_CALLS', 1_000),
  shortDeadlineMs: intEnv('BENCH_SHORT_DEADLINE_MS', 2_000),
  /** How long we wait for msal-node's answers before giving up. */
  msalWaitSeconds: intEnv('BENCH_MSAL_WAIT_S', 30),
};
// The exchanger logs a warning per failed provider call (thousands here); the counts are reported instead.
Logger.overrideLogger(false);
const started = Date.now();
const log = logger(started);
const host = machine();
const foreign = new ForeignCpu();

const fixture = await startFixture();
const { authority } = fixture;
const scopes = [fixture.scope];
const userCount = Math.max(config.users, config.msalUsers, config.outageCalls, 2);
const principals: Principal[] = Array.from({ length: userCount + 2 }, (_, i) => principalFor(mintAssertion(fixture, i)));
const warmUser = principals[userCount]!; // used only to warm clients before the outage
const warmUser2 = principals[userCount + 1]!;
log(`minted ${principals.length} user assertions`);

interface Count {
  readonly token: number;
  readonly obo: number;
  readonly discovery: number;
  readonly jwks: number;
  readonly usersSeen: number;
}
function counts(): Count {
  const t = authority.tokenRequests;
  return { token: authority.requests.token, obo: t.onBehalfOf, discovery: authority.requests.discovery, jwks: authority.requests.jwks, usersSeen: t.byUser.size };
}
const tokenOf = (r: AuthenticationResult | null) => {
  if (!r?.accessToken) throw new Error('msal returned no token');
  return r.accessToken;
};

interface BurstRow {
  readonly scenario: string;
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
  /** Calls afterwards, one per user: all must be cache hits. */
  readonly followUp?: { readonly calls: number; readonly tokenRequests: number };
}
const bursts: BurstRow[] = [];

async function measureBurst(
  scenario: string,
  state: 'cold' | 'warm',
  client: 'ours' | 'msal',
  users: number,
  callsPerUser: number,
  target: number | undefined,
  call: (user: Principal) => Promise<string>,
  followUp?: boolean,
): Promise<BurstRow> {
  authority.resetCounters();
  const calls = users * callsPerUser;
  // Call i is user i % users: every user's calls are spread over the whole burst.
  const { settled, wallMs } = await runBurst(calls, (i) => call(principals[i % users]!));
  const c = counts();
  const times = settled.map((s) => s.ms);
  let follow: BurstRow['followUp'];
  if (followUp) {
    const before = authority.requests.token;
    await runBurst(users, (i) => call(principals[i]!));
    follow = { calls: users, tokenRequests: authority.requests.token - before };
  }
  const row: BurstRow = {
    scenario,
    state,
    client,
    users,
    callsPerUser,
    calls,
    tokenRequests: c.token,
    discoveryRequests: c.discovery,
    target,
    failed: settled.filter((s) => !s.ok).length,
    errors: errorCounts(settled),
    distinctTokens: new Set(settled.filter((s) => s.ok).map((s) => s.value)).size,
    wallMs,
    p50Ms: percentile(times, 0.5),
    p99Ms: percentile(times, 0.99),
    followUp: follow,
  };
  if (c.obo !== c.token) throw new Error(`${scenario}/${client}: ${c.token} token requests but ${c.obo} OBO grants`);
  bursts.push(row);
  log(
    `${scenario} (${state}) / ${client}: ${int(calls)} calls (${users} users × ${callsPerUser}) → ${c.token} token POSTs, ${c.discovery} discovery GETs, ` +
      `${row.failed} failed, ${row.distinctTokens} distinct tokens, wall ${ms(wallMs)}` +
      (follow ? `; follow-up ${follow.calls} calls → ${follow.tokenRequests} token POSTs` : ''),
  );
  return row;
}

// ---- 1: cold bursts. "cold": a new client's first calls (it must discover the authority too);
// "warm": a new client that made one call for another user first (discovery done, nothing of the
// burst's users cached). ----
const oursCall = (ours: Ours) => (p: Principal) => ours.acquisition.getAccessTokenForUser(scopes, { principal: p });
const msalCall = (msal: ConfidentialClientApplication) => async (p: Principal) => tokenOf(await msal.acquireTokenOnBehalfOf({ oboAssertion: p.assertion, scopes }));
for (const warm of [false, true]) {
  const state = warm ? 'warm' : 'cold';
  {
    const ours = buildOurs(fixture);
    if (warm) await ours.acquisition.getAccessTokenForUser(scopes, { principal: warmUser });
    await measureBurst('one user', state, 'ours', 1, config.sameUserCalls, 1, oursCall(ours), true);
    const msal = newMsalClient(fixture);
    if (warm) await msal.acquireTokenOnBehalfOf({ oboAssertion: warmUser.assertion, scopes });
    await measureBurst('one user', state, 'msal', 1, config.sameUserCalls, undefined, msalCall(msal), true);
  }
  {
    const ours = buildOurs(fixture);
    if (warm) await ours.acquisition.getAccessTokenForUser(scopes, { principal: warmUser });
    await measureBurst('many users', state, 'ours', config.users, config.callsPerUser, config.users, oursCall(ours), true);
    const msal = newMsalClient(fixture);
    if (warm) await msal.acquireTokenOnBehalfOf({ oboAssertion: warmUser.assertion, scopes });
    await measureBurst('many users', state, 'msal', config.msalUsers, config.callsPerUser, undefined, msalCall(msal), false);
  }
}

// ---- 4: provider outage: the token endpoint accepts requests and never answers ----
interface OutageRow {
  readonly client: 'ours' | 'msal';
  readonly label: string;
  readonly deadlineMs?: number;
  readonly warm: boolean;
  readonly calls: number;
  readonly answered: number;
  readonly waitedMs: number;
  readonly tokenRequests: number;
  /** Of these, how many reached the authority after the calls' deadline (ours only). */
  readonly tokenRequestsAfterDeadline?: number;
  readonly discoveryRequests: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly maxMs?: number;
  readonly errors: Record<string, number>;
}
const outages: OutageRow[] = [];
/** Other processes' CPU while ours' outage rows ran (the timed part that CPU can move). */
let outageTimed = { seconds: 0, wallSeconds: 0 };
{
  // Clients that already made one successful call (discovery done): a running service whose provider starts hanging.
  const ours10 = buildOurs(fixture);
  const ours2 = buildOurs(fixture, { timeoutMs: config.shortDeadlineMs });
  const ours2cold = buildOurs(fixture, { timeoutMs: config.shortDeadlineMs });
  const msal = newMsalClient(fixture);
  await ours10.acquisition.getAccessTokenForUser(scopes, { principal: warmUser });
  await ours2.acquisition.getAccessTokenForUser(scopes, { principal: warmUser });
  await msal.acquireTokenOnBehalfOf({ oboAssertion: warmUser2.assertion, scopes });
  if (ours10.options.tokenAcquisition.timeoutMs !== 10_000) throw new Error('the default deadline is no longer 10 s: update this benchmark');
  authority.resetCounters();
  authority.injectTokenFault({ kind: 'hang' });
  const n = config.outageCalls;
  const outageUsers = (i: number) => principals[i]!;

  // msal-node first: its calls stay pending while ours run (hung sockets cost no CPU).
  const before = counts();
  const msalBurst = startBurst(n, async (i) => tokenOf(await msal.acquireTokenOnBehalfOf({ oboAssertion: outageUsers(i).assertion, scopes })));
  // Let its requests reach the authority first, so the windows of ours' rows count only ours.
  for (let i = 0; i < 100 && authority.requests.token - before.token < n; i++) await new Promise((r) => setTimeout(r, 50));
  log(`outage: msal-node burst of ${n} started (${authority.requests.token - before.token} token POSTs arrived); we stop waiting after ${config.msalWaitSeconds} s`);

  const oursRow = async (label: string, ours: ReturnType<typeof buildOurs>, warm: boolean): Promise<void> => {
    const c0 = counts();
    // Each call's deadline starts when the call does; all are started by the time startBurst returns.
    // Requests that reach the authority after the last caller's deadline were sent for callers that
    // had all been answered already.
    const burst = startBurst(n, (i) => ours.acquisition.getAccessTokenForUser(scopes, { principal: outageUsers(i) }));
    let atDeadline: Count | undefined;
    const snapshot = setTimeout(() => (atDeadline = counts()), ours.options.tokenAcquisition.timeoutMs);
    const settled = await burst.done;
    const wallMs = performance.now() - burst.startedAt;
    await new Promise((r) => setTimeout(r, 200)); // let late requests arrive
    clearTimeout(snapshot);
    const c1 = counts();
    const times = settled.map((s) => s.ms);
    const row: OutageRow = {
      client: 'ours',
      label,
      deadlineMs: ours.options.tokenAcquisition.timeoutMs,
      warm,
      calls: n,
      answered: settled.length,
      waitedMs: wallMs,
      tokenRequests: c1.token - c0.token,
      tokenRequestsAfterDeadline: atDeadline ? c1.token - atDeadline.token : 0,
      discoveryRequests: c1.discovery - c0.discovery,
      p50Ms: percentile(times, 0.5),
      p99Ms: percentile(times, 0.99),
      maxMs: Math.max(...times),
      errors: errorCounts(settled),
    };
    outages.push(row);
    log(`outage / ours ${label}: ${n} calls answered, p50 ${ms(row.p50Ms)}, p99 ${ms(row.p99Ms)}, max ${ms(row.maxMs)}; ${row.tokenRequests} token POSTs (${row.tokenRequestsAfterDeadline} after the deadline), ${row.discoveryRequests} discovery GETs; ${JSON.stringify(row.errors)}`);
  };
  const foreignBefore = foreign.seconds();
  const timedFrom = performance.now();
  await oursRow('default deadline', ours10, true);
  await oursRow('deadline 2 s', ours2, true);
  await oursRow('deadline 2 s, cold client', ours2cold, false);
  outageTimed = { seconds: foreign.seconds() - foreignBefore, wallSeconds: (performance.now() - timedFrom) / 1000 };

  const waitUntil = msalBurst.startedAt + config.msalWaitSeconds * 1000;
  while (performance.now() < waitUntil && msalBurst.settled.length < n) await new Promise((r) => setTimeout(r, Math.min(250, Math.max(1, waitUntil - performance.now()))));
  const answered: Settlement<string>[] = [...msalBurst.settled];
  const msalWaited = performance.now() - msalBurst.startedAt;
  const after = counts();
  const msalTimes = answered.map((s) => s.ms);
  outages.push({
    client: 'msal',
    label: 'msal-node defaults',
    warm: true,
    calls: n,
    answered: answered.length,
    waitedMs: msalWaited,
    // Counted over the whole window: ours' requests are subtracted.
    tokenRequests: after.token - before.token - outages.reduce((sum, o) => sum + o.tokenRequests, 0),
    discoveryRequests: after.discovery - before.discovery - outages.reduce((sum, o) => sum + o.discoveryRequests, 0),
    p50Ms: answered.length === n ? percentile(msalTimes, 0.5) : undefined,
    p99Ms: answered.length === n ? percentile(msalTimes, 0.99) : undefined,
    maxMs: answered.length > 0 ? Math.max(...msalTimes) : undefined,
    errors: errorCounts(answered),
  });
  log(`outage / msal-node: ${answered.length} of ${n} calls answered within ${ms(msalWaited)}; giving up (the authority's close() drops the hung sockets)`);
  authority.clearTokenFaults();
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
  foreignCpu,
  date,
  durationSeconds: Math.round((Date.now() - started) / 1000),
  command,
  machine: host,
  loadAverageAtEnd: loadAtEnd,
  versions: { msalNode: packageVersion('@azure/msal-node'), msalCommon: packageVersion('@azure/msal-common') },
  config: { ...config, isDefaultRun },
  bursts,
  outages,
};
const file = writeResult(NAME, date, result);
log(`results: ${file}`);

const row = (scenario: string, state: 'cold' | 'warm', client: 'ours' | 'msal') => bursts.find((b) => b.scenario === scenario && b.state === state && b.client === client)!;
const a = { ours: row('one user', 'cold', 'ours'), msal: row('one user', 'cold', 'msal'), oursWarm: row('one user', 'warm', 'ours'), msalWarm: row('one user', 'warm', 'msal') };
const b = { ours: row('many users', 'cold', 'ours'), msal: row('many users', 'cold', 'msal'), oursWarm: row('many users', 'warm', 'ours'), msalWarm: row('many users', 'warm', 'msal') };
const o10 = outages.find((o) => o.client === 'ours' && o.label === 'default deadline')!;
const o2 = outages.find((o) => o.client === 'ours' && o.label === 'deadline 2 s')!;
const o2cold = outages.find((o) => o.client === 'ours' && o.label === 'deadline 2 s, cold client')!;
const msalOut = outages.find((o) => o.client === 'msal')!;
const msalScaled = b.msal.users !== config.users;
const perCall = (r: BurstRow) => r.tokenRequests / r.calls;

const chartPath = 'bench/resilience-bursts.svg';
const errorList = (errors: Record<string, number>) => Object.entries(errors).map(([k, v]) => `${k} ×${int(v)}`).join(', ');
const burstLine = (r: BurstRow) =>
  `| ${r.scenario === 'one user' ? `1 user × ${int(r.calls)}` : `${int(r.users)} users × ${r.callsPerUser}`} | ${r.state} | ${r.client === 'ours' ? 'nestjs-obo' : 'msal-node (shared CCA)'} | ${int(r.calls)} | **${int(r.tokenRequests)}** | ${r.target === undefined ? '–' : int(r.target)} | ${int(r.discoveryRequests)} | ${int(r.distinctTokens)} | ${r.failed === 0 ? '0' : `${int(r.failed)} (${errorList(r.errors)})`} | ${ms(r.p50Ms)} | ${ms(r.p99Ms)} | ${r.followUp ? `${int(r.followUp.tokenRequests)} / ${int(r.followUp.calls)}` : '–'} |`;
const outageLine = (o: OutageRow) =>
  `| ${o.client === 'ours' ? `nestjs-obo, ${o.label}` : 'msal-node (shared CCA, defaults)'} | ${int(o.calls)} | ${o.answered === o.calls ? int(o.answered) : `**${int(o.answered)}** within ${ms(o.waitedMs)}`} | ${o.p50Ms === undefined ? `> ${ms(o.waitedMs)}` : ms(o.p50Ms)} | ${o.p99Ms === undefined ? `> ${ms(o.waitedMs)}` : ms(o.p99Ms)} | ${o.maxMs === undefined ? '–' : ms(o.maxMs)} | ${int(o.tokenRequests)} | ${o.tokenRequestsAfterDeadline === undefined ? '–' : int(o.tokenRequestsAfterDeadline)} | ${int(o.discoveryRequests)} | ${errorList(o.errors) || '–'} |`;
const plural = (n: number, word: string) => `${int(n)} ${word}${n === 1 ? '' : 's'}`;

const section = [
  '## Cold bursts and a provider outage: nestjs-obo vs plain msal-node',
  '',
  'One process, one run, one `LocalAuthority` (https on 127.0.0.1, in this process, on the same cores) whose request counters are the ground truth.',
  "**Ours** is the module's real providers built without Nest DI (`resolveOboOptions`, `TokenCache`, `MsalTokenExchanger` with `createConfidentialClient`, `RequestContext`, `TokenAcquisition`), called through",
  '`TokenAcquisition.getAccessTokenForUser(scopes, { principal })`. **msal-node** is baseline 1: one shared `ConfidentialClientApplication` with its defaults, `acquireTokenOnBehalfOf({ oboAssertion, scopes })`.',
  'Every row gets new clients of both kinds. **Cold**: the client\'s very first calls (it must also discover the authority). **Warm**: the client made one call for another user first (discovery done, none of the burst\'s users cached).',
  '',
  `- **Run:** ${date}, ${result.durationSeconds} s in total; ${foreignCpuLine(foreignCpu.seconds, foreignCpu.share, { what: `our outage rows (${outageTimed.wallSeconds.toFixed(0)} s)`, ...outageTimed })}.`,
  `- **Machine:** ${machineLine(host, loadAtEnd)}.`,
  `- **Libraries:** @azure/msal-node ${result.versions.msalNode} (msal-common ${result.versions.msalCommon}).`,
  `- **Command:** \`${command} -- resilience-bursts\` (\`node scripts/bench.mjs resilience-bursts\`: trusts the local authority's TLS certificate, compiles \`bench/\` with \`tsc -p tsconfig.bench.json\`, runs \`node --expose-gc dist/bench/bench/resilience-bursts.bench.js\`; JSON in \`bench/results/\`).`,
  '',
  '### Cold bursts: provider requests',
  '',
  "All calls of a burst start in the same tick; call *i* belongs to user *i* mod *users*, so each user's calls are spread over the whole burst. Every user has its own",
  'access token for the Original API, minted and RS256-signed by the authority (a real OBO assertion that the token endpoint verifies).',
  '',
  '| burst | client state | client | calls | token (OBO) requests | target | discovery GETs | distinct tokens returned | failed | p50 time-to-answer | p99 | follow-up: requests / calls |',
  '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...bursts.map(burstLine),
  '',
  '"Follow-up": right after the burst, one more call per user; each must be a cache hit (0 requests). Time-to-answer is from the start of the burst, and includes the authority minting and signing a token per request on the same 2 cores.',
  '',
  `![Provider requests per burst, and time-to-answer while the provider hangs](${chartPath})`,
  '',
  '### Reading',
  '',
  `- **One user, ${int(a.ours.calls)} concurrent first calls:** ours made **${plural(a.ours.tokenRequests, 'token request')}** cold and ${int(a.oursWarm.tokenRequests)} warm (target 1), and ${plural(a.ours.discoveryRequests, 'discovery GET')} cold; every caller got the same token. ` +
    `msal-node made **${int(a.msalWarm.tokenRequests)}** token requests warm (${ratio(a.msalWarm.tokenRequests / Math.max(1, a.oursWarm.tokenRequests))} ours) and ${plural(a.msal.tokenRequests, 'token request')} cold, with **${int(a.msal.discoveryRequests)} discovery GETs**` +
    (a.msal.tokenRequests < a.msal.calls / 2
      ? ': cold, its calls are spread out by their own discovery requests, so the first token came back before most of the others looked in the cache; that is luck of timing on loopback (the lab saw 100 token requests for 100 cold calls with 50 ms of provider latency, §3), not coalescing. '
      : '. ') +
    'Our `TokenCache` runs one acquisition per cache key for all concurrent callers (single flight), and `MsalTokenExchanger` lets the first call to a cold authority run alone, so discovery happens once; msal-node coalesces neither (msal-node lab, §3).',
  `- **${int(config.users)} users × ${config.callsPerUser} concurrent calls:** ours made **${int(b.ours.tokenRequests)}** token requests cold and ${int(b.oursWarm.tokenRequests)} warm for ${int(b.ours.calls)} calls (target ${int(config.users)}: one per user), ${plural(b.ours.discoveryRequests, 'discovery GET')} cold. ` +
    `msal-node${msalScaled ? ` (${int(b.msal.users)} users × ${b.msal.callsPerUser}, scaled down: see Method)` : ''} made **${int(b.msalWarm.tokenRequests)}** token requests warm for ${int(b.msalWarm.calls)} calls (${perCall(b.msalWarm).toFixed(2)} per call; ours ${perCall(b.oursWarm).toFixed(2)}), and ${int(b.msal.tokenRequests)} token requests with ${int(b.msal.discoveryRequests)} discovery GETs cold.`,
  `- **Provider hangs:** ours answered every one of its ${int(o10.calls)} calls with \`${Object.keys(o10.errors).join(', ')}\` (the exception filter makes it a 504 with \`Retry-After\`): at the default deadline p50 ${ms(o10.p50Ms)} / p99 ${ms(o10.p99Ms)}; with \`tokenAcquisition.timeoutMs: ${config.shortDeadlineMs}\` p50 ${ms(o2.p50Ms)} / p99 ${ms(o2.p99Ms)} (cold client: p99 ${ms(o2cold.p99Ms)}). ` +
    `msal-node answered **${int(msalOut.answered)} of ${int(msalOut.calls)}** calls within the ${ms(msalOut.waitedMs)} we waited. The msal-node lab measured its answer on a hung token endpoint: a \`network_error\` after **300.9 s** (undici's default headers timeout; msal sets no timeout and has no option for one; msal-node lab, §5c). ` +
    `Against that figure, the default deadline answers ${ratio(300_900 / (o10.p99Ms ?? 1))} sooner at p99, the 2 s deadline ${ratio(300_900 / (o2.p99Ms ?? 1))} sooner.`,
  (() => {
    const late = outages.filter((o) => o.client === 'ours' && (o.tokenRequestsAfterDeadline ?? 0) > 0);
    const rows = late.map((o) => `${o.label}: ${int(o.tokenRequestsAfterDeadline!)} of ${int(o.tokenRequests)}`).join('; ');
    return late.length === 0
      ? '- **Requests after the deadline:** none of ours reached the authority after the last caller\'s deadline: a call whose deadline has passed sends nothing more, even when msal finishes its own work later (unit-tested with a slow client assertion).'
      : `- **Requests after the deadline:** counted by the authority after the last caller's deadline (${rows}). The authority runs on this process's event loop under the burst, so a request sent just before the deadline can be read after it; the library sends nothing for a call whose deadline has passed, even when msal finishes its own work later (unit-tested with a slow client assertion).`;
  })(),
  ...(o2.tokenRequests < o2.calls
    ? [
        `- **Warm client, 2 s:** ${int(o2.tokenRequests)} of ${int(o2.calls)} token requests reached the authority before the deadline: each call opens its own TLS connection and runs msal's request building, and this process (client and authority on the same 2 cores) did not get through ${int(o2.calls)} of them in 2 s (with the 10 s deadline all ${int(o10.tokenRequests)} arrived). The calls still answered at the deadline.`,
      ]
    : []),
  '- The machine has 2 noisy cores; the request counts do not depend on it, the times do.',
  '',
  '### Provider outage: time-to-answer',
  '',
  `The token endpoint accepts every request and never answers (\`authority.injectTokenFault({ kind: 'hang' })\`; discovery still works). ${int(config.outageCalls)} distinct users call at once (first calls: nothing cached);`,
  'time-to-answer is from the start of the burst until each call settles (all of ours settle with an error, as they must).',
  '',
  '| client | calls | answered | p50 | p99 | max | token requests | of which arrived after the last caller’s deadline | discovery GETs | errors |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ...outages.map(outageLine),
  '| msal-node, measured by the lab (msal-node lab, §5c; not this run) | 1 | 1 | 300.9 s | 300.9 s | 300.9 s | – | – | – | network_error |',
  '',
  '### Method',
  '',
  `- **Bursts:** ${int(config.sameUserCalls)} calls of one user; ${int(config.users)} users × ${config.callsPerUser} calls, all ${int(config.users * config.callsPerUser)} started at once. Counters are reset before each burst; "token requests" is the authority's count of POSTs to its token endpoint (all were OBO grants: checked), "discovery GETs" its count of OpenID configuration GETs. msal-node's in-memory cache is left as it is (the way it is used today); ours has no Redis level.`,
  msalScaled
    ? `- **msal-node in the many-users burst** ran ${int(b.msal.users)} users × ${b.msal.callsPerUser} (${int(b.msal.calls)} concurrent calls, as many as the one-user burst). msal-node opens a connection per concurrent call (undici's pool is unbounded), and 10,000 at once overrun this setup (client and authority share one process and its 20,000 file descriptors): in a trial run (\`BENCH_MSAL_USERS=1000\`) most of its calls failed with \`network_error\` / \`endpoints_resolution_error\` before reaching the authority. The requests-per-call figure is what carries over.`
    : `- **msal-node in the many-users burst** ran the same ${int(config.users)} users × ${config.callsPerUser} calls.`,
  `- **Outage:** the 10 s and 2 s clients made one successful call first (discovery done), then the fault was injected; the "cold client" row had made no call (its first call discovers the authority, then its token POST hangs; the other callers wait for it, within their own deadline). msal-node's ${int(config.outageCalls)} calls are started first and stay pending while ours run (hung sockets cost no CPU); ${config.msalWaitSeconds} s after they started we stop waiting and close the authority, which drops the hung sockets. We do not wait the 300 s: that figure is the lab's.`,
  "- **Ours under the outage:** at most one token POST per call (no retry: a second attempt would not fit in the deadline), abandoned at the call's deadline by `DeadlineNetworkClient` (an AbortSignal on the fetch), answered as `ERR_OBO_PROVIDER_TIMEOUT`. Requests still opening their TLS connection at the deadline never reach the authority.",
];
if (isDefaultRun || process.env.BENCH_UPDATE_DOCS === '1') {
  writeChart(
    chartPath,
    barChart({
      title: 'Cold bursts and a hung provider: nestjs-obo vs plain msal-node',
      panels: [
        {
          title: `Token requests: ${int(a.ours.calls)} concurrent first calls of one user (warm clients)`,
          unit: 'count',
          bars: [
            { label: 'nestjs-obo', value: a.oursWarm.tokenRequests, series: 'ours' },
            { label: 'msal-node', value: a.msalWarm.tokenRequests, series: 'msal' },
          ],
        },
        {
          title: `Discovery GETs: the same burst on cold clients`,
          unit: 'count',
          bars: [
            { label: 'nestjs-obo', value: a.ours.discoveryRequests, series: 'ours' },
            { label: 'msal-node', value: a.msal.discoveryRequests, series: 'msal' },
          ],
        },
        {
          title: `Token requests per 1,000 calls: users × ${config.callsPerUser} concurrent calls (warm)`,
          unit: 'count',
          bars: [
            { label: `nestjs-obo (${int(b.oursWarm.users)} users)`, value: perCall(b.oursWarm) * 1000, series: 'ours' },
            { label: `msal-node (${int(b.msalWarm.users)} users)`, value: perCall(b.msalWarm) * 1000, series: 'msal' },
          ],
        },
        {
          title: `p99 time-to-answer of ${int(config.outageCalls)} calls, token endpoint hung`,
          unit: 'ms',
          bars: [
            { label: `nestjs-obo, ${config.shortDeadlineMs / 1000} s deadline`, value: o2.p99Ms ?? 0, series: 'ours' },
            { label: 'nestjs-obo, default 10 s', value: o10.p99Ms ?? 0, series: 'ours' },
            { label: `msal-node, this run`, value: msalOut.waitedMs, series: 'msal', open: true, text: `no answer in ${ms(msalOut.waitedMs)}` },
            { label: 'msal-node, lab §5c', value: 300_900, series: 'msal', text: '300.9 s' },
          ],
        },
      ],
    }),
  );
  updateSection(NAME, section);
  log(`updated BENCHMARKS.md (bench:${NAME}) and ${chartPath}`);
} else {
  log('non-default BENCH_* settings: BENCHMARKS.md left as is (BENCH_UPDATE_DOCS=1 to write it anyway)');
}
process.exit(0); // msal-node's abandoned calls may still hold timers
