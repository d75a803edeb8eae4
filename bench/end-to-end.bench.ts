// End to end over HTTP on loopback: `GET /api/profile` on the Original API (ours: guard, scopes,
// cached On-Behalf-Of token through TokenAcquisition/DownstreamApi, downstream HTTP call) vs
// baseline 4 (the same Nest route, no guard, the downstream called with a fixed token through the
// same HTTP client, undici's `request`; and through Node's fetch, as hand-rolled code does). Each API and the downstream run in their own process; autocannon runs here. Then a
// separate profiling run of each API (`node --cpu-prof`) buckets where ours spends the difference.
// Run with `npm run bench -- end-to-end`.
import { mkdtempSync, readdirSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderBars } from './lib/bars.js';
import { startChildServer, type ChildServer } from './lib/child-server.js';
import { breakdown, readProfile, type ProfileBreakdown, type Window } from './lib/cpu-profile.js';
import { claimsOf, mintAssertion, startFixture } from './lib/fixture.js';
import { HOT_PATH_BEFORE, type RecordedVariant } from './lib/hot-path-before.js';
import { alternate, warmUp, type Variant, type VariantResult } from './lib/http-rounds.js';
import { runLoad } from './lib/load.js';
import { envNumber, int, isDefaultRun, machine, machineLine, packageVersion, ratio, table, us, writeResults, writeSection, type Machine } from './lib/section.js';
import type { BaselineApiServerConfig } from './servers/baseline-api.server.js';
import type { OriginalApiServerConfig } from './servers/original-api.server.js';

const NAME = 'end-to-end';
const TARGET = 0.85;
const root = process.env.BENCH_ROOT ?? process.cwd();
const started = Date.now();
const log = (line: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}`);
const settings = {
  rounds: envNumber('BENCH_E2E_ROUNDS', 6),
  durationSeconds: envNumber('BENCH_E2E_SECONDS', 2),
  warmUpSeconds: envNumber('BENCH_E2E_WARMUP_SECONDS', 2),
  /** Unmeasured load right before each measured run (see RoundsOptions.settleSeconds). */
  settleSeconds: envNumber('BENCH_E2E_SETTLE_SECONDS', 1),
  connections: envNumber('BENCH_E2E_CONNECTIONS', 10),
  /** Load per profiled API, in `profileRounds` turns. */
  profileSeconds: envNumber('BENCH_E2E_PROFILE_SECONDS', 6),
  profileRounds: envNumber('BENCH_E2E_PROFILE_ROUNDS', 3),
  /** `--cpu-prof-interval`, µs. */
  profileIntervalUs: envNumber('BENCH_E2E_PROFILE_INTERVAL_US', 200),
};
const host: Machine = machine();
const PALETTE = ['#1565c0', '#c62828', '#2e7d32', '#ef6c00', '#6a1b9a', '#00838f', '#ad1457', '#558b2f', '#4e342e', '#37474f', '#f9a825', '#9e9e9e'];
const serverPath = (file: string) => (file.startsWith('/') ? file : new URL(`./servers/${file}`, import.meta.url).pathname);
// BENCH_COMPARE_DIST=<another tree's dist/bench>: also runs (and profiles) that tree's build of the
// Original API, e.g. the library before a change, alternating with the rest in the same run.
const compareDist = process.env.BENCH_COMPARE_DIST;

interface Profiled {
  readonly key: 'ours' | 'baseline' | 'ours@before';
  readonly requests: number;
  readonly wallSeconds: number;
  readonly cpuUsPerRequest: number;
  readonly profile: ProfileBreakdown;
  readonly file: string;
}

interface GroupRow {
  readonly group: string;
  readonly oursUs: number;
  readonly baselineUs: number;
  readonly diffUs: number;
  readonly details: string;
}

interface EndToEndResult {
  readonly name: string;
  readonly date: string;
  readonly durationSeconds: number;
  readonly command: string;
  readonly machine: Machine;
  readonly loadAverageAtEnd: readonly number[];
  readonly versions: Record<string, string>;
  readonly settings: typeof settings;
  readonly users: number;
  readonly assertionLengthChars: number;
  readonly downstreamTokenLengthChars: number;
  readonly results: readonly VariantResult[];
  readonly throughputRatio: number;
  readonly cpuRatio: number;
  /** Ours ÷ baseline 4 with AsyncLocalStorage.run per request. */
  readonly throughputRatioAls: number;
  readonly cpuRatioAls: number;
  /** Ours ÷ baseline 4 with AsyncLocalStorage and a deadline on the downstream call. */
  readonly throughputRatioAlsDeadline: number;
  readonly cpuRatioAlsDeadline: number;
  /** Ours ÷ baseline 4 calling the downstream through the global fetch (hand-rolled code). */
  readonly throughputRatioFetch: number;
  readonly profiles: readonly Omit<Profiled, 'profile'>[];
  readonly groups: readonly GroupRow[];
  readonly topFunctions: ReadonlyArray<{ name: string; where: string; group: string; usPerRequest: number }>;
  /** With BENCH_COMPARE_DIST: profile self time per request by group of the other build. */
  readonly compareGroups?: Record<string, number>;
  /** Functions by (ours − baseline) self time per request. */
  readonly topDiffFunctions: ReadonlyArray<{ name: string; where: string; oursUs: number; baselineUs: number }>;
}

const fixture = await startFixture();
const { authority } = fixture;
// One user per connection: every connection repeats its own user's token.
const users = Array.from({ length: settings.connections }, (_, i) => mintAssertion(fixture, i));
// The baseline's fixed token: a real On-Behalf-Of token for user 0 from the authority, so both
// APIs send the downstream a token of the same shape and size.
const fixedToken = await exchangeOnBehalfOf(users[0]!);
const user0 = claimsOf(users[0]!);
const connectionHeaders = (i: number) => ({ authorization: `Bearer ${users[i % users.length]!}` });

async function exchangeOnBehalfOf(assertion: string): Promise<string> {
  const form = new URLSearchParams({
    grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
    client_id: fixture.originalId,
    client_secret: fixture.clientSecret,
    assertion,
    scope: fixture.scope,
    requested_token_use: 'on_behalf_of',
  });
  const response = await fetch(authority.tokenEndpoint(), { method: 'POST', body: form });
  const body = (await response.json()) as { access_token?: string };
  if (response.status !== 200 || typeof body.access_token !== 'string') throw new Error(`On-Behalf-Of exchange for the baseline's token: ${response.status}`);
  return body.access_token;
}

const started_: ChildServer[] = [];
async function start(name: string, file: string, config: unknown, nodeArgs: string[] = []): Promise<ChildServer> {
  const server = await startChildServer(name, serverPath(file), config, nodeArgs);
  started_.push(server);
  return server;
}
async function stop(server: ChildServer): Promise<void> {
  await server.stop();
  started_.splice(started_.indexOf(server), 1);
}

try {
  const downstream = await start('downstream', 'downstream.server.js', {});
  const oursConfig: OriginalApiServerConfig = {
    instance: authority.instance,
    tenantId: authority.tenantId,
    clientId: fixture.originalId,
    clientSecret: fixture.clientSecret,
    downstreamBaseUrl: downstream.url,
    downstreamScope: fixture.scope,
  };
  const baselineConfig: BaselineApiServerConfig = { downstreamBaseUrl: downstream.url, fixedToken, objectId: user0.oid!, tenantId: user0.tid! };
  const ours = await start('ours', 'original-api.server.js', oursConfig);
  const baseline = await start('baseline', 'baseline-api.server.js', baselineConfig);
  const baselineAls = await start('baseline+als', 'baseline-api.server.js', { ...baselineConfig, asyncLocalStorage: true } satisfies BaselineApiServerConfig);
  const baselineAlsDeadline = await start('baseline+als+deadline', 'baseline-api.server.js', { ...baselineConfig, asyncLocalStorage: true, deadlineMs: 10_000 } satisfies BaselineApiServerConfig);
  const baselineFetch = await start('baseline-fetch', 'baseline-api.server.js', { ...baselineConfig, client: 'fetch' } satisfies BaselineApiServerConfig);
  const compareEntry = compareDist ? join(compareDist, 'bench', 'servers', 'original-api.server.js') : undefined;
  const oursBefore = compareEntry ? await start('ours@before', compareEntry, oursConfig) : undefined;
  log(`servers up: downstream pid ${downstream.pid}, ours pid ${ours.pid}, baselines pid ${baseline.pid}, ${baselineAls.pid}, ${baselineAlsDeadline.pid}, ${baselineFetch.pid}${oursBefore ? `, ours@before pid ${oursBefore.pid}` : ''}`);

  // Checks: ours guards (401 without a token) and answers the user's own identity through the downstream.
  for (const server of oursBefore ? [ours, oursBefore] : [ours]) {
    const missing = await fetch(`${server.url}/api/profile`);
    if (missing.status !== 401) throw new Error(`${server.name} without a token: ${missing.status}`);
    for (const [i, assertion] of users.entries()) {
      const response = await fetch(`${server.url}/api/profile`, { headers: { authorization: `Bearer ${assertion}` } });
      const body = (await response.json()) as { caller?: { objectId?: string }; downstream?: { tokenKind?: string } };
      if (response.status !== 200 || body.caller?.objectId !== claimsOf(assertion).oid || body.downstream?.tokenKind !== 'user') {
        throw new Error(`${server.name}, user ${i}: ${response.status} ${JSON.stringify(body)}`);
      }
    }
  }
  const servedUsers = users.length * (oursBefore ? 2 : 1);
  const oboExchanges = authority.requests.token - 1; // the baseline's fixed token was one
  if (oboExchanges !== servedUsers) throw new Error(`expected ${servedUsers} On-Behalf-Of exchanges (one per user and API process), saw ${oboExchanges}`);
  for (const server of [baseline, baselineAls, baselineAlsDeadline, baselineFetch]) {
    const base = await fetch(`${server.url}/api/profile`);
    const baseBody = (await base.json()) as { downstream?: { tokenKind?: string } };
    if (base.status !== 200 || baseBody.downstream?.tokenKind !== 'user') throw new Error(`${server.name}: ${base.status} ${JSON.stringify(baseBody)}`);
  }
  log(`checks passed: 401 without a token; ${users.length} users each got their own identity back through one On-Behalf-Of exchange each`);

  const variants: Variant[] = [
    { key: 'ours', server: ours, path: '/api/profile', connectionHeaders, helpers: [downstream] },
    { key: 'baseline', server: baseline, path: '/api/profile', connectionHeaders, helpers: [downstream] },
    { key: 'baseline+als', server: baselineAls, path: '/api/profile', connectionHeaders, helpers: [downstream] },
    { key: 'baseline+als+deadline', server: baselineAlsDeadline, path: '/api/profile', connectionHeaders, helpers: [downstream] },
    { key: 'baseline-fetch', server: baselineFetch, path: '/api/profile', connectionHeaders, helpers: [downstream] },
    ...(oursBefore ? [{ key: 'ours@before', server: oursBefore, path: '/api/profile', connectionHeaders, helpers: [downstream] }] : []),
  ];
  await warmUp(variants, settings.warmUpSeconds, settings.connections, log);
  authority.resetCounters();
  const results = await alternate(variants, { ...settings, log });
  const providerRequests = authority.requests.token + authority.requests.discovery + authority.requests.jwks;
  if (providerRequests !== 0) throw new Error(`${providerRequests} identity-provider requests during measurement: OBO tokens or keys were not cached`);
  const [oursResult, baselineResult, alsResult, alsDeadlineResult, fetchResult] = results as [VariantResult, VariantResult, VariantResult, VariantResult, VariantResult];
  const throughputRatio = oursResult.requestsPerSecond / baselineResult.requestsPerSecond;
  const cpuRatio = oursResult.cpuUsPerRequest / baselineResult.cpuUsPerRequest;
  const throughputRatioAls = oursResult.requestsPerSecond / alsResult.requestsPerSecond;
  const cpuRatioAls = oursResult.cpuUsPerRequest / alsResult.cpuUsPerRequest;
  const throughputRatioAlsDeadline = oursResult.requestsPerSecond / alsDeadlineResult.requestsPerSecond;
  const cpuRatioAlsDeadline = oursResult.cpuUsPerRequest / alsDeadlineResult.cpuUsPerRequest;
  const throughputRatioFetch = oursResult.requestsPerSecond / fetchResult.requestsPerSecond;
  log(`throughput ours ÷ baseline = ${ratio(throughputRatio)} (target ≥ ${TARGET}); CPU per request ours ÷ baseline = ${ratio(cpuRatio)}; vs baseline+als: ${ratio(throughputRatioAls)}, ${ratio(cpuRatioAls)}; vs baseline with fetch: ${ratio(throughputRatioFetch)}`);
  await stop(ours);
  await stop(baseline);
  await stop(baselineAls);
  await stop(baselineAlsDeadline);
  await stop(baselineFetch);
  if (oursBefore) await stop(oursBefore);

  // Profiling runs: each API again, alone, under `--cpu-prof`; only samples inside the load window count.
  const profileDir = mkdtempSync(join(tmpdir(), 'nestjs-obo-cpu-prof-'));
  const profiled: Profiled[] = [];
  try {
    const toProfile: Array<readonly [Profiled['key'], string, unknown]> = [
      ['ours', 'original-api.server.js', oursConfig],
      ['baseline', 'baseline-api.server.js', baselineConfig],
      ...(compareEntry ? [['ours@before', compareEntry, oursConfig] as const] : []),
    ];
    // All profiled APIs run at once and take turns under load (short runs, order rotating), like
    // the measurement rounds, so a busy spell elsewhere on the machine does not land on one of them.
    const running: Array<{ key: Profiled['key']; dir: string; server: ChildServer; windows: Window[]; requests: number; wallSeconds: number; cpuUs: number }> = [];
    for (const [key, file, config] of toProfile) {
      const dir = join(profileDir, key.replace('@', '-'));
      const server = await start(`${key} (profiled)`, file, config, ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-interval=${settings.profileIntervalUs}`]);
      running.push({ key, dir, server, windows: [], requests: 0, wallSeconds: 0, cpuUs: 0 });
    }
    for (const p of running) await runLoad({ url: `${p.server.url}/api/profile`, durationSeconds: settings.warmUpSeconds, connections: settings.connections, connectionHeaders });
    const slice = settings.profileSeconds / settings.profileRounds;
    for (let round = 0; round < settings.profileRounds; round++) {
      for (let k = 0; k < running.length; k++) {
        const p = running[(k + round) % running.length]!;
        if (settings.settleSeconds > 0) await runLoad({ url: `${p.server.url}/api/profile`, durationSeconds: settings.settleSeconds, connections: settings.connections, connectionHeaders });
        const before = await p.server.cpu();
        const run = await runLoad({ url: `${p.server.url}/api/profile`, durationSeconds: slice, connections: settings.connections, connectionHeaders });
        const after = await p.server.cpu();
        if (run.failed > 0) throw new Error(`${p.key} (profiled): ${run.failed} failed requests`);
        p.windows.push([before.hrtimeUs, after.hrtimeUs]);
        p.requests += run.ok;
        p.wallSeconds += run.wallSeconds;
        p.cpuUs += after.userUs + after.systemUs - before.userUs - before.systemUs;
      }
    }
    for (const p of running) {
      await stop(p.server);
      const written = readdirSync(p.dir).filter((f) => f.endsWith('.cpuprofile'));
      if (written.length !== 1) throw new Error(`${p.key}: expected one CPU profile in ${p.dir}, found ${written.length}`);
      const profile = readProfile(join(p.dir, written[0]!));
      if (p.windows[0]![0] < profile.startTime || p.windows.at(-1)![1] > profile.endTime) {
        throw new Error(`${p.key}: the load windows are not inside the profile's time range (clocks differ?)`);
      }
      const kept = join(root, 'bench', 'results', `${NAME}-${p.key.replace('@', '-')}-${new Date(started).toISOString().replace(/[:.]/g, '-')}.cpuprofile`);
      copyFileSync(join(p.dir, written[0]!), kept);
      profiled.push({
        key: p.key,
        requests: p.requests,
        wallSeconds: p.wallSeconds,
        cpuUsPerRequest: p.cpuUs / p.requests,
        profile: breakdown(profile, p.windows, root),
        file: kept.slice(root.length + 1),
      });
      log(`profiled ${p.key}: ${p.requests} requests, ${profiled.at(-1)!.profile.samples} samples in the load windows`);
    }
  } finally {
    rmSync(profileDir, { recursive: true, force: true });
  }
  const [po, pb, pc] = profiled as [Profiled, Profiled, Profiled | undefined];
  const perRequest = (p: Profiled, group: string) => (p.profile.buckets.find((b) => b.group === group)?.selfUs ?? 0) / p.requests;
  const groupNames = [...new Set([...po.profile.buckets, ...pb.profile.buckets].map((b) => b.group))];
  const groups: GroupRow[] = groupNames
    .map((group) => {
      const oursUs = perRequest(po, group);
      const baselineUs = perRequest(pb, group);
      const details = Object.entries(po.profile.buckets.find((b) => b.group === group)?.details ?? {})
        .sort((x, y) => y[1] - x[1])
        .slice(0, 6)
        .map(([name, total]) => `${name} ${(total / po.requests).toFixed(1)}`)
        .join(', ');
      return { group, oursUs, baselineUs, diffUs: oursUs - baselineUs, details };
    })
    .sort((x, y) => y.diffUs - x.diffUs);
  const topFunctions = po.profile.functions.slice(0, 25).map((f) => ({ name: f.name, where: f.where, group: f.group, usPerRequest: f.selfUs / po.requests }));
  const byFunction = new Map<string, { name: string; where: string; oursUs: number; baselineUs: number }>();
  for (const [p, field] of [[po, 'oursUs'], [pb, 'baselineUs']] as const) {
    for (const f of p.profile.functions) {
      const entry = byFunction.get(`${f.name}@${f.where}`) ?? { name: f.name, where: f.where, oursUs: 0, baselineUs: 0 };
      entry[field] += f.selfUs / p.requests;
      byFunction.set(`${f.name}@${f.where}`, entry);
    }
  }
  const topDiffFunctions = [...byFunction.values()].sort((x, y) => y.oursUs - y.baselineUs - (x.oursUs - x.baselineUs)).slice(0, 25);

  const result: EndToEndResult = {
    name: NAME,
    date: new Date(started).toISOString(),
    durationSeconds: Math.round((Date.now() - started) / 1000),
    command: process.env.BENCH_COMMAND ? `${process.env.BENCH_COMMAND} -- end-to-end` : 'npm run bench -- end-to-end',
    machine: host,
    loadAverageAtEnd: machine().loadAverageAtStart,
    versions: Object.fromEntries(['@nestjs/core', '@nestjs/platform-express', 'express', '@azure/msal-node', 'lru-cache', 'autocannon'].map((p) => [p, packageVersion(root, p)])),
    settings,
    users: users.length,
    assertionLengthChars: users[0]!.length,
    downstreamTokenLengthChars: fixedToken.length,
    results,
    throughputRatio,
    cpuRatio,
    throughputRatioAls,
    cpuRatioAls,
    throughputRatioAlsDeadline,
    cpuRatioAlsDeadline,
    throughputRatioFetch,
    profiles: profiled.map(({ profile: _profile, ...rest }) => rest),
    groups,
    compareGroups: pc ? Object.fromEntries(pc.profile.buckets.map((bucket) => [bucket.group, bucket.selfUs / pc.requests])) : undefined,
    topFunctions,
    topDiffFunctions,
  };
  const file = writeResults(root, compareDist ? `${NAME}-compare` : NAME, result.date, { ...result, profileBreakdowns: profiled.map((p) => ({ key: p.key, ...p.profile, functions: p.profile.functions.slice(0, 60) })) });
  log(`results: ${file}`);
  for (const r of results) {
    log(`${r.key.padEnd(22)} ${int(r.requestsPerSecond).padStart(6)} req/s  median ${us(r.load.latency.medianUs)}  p99 ${us(r.load.latency.p99Us)}  API CPU ${r.cpuUsPerRequest.toFixed(1)} µs/request`);
  }
  for (const g of groups.slice(0, 12)) log(`  ${g.group.padEnd(40)} ours ${g.oursUs.toFixed(1).padStart(6)}  baseline ${g.baselineUs.toFixed(1).padStart(6)}  diff ${g.diffUs.toFixed(1).padStart(6)} µs/request`);
  for (const f of topFunctions.slice(0, 15)) log(`  ${f.usPerRequest.toFixed(2).padStart(6)} µs  ${f.name} (${f.where})`);

  if (isDefaultRun() || process.env.BENCH_UPDATE_DOCS === '1') {
    writeFileSync(join(root, 'bench', `${NAME}.svg`), chart(result));
    writeSection(root, NAME, section(result));
    log(`updated BENCHMARKS.md (bench:${NAME}) and bench/${NAME}.svg`);
  } else {
    log('non-default BENCH_* settings: BENCHMARKS.md left as is (BENCH_UPDATE_DOCS=1 to write it anyway)');
  }
} finally {
  for (const server of [...started_].reverse()) await server.stop();
  await authority.close();
}

/** Profile self time per request, ours and the baseline, stacked by group (same colour, same group). */
function chart(r: EndToEndResult): string {
  const shown = [...r.groups].sort((a, b) => b.oursUs + b.baselineUs - (a.oursUs + a.baselineUs)).slice(0, 11).map((g) => g.group);
  const colors = shown.map((g, i) => [g, PALETTE[i]!] as const);
  const segments = (pick: (g: GroupRow) => number) => [
    ...shown.map((group) => ({ key: group, value: pick(r.groups.find((g) => g.group === group)!) })),
    { key: 'other', value: r.groups.filter((g) => !shown.includes(g.group)).reduce((s, g) => s + pick(g), 0) },
  ];
  const sum = (pick: (g: GroupRow) => number) => r.groups.reduce((s, g) => s + pick(g), 0);
  const [o, b] = r.results as [VariantResult, VariantResult];
  return renderBars({
    title: 'End to end GET /api/profile: where the Original API spends CPU per request',
    subtitle: `--cpu-prof self time in the load window, µs per request; throughput ours ÷ baseline ${ratio(r.throughputRatio)}; ${r.machine.cpuCount} × ${r.machine.cpuModel}, Node ${r.machine.node}`,
    axis: 'profiled CPU self time per request (µs)',
    bars: [
      { label: 'nestjs-obo (ours)', segments: segments((g) => g.oursUs), note: `${sum((g) => g.oursUs).toFixed(0)} µs · ${int(o.requestsPerSecond)} req/s` },
      { label: 'baseline 4 (no guard, fixed token)', segments: segments((g) => g.baselineUs), note: `${sum((g) => g.baselineUs).toFixed(0)} µs · ${int(b.requestsPerSecond)} req/s` },
    ],
    colors: [...colors, ['other', '#bdbdbd']],
    legend: true,
  });
}

function variantRow(label: string, x: VariantResult): string[] {
  return [
    label,
    int(x.requestsPerSecond),
    us(x.load.latency.medianUs),
    us(x.load.latency.p99Us),
    `${x.cpuUsPerRequest.toFixed(1)} µs`,
    `${Math.min(...x.perRunCpuUsPerRequest).toFixed(0)}–${Math.max(...x.perRunCpuUsPerRequest).toFixed(0)}`,
    `${(x.cpuUtilisation * 100).toFixed(0)} %`,
    `${(x.helperCpuUsPerRequest.downstream ?? 0).toFixed(1)} µs`,
    int(x.load.requests),
  ];
}

function signed(v: number): string {
  return `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(1)}`;
}

function section(r: EndToEndResult): string {
  const [o, b, a, ad, f] = r.results as [VariantResult, VariantResult, VariantResult, VariantResult, VariantResult];
  const rows = [
    variantRow('nestjs-obo: guard + scopes + cached OBO + DownstreamApi', o),
    variantRow('baseline 4: no guard, fixed token, undici `request`', b),
    variantRow('baseline 4 + AsyncLocalStorage.run per request', a),
    variantRow('baseline 4 + AsyncLocalStorage + deadline on the downstream call', ad),
    variantRow('baseline 4 through Node\'s `fetch` (no deadline, no AsyncLocalStorage)', f),
    ...(r.results[5] ? [variantRow('nestjs-obo, build of BENCH_COMPARE_DIST (before the hot-path changes)', r.results[5])] : []),
  ];
  const [po, pb] = r.profiles as [Omit<Profiled, 'profile'>, Omit<Profiled, 'profile'>];
  const totalOurs = r.groups.reduce((sum, g) => sum + g.oursUs, 0);
  const totalBase = r.groups.reduce((sum, g) => sum + g.baselineUs, 0);
  const groupRows = r.groups
    .filter((g) => Math.abs(g.diffUs) >= 0.05 || g.oursUs >= 0.5)
    .map((g) => [g.group, g.oursUs.toFixed(1), g.baselineUs.toFixed(1), signed(g.diffUs), g.details || '–']);
  groupRows.push(['**total (sampled, idle excluded)**', totalOurs.toFixed(1), totalBase.toFixed(1), signed(totalOurs - totalBase), '']);
  const fnRows = r.topFunctions.slice(0, 20).map((f) => [`\`${f.name}\``, `\`${f.where}\``, f.group, f.usPerRequest.toFixed(2)]);
  const diffRows = r.topDiffFunctions.slice(0, 20).map((f) => [`\`${f.name}\``, `\`${f.where}\``, f.oursUs.toFixed(2), f.baselineUs.toFixed(2), signed(f.oursUs - f.baselineUs)]);
  const met = r.throughputRatio >= TARGET;
  const group = (name: string) => r.groups.find((g) => g.group === name);
  const oursLib = group('nestjs-obo (libs/obo/src)');
  const positive = r.groups.filter((g) => g.diffUs >= 0.5).slice(0, 6);
  const extra = o.cpuUsPerRequest - b.cpuUsPerRequest;
  const alsTax = a.cpuUsPerRequest - b.cpuUsPerRequest;
  const deadlineTax = ad.cpuUsPerRequest - a.cpuUsPerRequest;
  const moduleOwn = o.cpuUsPerRequest - ad.cpuUsPerRequest;
  const share = (v: number) => (extra > 0 ? `${((v / extra) * 100).toFixed(0)} %` : '–');
  const recorded = HOT_PATH_BEFORE.endToEnd;
  const beforeAfter = recorded
    ? (() => {
        const rv = recorded.variants;
        const was = rv['ours@before'];
        const now = rv.ours;
        const base = rv.baseline;
        const floor = rv['baseline+als+deadline'];
        const viaFetch = rv['baseline-fetch'];
        const row = (label: string, x: RecordedVariant) => [
          label,
          int(x.requestsPerSecond),
          ratio(x.requestsPerSecond / base.requestsPerSecond),
          `${x.cpuUsPerRequest.toFixed(1)} µs`,
          `${signed(x.cpuUsPerRequest - base.cpuUsPerRequest)} µs`,
          `${signed(x.cpuUsPerRequest - floor.cpuUsPerRequest)} µs`,
          us(x.medianUs),
          us(x.p99Us),
        ];
        const profile = recorded.profileUsPerRequest;
        return [
          '',
          '### Before / after the hot-path changes',
          '',
          `${recorded.note} Both builds of ours and the three baselines alternated in the same rounds, so the comparison does not depend on how busy the machine was. In that run baseline 4 served ${int(base.requestsPerSecond)} req/s at ${base.cpuUsPerRequest.toFixed(1)} µs CPU/request, with AsyncLocalStorage ${rv['baseline+als'].cpuUsPerRequest.toFixed(1)} µs, with AsyncLocalStorage and the deadline ${floor.cpuUsPerRequest.toFixed(1)} µs; through \`fetch\` (how baseline 4 was built when commit 2d9d26e was measured first) ${int(viaFetch.requestsPerSecond)} req/s at ${viaFetch.cpuUsPerRequest.toFixed(1)} µs.`,
          '',
          table(
            ['build of ours', 'req/s', 'throughput ÷ baseline 4', 'API CPU / request', 'extra CPU vs baseline 4', 'extra CPU vs baseline 4 + ALS + deadline (the module\'s own)', 'latency median', 'latency p99'],
            ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
            [row('before (commit 2d9d26e)', was), row('after (these changes)', now)],
          ),
          '',
          table(
            ['build of ours', 'throughput ÷ baseline 4 through `fetch`', 'API CPU ÷ baseline 4 through `fetch`'],
            ['l', 'r', 'r'],
            [
              ['before (commit 2d9d26e)', ratio(was.requestsPerSecond / viaFetch.requestsPerSecond), ratio(was.cpuUsPerRequest / viaFetch.cpuUsPerRequest)],
              ['after (these changes)', ratio(now.requestsPerSecond / viaFetch.requestsPerSecond), ratio(now.cpuUsPerRequest / viaFetch.cpuUsPerRequest)],
            ],
          ),
          '',
          `Change: ${signed(now.cpuUsPerRequest - was.cpuUsPerRequest)} µs API CPU per request (${signed(((now.cpuUsPerRequest - was.cpuUsPerRequest) / was.cpuUsPerRequest) * 100).replace(/\.\d$/, '')} %), throughput ${signed((now.requestsPerSecond / was.requestsPerSecond - 1) * 100).replace(/\.\d$/, '')} %, throughput ÷ baseline 4 ${ratio(was.requestsPerSecond / base.requestsPerSecond)} → ${ratio(now.requestsPerSecond / base.requestsPerSecond)}.`,
          ...(profile
            ? [
                '',
                'Profile self time of ours per request by group, before and after (µs; one profiled run of each build, same settings, same run):',
                '',
                table(
                  ['group', 'before', 'after', 'change'],
                  ['l', 'r', 'r', 'r'],
                  [...new Set([...Object.keys(profile.before), ...Object.keys(profile.after)])]
                    .map((name) => [name, profile.before[name] ?? 0, profile.after[name] ?? 0] as const)
                    .filter(([, old, fresh]) => old >= 0.5 || fresh >= 0.5)
                    .sort((x, y) => y[1] - x[1])
                    .map(([name, old, fresh]) => [name, old.toFixed(1), fresh.toFixed(1), signed(fresh - old)]),
                ),
              ]
            : []),
        ];
      })()
    : [];
  return [
    `<!-- Generated by \`npm run bench\` (bench/${NAME}.bench.ts); edits between these markers are overwritten. -->`,
    '',
    '## End to end: `GET /api/profile` through nestjs-obo vs the physical limit',
    '',
    "The Original API (ours: `OboModule` defaults and the sample's `GET /api/profile`: JWT guard, `@RequiredScopes('access_as_user')`, `DownstreamApi.get` with a cached On-Behalf-Of token from `TokenAcquisition`, the downstream call, `{ caller, downstream }`) against",
    '**baseline 4**, the physical limit: the same Nest/Express route with no guard, calling the same downstream with a fixed token (a real On-Behalf-Of token from the same authority, so the same size) through the HTTP client `DownstreamApi` uses (undici\'s `request` on a keep-alive pool) and answering the same shape. To tell what the module\'s design costs on Node from what its code costs, two more variants of baseline 4 add one thing at a time: every request run inside `AsyncLocalStorage.run` (an Express middleware; the module\'s `RequestContext` is built on AsyncLocalStorage), then also a 10 s deadline on the downstream call, a timer and an EventEmitter handed to undici as its abort signal, cleared once the body is read (what `DownstreamApi` does for `timeoutMs`). A last variant calls the downstream through Node\'s global `fetch` instead, with neither: what hand-rolled code usually looks like.',
    'Each API runs in its own process; the downstream is a plain `node:http` server in another process returning a small fixed JSON; autocannon runs in the bench process.',
    '',
    `- **Run:** ${r.date}, ${r.durationSeconds} s in total.`,
    `- **Machine:** ${machineLine(r.machine)}; at end ${r.loadAverageAtEnd.map((v) => v.toFixed(2)).join(' / ')}.`,
    `- **Libraries:** ${Object.entries(r.versions).map(([k, v]) => `${k} ${v}`).join(', ')}.`,
    `- **Command:** \`${r.command}\` (= \`node scripts/bench.mjs end-to-end\`: compiles bench/ into dist/bench, runs \`node --expose-gc dist/bench/bench/${NAME}.bench.js\`; JSON and the two \`.cpuprofile\` files in \`bench/results/\`, which open in Chrome DevTools).`,
    `- **Load:** ${r.settings.connections} connections, pipelining 1, one user per connection (${r.users} users, ${r.assertionLengthChars}-character tokens), ${r.settings.rounds} rounds × ${r.settings.durationSeconds} s per variant after a ${r.settings.warmUpSeconds} s warm-up each, the order rotating every round, each measured run right after ${r.settings.settleSeconds} s of unmeasured load on the same API (a server idle while the others took their turns has had V8's idle-time GCs shrink its heap; this measures steady serving, not the first second after a pause); req/s and API CPU per request are medians over the rounds (each run: responses ÷ time, server CPU from \`process.cpuUsage()\` over IPC ÷ responses), latency percentiles are over all responses. Before measuring, each user made one call (${r.users} On-Behalf-Of exchanges with the LocalAuthority); during measurement the authority saw no request at all (checked), so every call is a validated-token cache hit and an OBO cache hit. The baseline's fixed token is ${r.downstreamTokenLengthChars} characters. Any non-2xx response aborts the run.`,
    '',
    table(
      ['variant', 'req/s', 'latency median', 'latency p99', 'API CPU / request', 'per round (µs)', 'API CPU use', 'downstream CPU / request', 'requests'],
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
      rows,
    ),
    '',
    `**Throughput ours ÷ baseline 4: ${ratio(r.throughputRatio)}** (target ≥ ${TARGET}: ${met ? 'met' : 'not met'}); API CPU per request ours ÷ baseline 4: ${ratio(r.cpuRatio)} (${signed(extra)} µs).`,
    '',
    table(
      ['ours against', 'throughput ratio', 'API CPU ratio', 'extra CPU of ours per request'],
      ['l', 'r', 'r', 'r'],
      [
        ['baseline 4', ratio(r.throughputRatio), ratio(r.cpuRatio), `${signed(extra)} µs`],
        ['baseline 4 + AsyncLocalStorage', ratio(r.throughputRatioAls), ratio(r.cpuRatioAls), `${signed(o.cpuUsPerRequest - a.cpuUsPerRequest)} µs`],
        ['baseline 4 + AsyncLocalStorage + deadline', ratio(r.throughputRatioAlsDeadline), ratio(r.cpuRatioAlsDeadline), `${signed(moduleOwn)} µs`],
        ['baseline 4 through `fetch` (hand-rolled)', ratio(r.throughputRatioFetch), ratio(o.cpuUsPerRequest / f.cpuUsPerRequest), `${signed(o.cpuUsPerRequest - f.cpuUsPerRequest)} µs`],
      ],
    ),
    '',
    `![Profiled CPU per request by group, ours vs baseline](bench/${NAME}.svg)`,
    '',
    '### What the remaining cost is made of',
    '',
    `A separate profiling run: new processes of ours and baseline 4 under \`node --cpu-prof --cpu-prof-interval=${r.settings.profileIntervalUs}\`, each warmed up for ${r.settings.warmUpSeconds} s, then taking turns under the same load (${r.settings.profileRounds} turns each, ${r.settings.profileSeconds} s in all: ours ${int(po.requests)} requests, baseline ${int(pb.requests)}). Only samples inside the load runs count (their windows are read from each server's own clock over IPC). Self time is bucketed by where the code lives: our files (\`libs/obo/src\`), each package, Node core areas; native functions without a script count for their JS caller (so \`node:crypto\` holds the hash bindings), \`(garbage collector)\` is GC. µs per request = bucket self time ÷ requests in the windows. The profiler's own overhead inflates all rows (API CPU per request in the profiled runs: ours ${po.cpuUsPerRequest.toFixed(1)} µs, baseline ${pb.cpuUsPerRequest.toFixed(1)} µs), and a few seconds of profile are noisier than the rounds above: read the big rows.`,
    '',
    table(['group', 'ours (µs/request)', 'baseline (µs/request)', 'ours − baseline', 'in ours: biggest files / packages (µs/request)'], ['l', 'r', 'r', 'r', 'l'], groupRows),
    '',
    'Functions whose self time grew most from the baseline to ours (µs/request):',
    '',
    table(['function', 'where', 'ours', 'baseline', 'difference'], ['l', 'l', 'r', 'r', 'r'], diffRows),
    '',
    'Top functions of ours by self time:',
    '',
    table(['function', 'where', 'group', 'µs/request'], ['l', 'l', 'l', 'r'], fnRows),
    '',
    '### Reading',
    '',
    `- Ours serves ${(r.throughputRatio * 100).toFixed(0)} % of baseline 4's requests/s (target ${TARGET * 100} %: ${met ? 'met' : 'not met'}) and costs the API ${extra.toFixed(1)} µs more CPU per request than the baseline's ${b.cpuUsPerRequest.toFixed(1)} µs. Split with the two extra baselines (same run, CPU per request): **AsyncLocalStorage** ${alsTax.toFixed(1)} µs (${share(alsTax)}), the **deadline** on the downstream call ${deadlineTax.toFixed(1)} µs (${share(deadlineTax)}), and the **module itself** (Nest running its global guards and middleware, bearer extraction, the validated-token and OBO cache lookups, scope check, DownstreamApi) ${moduleOwn.toFixed(1)} µs (${share(moduleOwn)}).`,
    `- **AsyncLocalStorage**: on Node ${r.machine.node.split('.')[0]!.slice(1)} it turns on async hooks that run for every promise and every \`process.nextTick\` of the process (the profile shows them as \`promiseInitHook\`, \`lookupPublicResource\`, \`_propagate\` and a heavier \`nextTick\`). It is what a singleton \`TokenAcquisition\` that finds the caller without request-scoped providers costs on this Node version; Node 24 runs AsyncLocalStorage on async context frames instead.`,
    `- **Deadline**: a timer per call and an EventEmitter as undici's abort signal (an \`AbortController\` costs several µs more: an EventTarget, and with \`fetch\` a WeakRef and a FinalizationRegistry entry per request). Baseline 4 has no deadline at all; a downstream call without one can hang for undici's 300 s defaults.`,
    `- **The HTTP client**: baseline 4 through Node's \`fetch\` costs ${f.cpuUsPerRequest.toFixed(1)} µs of API CPU per request, ${(f.cpuUsPerRequest - b.cpuUsPerRequest).toFixed(1)} µs more than through undici's \`request\` (web streams, WHATWG Request/Response/Headers objects, many more promises). Ours serves ${ratio(r.throughputRatioFetch)}× the requests/s of that hand-rolled route while doing everything above.`,
    `- Our own code (\`libs/obo/src\`) is ${oursLib ? oursLib.oursUs.toFixed(1) : '0'} µs of self time per request. The groups that grew most: ${positive.map((g) => `${g.group} ${signed(g.diffUs)}`).join(', ')} µs.`,
    '- Both bars are dominated by what they share: Express and Nest routing, node:http, undici to the downstream. Baseline 4 is the limit of this stack, not of Node.',
    `- **Against the target**: ${met ? 'met' : `not met; what is left is AsyncLocalStorage on this Node version (about a third; it is what finding the caller in a singleton without request scope costs) and the module's own per-request work: Nest running two global guards (an extra async step per request that a route without guards skips), the bearer parse, two LRU lookups (validated token, OBO token), the scope check, the deadline and the DownstreamApi bookkeeping, each a few µs at most (tables above). None of it is repeated work any more: nothing is hashed, parsed or verified twice on a cached request.`}`,
    ...beforeAfter,
    ...(beforeAfter.length > 0
      ? [
          '',
          'What changed on the hot path (every check kept; the test suites are unchanged and green):',
          '',
          '- `DownstreamApi` talks to downstream APIs through undici\'s `request` on one keep-alive pool per module instead of Node\'s `fetch` (the largest single change: no web streams, no WHATWG Request/Response/Headers, far fewer promises, which also shrinks what AsyncLocalStorage\'s hooks run for). Same rules: one deadline covers connect, headers and body (a timer and an EventEmitter as undici\'s abort signal, cleared when the body is read); bodies capped at 10 MiB by undici\'s `maxResponseSize`; strict UTF-8; redirects not followed; nothing decompressed (no `Accept-Encoding` is sent, a compressed answer is refused); the pool is closed at application shutdown. Unit-tested against a raw loopback server (libs/obo/src/outbound/downstream-api/downstream-client.spec.ts).',
          '- A cached On-Behalf-Of token is found without a promise: `DownstreamApi` asks `TokenCache.peek` (memory only, not due for refresh ahead) through `TokenAcquisition` before falling back to the asynchronous path.',
          '- On Express the module opens the request context with one path-less `app.use()` instead of `forRoutes(\'*\')`, which matched a wildcard path and ran Nest\'s middleware proxy on every request (measured ~3 µs per request on its own); other adapters keep `forRoutes(\'*\')`.',
          '- `ValidatedTokenCache` is keyed by the last 43 characters of the token (the end of its signature) and a hit must equal the whole token text: a Map lookup on the ~1.5 KB header string hashed all of it on every request (~2 µs); a token that copies a remembered signature onto another payload is a miss (tested).',
          '- `JwtAuthGuard`: reads `@Public()` once per route (the scopes guard already did); answers synchronously on a validated-token cache hit, so Nest awaits no promise for it; the cache is asked inside the extraction, and a token it holds (the exact text passed the token68 check when it was remembered) is not scanned again.',
          '- `extractBearerToken`: counts `Authorization` lines on `rawHeaders` instead of `headersDistinct` (which Node builds, lower-casing every header name into a new object, on first access); recognises `Bearer ` without running the scheme regex. Same answer for every input.',
          '- `TokenAcquisition` + `cache-key.ts`: the OBO cache key (SHA-256 over the whole assertion) and the per-user owner hash are remembered per `Principal` object (a WeakMap; the validated-token cache hands the same frozen Principal to every request with that token), so a repeated caller hashes nothing; the exchange request is built only on a miss.',
        ]
      : []),
  ].join('\n');
}
