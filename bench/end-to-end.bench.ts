// End to end over loopback HTTP: `GET /api/profile` on the Original API (ours) against baseline 4,
// the same Nest route with no guard calling the downstream with a fixed token (plus its variants:
// + AsyncLocalStorage, + deadline, through fetch). Each API and the downstream run in their own
// process; autocannon runs here. Then a profiling run (`--cpu-prof`) of ours and baseline 4 says
// where the difference goes, by group of code and by function.
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { barChart } from './lib/chart.js';
import { startChild, type ChildServer } from './lib/child.js';
import { breakdown, readProfile, type ProfileBreakdown, type Window } from './lib/cpu-profile.js';
import { claimsOf, mintAssertion, startFixture, type Fixture } from './lib/fixture.js';
import { alternate, paired, runLoad, warmUp, type PairedRun, type Variant, type VariantResult } from './lib/load.js';
import { median, percentile } from './lib/stats.js';
import { benchMain, fixed, header, int, log, pct, pick, root, signed, spread, type RunHeader } from './lib/report.js';
import type { BaselineApiServerConfig } from './servers/baseline-api.server.js';
import type { OriginalApiServerConfig } from './servers/original-api.server.js';

const NAME = 'end-to-end';
const TARGET = 0.9;
const settings = {
  rounds: pick(6, 2),
  durationSeconds: pick(2, 1),
  /** Back-to-back pairs of ours and baseline 4 (see `paired`), each run this long. */
  pairs: pick(20, 4),
  pairSeconds: pick(1.5, 1),
  warmUpSeconds: pick(2, 1),
  /** Unmeasured load right before each measured run (see RoundsOptions.settleSeconds). */
  settleSeconds: pick(1, 0.5),
  connections: 10,
  /** Load per profiled API, in `profileRounds` turns. */
  profileSeconds: pick(6, 2),
  profileRounds: pick(3, 2),
  /** `--cpu-prof-interval`, µs. */
  profileIntervalUs: 200,
};
const VARIANTS = [
  ['ours', 'nestjs-obo: guard + scopes + cached OBO + DownstreamApi'],
  ['baseline', 'baseline 4: no guard, fixed token, undici `request`'],
  ['baseline+als', 'baseline 4 + AsyncLocalStorage.run per request'],
  ['baseline+als+deadline', 'baseline 4 + AsyncLocalStorage + deadline on the downstream call'],
  ['baseline-fetch', "baseline 4 through Node's `fetch` (no deadline, no AsyncLocalStorage)"],
] as const;

interface GroupRow {
  group: string;
  oursUs: number;
  baselineUs: number;
  diffUs: number;
  details: string;
}
interface Profiled {
  key: string;
  requests: number;
  wallSeconds: number;
  cpuUsPerRequest: number;
  file: string;
}
interface Result extends RunHeader {
  settings: typeof settings;
  users: number;
  assertionLengthChars: number;
  downstreamTokenLengthChars: number;
  results: VariantResult[];
  /** Ours and baseline 4 back to back, pair by pair. */
  pairs: PairedRun[];
  profiles: Profiled[];
  groups: GroupRow[];
  topFunctions: ReadonlyArray<{ name: string; where: string; group: string; usPerRequest: number }>;
  topDiffFunctions: ReadonlyArray<{ name: string; where: string; oursUs: number; baselineUs: number }>;
}

/** A real On-Behalf-Of token from the authority: baseline 4's fixed token, the same size as ours. */
async function exchangeOnBehalfOf(fixture: Fixture, assertion: string): Promise<string> {
  const form = new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', client_id: fixture.originalId, client_secret: fixture.clientSecret, assertion, scope: fixture.scope, requested_token_use: 'on_behalf_of' });
  const response = await fetch(fixture.authority.tokenEndpoint(), { method: 'POST', body: form });
  const body = (await response.json()) as { access_token?: string };
  if (response.status !== 200 || typeof body.access_token !== 'string') throw new Error(`On-Behalf-Of exchange for the baseline's token: ${response.status}`);
  return body.access_token;
}

/** Every profiled API takes turns under load; only samples inside its load windows count. */
async function profile(fixture: Fixture, apis: ReadonlyArray<[string, string, unknown]>, connectionHeaders: (i: number) => Record<string, string>, stamp: string) {
  const dir = mkdtempSync(join(tmpdir(), 'nestjs-obo-cpu-prof-'));
  const load = (server: ChildServer, durationSeconds: number) => runLoad({ url: `${server.url}/api/profile`, durationSeconds, connections: settings.connections, connectionHeaders });
  try {
    const running = [];
    for (const [key, file, config] of apis) {
      const server = await startChild(`${key} (profiled)`, file, config, ['--cpu-prof', `--cpu-prof-dir=${join(dir, key)}`, `--cpu-prof-interval=${settings.profileIntervalUs}`]);
      running.push({ key, server, windows: [] as Window[], requests: 0, wallSeconds: 0, cpuUs: 0 });
    }
    for (const p of running) await load(p.server, settings.warmUpSeconds);
    for (let round = 0; round < settings.profileRounds; round++) {
      for (let k = 0; k < running.length; k++) {
        const p = running[(k + round) % running.length]!;
        await load(p.server, settings.settleSeconds);
        const before = await p.server.cpu();
        const run = await load(p.server, settings.profileSeconds / settings.profileRounds);
        const after = await p.server.cpu();
        if (run.failed > 0) throw new Error(`${p.key} (profiled): ${run.failed} failed requests`);
        p.windows.push([before.hrtimeUs, after.hrtimeUs]);
        p.requests += run.ok;
        p.wallSeconds += run.wallSeconds;
        p.cpuUs += after.userUs + after.systemUs - before.userUs - before.systemUs;
      }
    }
    const out: Array<Profiled & { profile: ProfileBreakdown }> = [];
    for (const p of running) {
      await p.server.stop();
      const [written, ...more] = readdirSync(join(dir, p.key)).filter((f) => f.endsWith('.cpuprofile'));
      if (!written || more.length > 0) throw new Error(`${p.key}: expected one CPU profile`);
      const cpuProfile = readProfile(join(dir, p.key, written));
      if (p.windows[0]![0] < cpuProfile.startTime || p.windows.at(-1)![1] > cpuProfile.endTime) throw new Error(`${p.key}: the load windows are not inside the profile`);
      const file = `bench/results/${NAME}-${p.key}-${stamp}.cpuprofile`;
      copyFileSync(join(dir, p.key, written), join(root, file));
      out.push({ key: p.key, requests: p.requests, wallSeconds: p.wallSeconds, cpuUsPerRequest: p.cpuUs / p.requests, file, profile: breakdown(cpuProfile, p.windows, root) });
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function run(): Promise<Result> {
  const fixture = await startFixture();
  const { authority } = fixture;
  // One user per connection: every connection repeats its own user's token.
  const users = Array.from({ length: settings.connections }, (_, i) => mintAssertion(fixture, i));
  const fixedToken = await exchangeOnBehalfOf(fixture, users[0]!);
  const user0 = claimsOf(users[0]!);
  const connectionHeaders = (i: number) => ({ authorization: `Bearer ${users[i % users.length]!}` });
  const servers: ChildServer[] = [];
  const start = async (name: string, file: string, config: unknown) => servers[servers.push(await startChild(name, file, config)) - 1]!;
  try {
    const downstream = await start('downstream', 'downstream.server.js', {});
    const oursConfig: OriginalApiServerConfig = { instance: authority.instance, tenantId: authority.tenantId, clientId: fixture.originalId, clientSecret: fixture.clientSecret, downstreamBaseUrl: downstream.url, downstreamScope: fixture.scope };
    const base: BaselineApiServerConfig = { downstreamBaseUrl: downstream.url, fixedToken, objectId: user0.oid!, tenantId: user0.tid! };
    const configs: Record<(typeof VARIANTS)[number][0], [string, unknown]> = {
      ours: ['original-api.server.js', oursConfig],
      baseline: ['baseline-api.server.js', base],
      'baseline+als': ['baseline-api.server.js', { ...base, asyncLocalStorage: true }],
      'baseline+als+deadline': ['baseline-api.server.js', { ...base, asyncLocalStorage: true, deadlineMs: 10_000 }],
      'baseline-fetch': ['baseline-api.server.js', { ...base, client: 'fetch' }],
    };
    const variants: Variant[] = [];
    for (const [key] of VARIANTS) variants.push({ key, server: await start(key, ...configs[key]), path: '/api/profile', connectionHeaders, helpers: [downstream] });

    // Checks: ours guards (401 without a token) and answers each user's own identity through the downstream.
    const ours = variants[0]!.server;
    if ((await fetch(`${ours.url}/api/profile`)).status !== 401) throw new Error('ours answered without a token');
    for (const assertion of users) {
      const response = await fetch(`${ours.url}/api/profile`, { headers: { authorization: `Bearer ${assertion}` } });
      const body = (await response.json()) as { caller?: { objectId?: string }; downstream?: { tokenKind?: string } };
      if (response.status !== 200 || body.caller?.objectId !== claimsOf(assertion).oid || body.downstream?.tokenKind !== 'user') throw new Error(`ours: ${response.status} ${JSON.stringify(body)}`);
    }
    if (authority.requests.token - 1 !== users.length) throw new Error(`expected one On-Behalf-Of exchange per user, saw ${authority.requests.token - 1}`);
    for (const v of variants.slice(1)) if ((await fetch(`${v.server.url}/api/profile`)).status !== 200) throw new Error(`${v.key} failed`);

    await warmUp(variants, settings.warmUpSeconds, settings.connections, log);
    authority.resetCounters();
    const results = await alternate(variants, { ...settings, log });
    const pairs = await paired(variants[0]!, variants[1]!, { ...settings, durationSeconds: settings.pairSeconds, log });
    const providerRequests = authority.requests.token + authority.requests.discovery + authority.requests.jwks;
    if (providerRequests !== 0) throw new Error(`${providerRequests} identity-provider requests during measurement: OBO tokens or keys were not cached`);
    for (const v of variants) await v.server.stop();

    const stamp = header(NAME, []).date.replace(/[:.]/g, '-');
    const [po, pb] = await profile(fixture, [['ours', ...configs.ours], ['baseline', ...configs.baseline]], connectionHeaders, stamp);
    const perRequest = (p: typeof po, group: string) => (p!.profile.buckets.find((b) => b.group === group)?.selfUs ?? 0) / p!.requests;
    const groups = [...new Set([...po!.profile.buckets, ...pb!.profile.buckets].map((b) => b.group))]
      .map((group) => {
        const details = Object.entries(po!.profile.buckets.find((b) => b.group === group)?.details ?? {})
          .sort((x, y) => y[1] - x[1])
          .slice(0, 6)
          .map(([name, total]) => `${name} ${(total / po!.requests).toFixed(1)}`)
          .join(', ');
        return { group, oursUs: perRequest(po, group), baselineUs: perRequest(pb, group), diffUs: perRequest(po, group) - perRequest(pb, group), details };
      })
      .sort((x, y) => y.diffUs - x.diffUs);
    const byFunction = new Map<string, { name: string; where: string; oursUs: number; baselineUs: number }>();
    for (const [p, field] of [[po!, 'oursUs'], [pb!, 'baselineUs']] as const) {
      for (const f of p.profile.functions) {
        const entry = byFunction.get(`${f.name}@${f.where}`) ?? { name: f.name, where: f.where, oursUs: 0, baselineUs: 0 };
        entry[field] += f.selfUs / p.requests;
        byFunction.set(`${f.name}@${f.where}`, entry);
      }
    }
    return {
      ...header(NAME, ['@nestjs/core', '@nestjs/platform-express', 'express', '@azure/msal-node', 'lru-cache', 'autocannon']),
      settings,
      users: users.length,
      assertionLengthChars: users[0]!.length,
      downstreamTokenLengthChars: fixedToken.length,
      results,
      pairs,
      profiles: [po!, pb!].map(({ profile: _, ...rest }) => rest),
      groups,
      topFunctions: po!.profile.functions.slice(0, 25).map((f) => ({ name: f.name, where: f.where, group: f.group, usPerRequest: f.selfUs / po!.requests })),
      topDiffFunctions: [...byFunction.values()].sort((x, y) => y.oursUs - y.baselineUs - (x.oursUs - x.baselineUs)).slice(0, 25),
    };
  } finally {
    for (const server of servers.reverse()) await server.stop();
    await authority.close();
  }
}

/** Median and quartiles of the per-pair ratios (runs made before pairs existed have none). */
function pairedSummary(r: Result) {
  const ratios = (r.pairs ?? []).map((p) => p.rpsRatio);
  if (ratios.length === 0) return { pairs: 0, rps: Number.NaN, q1: Number.NaN, q3: Number.NaN, extra: Number.NaN };
  return { pairs: ratios.length, rps: median(ratios), q1: percentile(ratios, 0.25), q3: percentile(ratios, 0.75), extra: median(r.pairs.map((p) => p.cpuExtraUs)) };
}

function render(r: Result, node20?: Result) {
  const by = (x: Result, key: string) => x.results.find((v) => v.key === key)!;
  const [o, b, a, ad, f] = VARIANTS.map(([key]) => by(r, key));
  const vs = (v: VariantResult) => ({ rps: o.requestsPerSecond / v.requestsPerSecond, cpu: o.cpuUsPerRequest / v.cpuUsPerRequest, extra: o.cpuUsPerRequest - v.cpuUsPerRequest });
  const extra = o.cpuUsPerRequest - b.cpuUsPerRequest;
  const part = (us: number) => ({ us, share: extra > 0 ? pct(us / extra) : '–' });
  const total = (pick: (g: GroupRow) => number) => r.groups.reduce((sum, g) => sum + pick(g), 0);
  const shown = [...r.groups].sort((x, y) => y.oursUs + y.baselineUs - (x.oursUs + x.baselineUs)).slice(0, 11);
  const segments = (pick: (g: GroupRow) => number) => [...shown.map((g) => ({ key: g.group, value: pick(g) })), { key: 'other', value: total(pick) - shown.reduce((s, g) => s + pick(g), 0) }];
  return {
    vars: {
      table: VARIANTS.map(([key, label]) => ({ ...by(r, key), label, spread: spread(by(r, key).perRunCpuUsPerRequest) })),
      baseline: vs(b),
      als: vs(a),
      alsDeadline: vs(ad),
      fetch: vs(f),
      ours: o,
      base: b,
      fetchCpu: f.cpuUsPerRequest,
      fetchExtra: f.cpuUsPerRequest - b.cpuUsPerRequest,
      paired: pairedSummary(r),
      met: pairedSummary(r).rps >= TARGET,
      target: TARGET,
      parts: { als: part(a.cpuUsPerRequest - b.cpuUsPerRequest), deadline: part(ad.cpuUsPerRequest - a.cpuUsPerRequest), module: part(o.cpuUsPerRequest - ad.cpuUsPerRequest) },
      node20Paired: node20 && pairedSummary(node20),
      vs20: node20 && { ours: by(node20, 'ours'), oursOver20: o.requestsPerSecond / by(node20, 'ours').requestsPerSecond },
      groups: r.groups.filter((g) => Math.abs(g.diffUs) >= 0.05 || g.oursUs >= 0.5),
      total: { ours: total((g) => g.oursUs), baseline: total((g) => g.baselineUs), diff: total((g) => g.diffUs) },
      diffFunctions: r.topDiffFunctions.slice(0, 20).map((x) => ({ ...x, diff: x.oursUs - x.baselineUs })),
      topFunctions: r.topFunctions.slice(0, 20),
      profiled: { ours: r.profiles[0], baseline: r.profiles[1] },
      oursLib: r.groups.find((g) => g.group === 'nestjs-obo (libs/obo/src)')?.oursUs ?? 0,
      grew: r.groups.filter((g) => g.diffUs >= 0.5).slice(0, 6).map((g) => `${g.group} ${signed(g.diffUs)}`).join(', '),
    },
    chart: barChart('End to end GET /api/profile: where the Original API spends CPU per request', `--cpu-prof self time in the load window, µs per request; throughput ours ÷ baseline ${fixed(vs(b).rps)}; Node ${r.machine.node}`, [
      {
        title: 'profiled CPU self time per request (µs), by group of code',
        unit: 'us',
        scale: 'linear',
        bars: [
          { label: 'nestjs-obo (ours)', color: '#212121', value: total((g) => g.oursUs), segments: segments((g) => g.oursUs), text: `${total((g) => g.oursUs).toFixed(0)} µs · ${int(o.requestsPerSecond)} req/s` },
          { label: 'baseline 4 (no guard, fixed token)', color: '#212121', value: total((g) => g.baselineUs), segments: segments((g) => g.baselineUs), text: `${total((g) => g.baselineUs).toFixed(0)} µs · ${int(b.requestsPerSecond)} req/s` },
        ],
      },
    ]),
  };
}

await benchMain(NAME, run, render);
