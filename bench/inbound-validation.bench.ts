// Inbound validation per request (guard + scopes) over HTTP on loopback, warm key set:
//   ours-full      nestjs-obo, validatedTokenCacheMaxEntries: 0 (signature, claims, scopes on every request)
//   ours-cached    nestjs-obo defaults (a repeated token skips the signature check)
//   passport-jwks  baseline 3, the NestJS docs recipe (@nestjs/passport + passport-jwt + jwks-rsa)
//   none           no guard at all (the floor)
// Each is the same Nest/Express app with `GET /api/ok` → `{ ok: true }` in its own child process;
// autocannon in this process; variants alternate in rounds. Run with `npm run bench -- inbound`.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderBars } from './lib/bars.js';
import { startChildServer, type ChildServer } from './lib/child-server.js';
import { mintAssertion, startFixture } from './lib/fixture.js';
import { HOT_PATH_BEFORE, type RecordedVariant } from './lib/hot-path-before.js';
import { alternate, warmUp, type Variant, type VariantResult } from './lib/http-rounds.js';
import { envNumber, int, isDefaultRun, machine, machineLine, packageVersion, ratio, table, us, writeResults, writeSection, type Machine } from './lib/section.js';
import type { InboundServerConfig, InboundVariant } from './servers/inbound.server.js';

const NAME = 'inbound-validation';
const root = process.env.BENCH_ROOT ?? process.cwd();
const started = Date.now();
const log = (line: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}`);
const settings = {
  rounds: envNumber('BENCH_INBOUND_ROUNDS', 6),
  durationSeconds: envNumber('BENCH_INBOUND_SECONDS', 2),
  warmUpSeconds: envNumber('BENCH_INBOUND_WARMUP_SECONDS', 2),
  connections: envNumber('BENCH_INBOUND_CONNECTIONS', 10),
};
const host: Machine = machine();

interface Ratios {
  readonly aOverC: number;
  readonly bOverC: number;
  readonly aOverD: number;
  readonly bOverD: number;
}
interface InboundResult {
  readonly name: string;
  readonly date: string;
  readonly durationSeconds: number;
  readonly command: string;
  readonly machine: Machine;
  readonly loadAverageAtEnd: readonly number[];
  readonly versions: Record<string, string>;
  readonly settings: typeof settings;
  readonly tokenLengthChars: number;
  readonly results: readonly VariantResult[];
  readonly ratios: { readonly throughput: Ratios; readonly cpu: Ratios };
}

type Key = InboundVariant | 'ours-full@before' | 'ours-cached@before';
interface VariantSpec {
  readonly key: Key;
  readonly variant: InboundVariant;
  readonly label: string;
  /** The compiled server entry. */
  readonly entry: string;
}

const entry = new URL('./servers/inbound.server.js', import.meta.url).pathname;
// BENCH_COMPARE_DIST=<another tree's dist/bench>: also runs that tree's build of ours (e.g. the
// library before a change), alternating with the rest in the same run (the before / after record).
const compareDist = process.env.BENCH_COMPARE_DIST;
const VARIANTS: readonly VariantSpec[] = [
  { key: 'ours-full', variant: 'ours-full', label: '(a) nestjs-obo, full validation every request', entry },
  { key: 'ours-cached', variant: 'ours-cached', label: '(b) nestjs-obo, validated-token cache (default)', entry },
  { key: 'passport-jwks', variant: 'passport-jwks', label: '(c) NestJS docs recipe: passport-jwt + jwks-rsa', entry },
  { key: 'none', variant: 'none', label: '(d) no guard (floor)', entry },
  ...(compareDist
    ? ([
        { key: 'ours-full@before', variant: 'ours-full', label: '(a) before the hot-path changes', entry: join(compareDist, 'bench', 'servers', 'inbound.server.js') },
        { key: 'ours-cached@before', variant: 'ours-cached', label: '(b) before the hot-path changes', entry: join(compareDist, 'bench', 'servers', 'inbound.server.js') },
      ] as const)
    : []),
];

const fixture = await startFixture();
const { authority } = fixture;
const token = mintAssertion(fixture, 0);
const noScopeToken = authority.mintUserToken({ audience: fixture.originalId, claims: { scp: 'Something.Else' } });
const servers = new Map<Key, ChildServer>();
try {
  for (const spec of VARIANTS) {
    const config: InboundServerConfig = { variant: spec.variant, instance: authority.instance, tenantId: authority.tenantId, clientId: fixture.originalId, scope: 'access_as_user' };
    servers.set(spec.key, await startChildServer(spec.key, spec.entry, config));
  }
  log(`servers up: ${[...servers.values()].map((s) => `${s.name} pid ${s.pid}`).join(', ')}`);

  // Each variant must really guard: 200 with the token, 401 without, 403 without the scope (none: 200 always).
  for (const { key, variant } of VARIANTS) {
    const url = `${servers.get(key)!.url}/api/ok`;
    const status = async (headers: Record<string, string>) => (await fetch(url, { headers })).status;
    const ok = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    const body = await ok.text();
    if (ok.status !== 200 || body !== '{"ok":true}') throw new Error(`${key}: ${ok.status} ${body}`);
    const missing = await status({});
    const noScope = await status({ authorization: `Bearer ${noScopeToken}` });
    const expected = variant === 'none' ? [200, 200] : [401, 403];
    if (missing !== expected[0] || noScope !== expected[1]) throw new Error(`${key}: no token → ${missing}, no scope → ${noScope}; expected ${expected.join(', ')}`);
  }
  log('checks passed: every guarded variant answers 401 without a token and 403 without the scope');

  const headers = { authorization: `Bearer ${token}` };
  const variants: Variant[] = VARIANTS.map(({ key }) => ({ key, server: servers.get(key)!, path: '/api/ok', headers }));
  await warmUp(variants, settings.warmUpSeconds, settings.connections, log);
  authority.resetCounters();
  const results = await alternate(variants, { ...settings, log });
  const keyFetches = authority.requests.jwks + authority.requests.discovery;
  if (keyFetches !== 0) throw new Error(`${keyFetches} discovery/JWKS requests during measurement: the key set was not warm`);

  const by = Object.fromEntries(results.map((r) => [r.key, r])) as Record<Key, VariantResult>;
  const result: InboundResult = {
    name: NAME,
    date: new Date(started).toISOString(),
    durationSeconds: Math.round((Date.now() - started) / 1000),
    command: process.env.BENCH_COMMAND ? `${process.env.BENCH_COMMAND} -- inbound` : 'npm run bench -- inbound',
    machine: host,
    loadAverageAtEnd: machine().loadAverageAtStart,
    versions: Object.fromEntries(['@nestjs/core', '@nestjs/passport', 'passport', 'passport-jwt', 'jsonwebtoken', 'jwks-rsa', 'express', 'autocannon'].map((p) => [p, packageVersion(root, p)])),
    settings,
    tokenLengthChars: token.length,
    results,
    ratios: {
      throughput: {
        aOverC: by['ours-full'].requestsPerSecond / by['passport-jwks'].requestsPerSecond,
        bOverC: by['ours-cached'].requestsPerSecond / by['passport-jwks'].requestsPerSecond,
        aOverD: by['ours-full'].requestsPerSecond / by.none.requestsPerSecond,
        bOverD: by['ours-cached'].requestsPerSecond / by.none.requestsPerSecond,
      },
      cpu: {
        aOverC: by['ours-full'].cpuUsPerRequest / by['passport-jwks'].cpuUsPerRequest,
        bOverC: by['ours-cached'].cpuUsPerRequest / by['passport-jwks'].cpuUsPerRequest,
        aOverD: by['ours-full'].cpuUsPerRequest / by.none.cpuUsPerRequest,
        bOverD: by['ours-cached'].cpuUsPerRequest / by.none.cpuUsPerRequest,
      },
    },
  };
  const file = writeResults(root, compareDist ? `${NAME}-compare` : NAME, result.date, result);
  log(`results: ${file}`);
  for (const r of results) {
    log(`${r.key.padEnd(14)} ${int(r.requestsPerSecond).padStart(6)} req/s  median ${us(r.load.latency.medianUs)}  p99 ${us(r.load.latency.p99Us)}  CPU ${r.cpuUsPerRequest.toFixed(1)} µs/request`);
  }
  log(`throughput ratios a/c ${ratio(result.ratios.throughput.aOverC)}, b/c ${ratio(result.ratios.throughput.bOverC)}, a/d ${ratio(result.ratios.throughput.aOverD)}, b/d ${ratio(result.ratios.throughput.bOverD)}`);

  if (isDefaultRun() || process.env.BENCH_UPDATE_DOCS === '1') {
    writeFileSync(join(root, 'bench', `${NAME}.svg`), chart(results));
    writeSection(root, NAME, section(result, by));
    log(`updated BENCHMARKS.md (bench:${NAME}) and bench/${NAME}.svg`);
  } else {
    log('non-default BENCH_* settings: BENCHMARKS.md left as is (BENCH_UPDATE_DOCS=1 to write it anyway)');
  }
} finally {
  await Promise.all([...servers.values()].map((s) => s.stop()));
  await authority.close();
}

function chart(results: readonly VariantResult[]): string {
  const colors: Record<string, string> = { 'ours-full': '#1565c0', 'ours-cached': '#42a5f5', 'passport-jwks': '#c62828', none: '#757575' };
  return renderBars({
    title: 'Inbound validation: server CPU per request (lower is better)',
    subtitle: `GET /api/ok on Nest/Express, loopback, autocannon ${settings.connections} connections; ${host.cpuCount} × ${host.cpuModel}, Node ${host.node}, ${new Date(started).toISOString().slice(0, 10)}`,
    axis: 'server CPU time per request (µs, user + system)',
    bars: results.map((r) => ({
      label: VARIANTS.find((v) => v.key === r.key)!.label.replace(/, (full validation every request|validated-token cache \(default\))/, (m) => (m.includes('full') ? ', full validation' : ', validated cache')).replace('NestJS docs recipe: ', ''),
      segments: [{ key: r.key, value: r.cpuUsPerRequest }],
      note: `${r.cpuUsPerRequest.toFixed(0)} µs · ${int(r.requestsPerSecond)} req/s`,
    })),
    colors: Object.entries(colors),
    legend: false,
  });
}

function section(r: InboundResult, by: Record<Key, VariantResult>): string {
  const rows = VARIANTS.map(({ key, label }) => {
    const v = by[key];
    const spread = `${Math.min(...v.perRunCpuUsPerRequest).toFixed(0)}–${Math.max(...v.perRunCpuUsPerRequest).toFixed(0)}`;
    return [label, int(v.requestsPerSecond), us(v.load.latency.medianUs), us(v.load.latency.p99Us), `${v.cpuUsPerRequest.toFixed(1)} µs`, spread, `${(v.cpuUtilisation * 100).toFixed(0)} %`, int(v.load.requests)];
  });
  const t = r.ratios.throughput;
  const c = r.ratios.cpu;
  const ratioRows = [
    ['(a) ÷ (c): ours, full validation vs the docs recipe', ratio(t.aOverC), ratio(c.aOverC)],
    ['(b) ÷ (c): ours, validated cache vs the docs recipe', ratio(t.bOverC), ratio(c.bOverC)],
    ['(a) ÷ (d): ours, full validation vs no guard', ratio(t.aOverD), ratio(c.aOverD)],
    ['(b) ÷ (d): ours, validated cache vs no guard', ratio(t.bOverD), ratio(c.bOverD)],
  ];
  const a = by['ours-full'];
  const b = by['ours-cached'];
  const p = by['passport-jwks'];
  const d = by.none;
  const guardCost = (v: VariantResult) => v.cpuUsPerRequest - d.cpuUsPerRequest;
  const recorded = HOT_PATH_BEFORE.inbound;
  const beforeAfter = recorded
    ? (() => {
        const rv = recorded.variants;
        const floor = rv.none.cpuUsPerRequest;
        const row = (label: string, old: RecordedVariant, now: RecordedVariant) => [
          label,
          int(old.requestsPerSecond),
          int(now.requestsPerSecond),
          `${old.cpuUsPerRequest.toFixed(1)} µs`,
          `${now.cpuUsPerRequest.toFixed(1)} µs`,
          `${(now.cpuUsPerRequest - old.cpuUsPerRequest >= 0 ? '+' : '−')}${Math.abs(now.cpuUsPerRequest - old.cpuUsPerRequest).toFixed(1)} µs`,
          `${(old.cpuUsPerRequest - floor).toFixed(1)} → ${(now.cpuUsPerRequest - floor).toFixed(1)} µs`,
          `${ratio(old.requestsPerSecond / rv.none.requestsPerSecond)} → ${ratio(now.requestsPerSecond / rv.none.requestsPerSecond)}`,
        ];
        return [
          '',
          '### Before / after the hot-path changes',
          '',
          `${recorded.note} Both builds of ours, the docs recipe and the floor alternated in the same rounds, so the comparison does not depend on how busy the machine was.`,
          '',
          table(
            ['variant', 'req/s before', 'req/s after', 'CPU/request before', 'CPU/request after', 'change', 'guard cost over the floor (d)', 'throughput ÷ floor'],
            ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
            [row('(a) full validation', rv['ours-full@before'], rv['ours-full']), row('(b) validated-token cache (default)', rv['ours-cached@before'], rv['ours-cached'])],
          ),
          '',
          `Same run: (c) the docs recipe ${rv['passport-jwks'].cpuUsPerRequest.toFixed(1)} µs CPU/request, ${int(rv['passport-jwks'].requestsPerSecond)} req/s; (d) the floor ${floor.toFixed(1)} µs, ${int(rv.none.requestsPerSecond)} req/s.`,
        ];
      })()
    : [];
  return [
    `<!-- Generated by \`npm run bench\` (bench/${NAME}.bench.ts); edits between these markers are overwritten. -->`,
    '',
    '## Inbound validation per request: nestjs-obo vs the NestJS docs recipe',
    '',
    'The same Nest/Express app (`GET /api/ok` → `{ ok: true }`, one route requiring the delegated scope `access_as_user`), guarded four ways, each in its own',
    'child process, loaded over loopback HTTP by autocannon in the bench process; the key set is warm (no discovery or JWKS request during measurement, checked).',
    '',
    `- **Run:** ${r.date}, ${r.durationSeconds} s in total.`,
    `- **Machine:** ${machineLine(r.machine)}; at end ${r.loadAverageAtEnd.map((v) => v.toFixed(2)).join(' / ')}.`,
    `- **Libraries:** ${Object.entries(r.versions).map(([k, v]) => `${k} ${v}`).join(', ')}.`,
    `- **Command:** \`${r.command}\` (= \`node scripts/bench.mjs inbound\`: compiles bench/ into dist/bench, runs \`node --expose-gc dist/bench/bench/${NAME}.bench.js\`; JSON in \`bench/results/\`).`,
    `- **Load:** ${settings.connections} connections, pipelining 1, ${settings.rounds} rounds × ${settings.durationSeconds} s per variant after a ${settings.warmUpSeconds} s warm-up each; the order rotates every round. Every request sends the same ${r.tokenLengthChars}-character RS256 user token from the LocalAuthority (Entra v2.0 claims). Any non-2xx response aborts the run.`,
    '',
    table(
      ['variant', 'req/s', 'latency median', 'latency p99', 'server CPU / request', 'per round (µs)', 'server CPU use', 'requests'],
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
      rows,
    ),
    '',
    table(['ratio', 'throughput (req/s)', 'server CPU per request'], ['l', 'r', 'r'], ratioRows),
    '',
    `![Server CPU per request, four inbound variants](bench/${NAME}.svg)`,
    '',
    '### Reading',
    '',
    `- **Guard cost over the floor** (server CPU per request minus (d)): (a) full validation ${guardCost(a).toFixed(1)} µs, (b) validated cache ${guardCost(b).toFixed(1)} µs, (c) the docs recipe ${guardCost(p).toFixed(1)} µs. ` +
      `Ours with full validation does more checks than the recipe (issuer bound to \`ver\` and \`tid\`, tenant allow-list, canonical base64url, duplicate JSON members, \`typ\`, key/alg family, lifetime bounds, user/app classification) ${c.aOverC < 1 ? 'and still needs only' : 'and costs'} ${ratio(c.aOverC)}× its CPU per request (${ratio(t.aOverC)}× its throughput); with the default validated-token cache a repeated token skips the signature check and claim parsing, and costs ${ratio(c.bOverC)}× the recipe's CPU (${ratio(t.bOverC)}× its throughput).`,
    `- **Throughput vs the floor:** (b) reaches ${(t.bOverD * 100).toFixed(0)} % of the unguarded app's requests/s, (a) ${(t.aOverD * 100).toFixed(0)} %, the recipe ${((p.requestsPerSecond / d.requestsPerSecond) * 100).toFixed(0)} %.`,
    '- **Method notes:** server CPU is `process.cpuUsage()` of the server process (all its threads, GC included), sampled over IPC before and after every run, divided by the 2xx responses of that run; it does not depend on how much CPU autocannon takes, so it is steadier than requests/s on 2 shared cores. Requests/s and server CPU per request are medians over the rounds (short alternating runs, so a burst of load from elsewhere on the machine hits one run of one variant, not a whole variant); the per-round column shows their spread. Latency is timed per response by autocannon (µs resolution, our own recording, not its 1 ms histogram); percentiles are over all responses of all rounds. The server, autocannon and the idle authority share the 2 cores, so throughput is bounded by the pair, not by the server alone.',
    '- **Baseline (c), as documented:** `PassportStrategy(Strategy)` with `secretOrKeyProvider: passportJwtSecret({ cache: true, rateLimit: true, jwksRequestsPerMinute: 5, jwksUri })`, `jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken()`, `audience`, `issuer`, `algorithms: [\'RS256\']`, `validate(payload) { return payload }`; `@UseGuards(AuthGuard(\'jwt\'))` and `scp.split(\' \').includes(scope)` in the handler (403 otherwise).',
    ...beforeAfter,
  ].join('\n');
}
