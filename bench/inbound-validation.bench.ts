// Inbound validation per request (guard + scopes) over loopback HTTP, warm key set: the same
// Nest/Express `GET /api/ok` guarded four ways (bench/servers/inbound.server.ts), each in its own
// process, autocannon here, variants alternating in rounds.
import { barChart, BLUE, GREY, RED } from './lib/chart.js';
import { startChild, type ChildServer } from './lib/child.js';
import { mintAssertion, startFixture } from './lib/fixture.js';
import { alternate, warmUp, type Variant, type VariantResult } from './lib/load.js';
import { benchMain, fixed, header, int, log, machineLine, pick, table, us, type RunHeader } from './lib/report.js';
import type { InboundServerConfig, InboundVariant } from './servers/inbound.server.js';

const NAME = 'inbound-validation';
const settings = { rounds: pick(6, 2), durationSeconds: pick(2, 1), warmUpSeconds: pick(2, 1), connections: 10 };
const VARIANTS: ReadonlyArray<readonly [InboundVariant, string, string]> = [
  ['ours-full', '(a) nestjs-obo, full validation every request', BLUE],
  ['ours-cached', '(b) nestjs-obo, validated-token cache (default)', '#42a5f5'],
  ['passport-jwks', '(c) NestJS docs recipe: passport-jwt + jwks-rsa', RED],
  ['none', '(d) no guard (floor)', GREY],
];

interface Result extends RunHeader {
  readonly settings: typeof settings;
  readonly tokenLengthChars: number;
  readonly results: readonly VariantResult[];
}

async function run(): Promise<Result> {
  const fixture = await startFixture();
  const { authority } = fixture;
  const token = mintAssertion(fixture, 0);
  const noScopeToken = authority.mintUserToken({ audience: fixture.originalId, claims: { scp: 'Something.Else' } });
  const servers: ChildServer[] = [];
  try {
    for (const [variant] of VARIANTS) {
      const config: InboundServerConfig = { variant, instance: authority.instance, tenantId: authority.tenantId, clientId: fixture.originalId, scope: 'access_as_user' };
      servers.push(await startChild(variant, 'inbound.server.js', config));
    }
    // Each variant must really guard: 200 with the token, 401 without, 403 without the scope (none: 200 always).
    for (const [i, [variant]] of VARIANTS.entries()) {
      const status = async (token?: string) => (await fetch(`${servers[i]!.url}/api/ok`, { headers: token ? { authorization: `Bearer ${token}` } : {} })).status;
      const seen = [await status(token), await status(), await status(noScopeToken)];
      const expected = variant === 'none' ? [200, 200, 200] : [200, 401, 403];
      if (seen.join() !== expected.join()) throw new Error(`${variant}: ${seen.join(', ')}; expected ${expected.join(', ')}`);
    }
    const headers = { authorization: `Bearer ${token}` };
    const variants: Variant[] = VARIANTS.map(([key], i) => ({ key, server: servers[i]!, path: '/api/ok', headers }));
    await warmUp(variants, settings.warmUpSeconds, settings.connections, log);
    authority.resetCounters();
    const results = await alternate(variants, { ...settings, log });
    const keyFetches = authority.requests.jwks + authority.requests.discovery;
    if (keyFetches !== 0) throw new Error(`${keyFetches} discovery/JWKS requests during measurement: the key set was not warm`);
    return { ...header(NAME, ['@nestjs/core', '@nestjs/passport', 'passport', 'passport-jwt', 'jsonwebtoken', 'jwks-rsa', 'express', 'autocannon']), settings, tokenLengthChars: token.length, results };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await authority.close();
  }
}

function render(r: Result, node20?: Result) {
  const by = (x: Result) => Object.fromEntries(x.results.map((v) => [v.key, v])) as Record<InboundVariant, VariantResult>;
  const { 'ours-full': a, 'ours-cached': b, 'passport-jwks': c, none: d } = by(r);
  const rows = (x: Result) =>
    table(
      ['variant', 'req/s', 'latency median', 'latency p99', 'server CPU / request', 'per round (µs)', 'server CPU use', 'requests'],
      'lrrrrrrr',
      VARIANTS.map(([key, label]) => {
        const v = by(x)[key];
        const runs = v.perRunCpuUsPerRequest;
        return [label, int(v.requestsPerSecond), us(v.load.latency.medianUs), us(v.load.latency.p99Us), `${v.cpuUsPerRequest.toFixed(1)} µs`, `${Math.min(...runs).toFixed(0)}–${Math.max(...runs).toFixed(0)}`, `${(v.cpuUtilisation * 100).toFixed(0)} %`, int(v.load.requests)];
      }),
    );
  const rps = (x: VariantResult, y: VariantResult) => x.requestsPerSecond / y.requestsPerSecond;
  const cpu = (x: VariantResult, y: VariantResult) => x.cpuUsPerRequest / y.cpuUsPerRequest;
  const ratioRow = (label: string, x: VariantResult, y: VariantResult) => [label, fixed(rps(x, y)), fixed(cpu(x, y))];
  const n20 = node20 ? by(node20) : undefined;
  return {
    vars: {
      date: r.date,
      duration: r.durationSeconds,
      machine: machineLine(r.machine, r.loadAverageAtEnd),
      versions: Object.entries(r.versions).map(([k, v]) => `${k} ${v}`).join(', '),
      connections: r.settings.connections,
      rounds: r.settings.rounds,
      seconds: r.settings.durationSeconds,
      warmUp: r.settings.warmUpSeconds,
      tokenChars: r.tokenLengthChars,
      table: rows(r),
      node: r.machine.node,
      vsNode20: n20 ? VARIANTS.map(([key, label]) => `${label.slice(0, 3)} ${fixed(by(r)[key].requestsPerSecond / n20[key].requestsPerSecond)}× the req/s`).join(', ') : '',
      ratios: table(['ratio', 'throughput (req/s)', 'server CPU per request'], 'lrr', [
        ratioRow('(a) ÷ (c): ours, full validation vs the docs recipe', a, c),
        ratioRow('(b) ÷ (c): ours, validated cache vs the docs recipe', b, c),
        ratioRow('(a) ÷ (d): ours, full validation vs no guard', a, d),
        ratioRow('(b) ÷ (d): ours, validated cache vs no guard', b, d),
      ]),
      costA: (a.cpuUsPerRequest - d.cpuUsPerRequest).toFixed(1),
      costB: (b.cpuUsPerRequest - d.cpuUsPerRequest).toFixed(1),
      costC: (c.cpuUsPerRequest - d.cpuUsPerRequest).toFixed(1),
      needs: cpu(a, c) < 1 ? 'and still needs only' : 'and costs',
      cpuAC: fixed(cpu(a, c)),
      rpsAC: fixed(rps(a, c)),
      cpuBC: fixed(cpu(b, c)),
      rpsBC: fixed(rps(b, c)),
      pctB: (rps(b, d) * 100).toFixed(0),
      pctA: (rps(a, d) * 100).toFixed(0),
      pctC: (rps(c, d) * 100).toFixed(0),
    },
    chart: barChart('Inbound validation: server CPU per request (lower is better)', `GET /api/ok on Nest/Express, loopback, autocannon ${r.settings.connections} connections; Node ${r.machine.node}, ${r.date.slice(0, 10)}`, [
      {
        title: 'server CPU time per request (µs, user + system)',
        unit: 'us',
        scale: 'linear',
        bars: VARIANTS.map(([key, label, color]) => ({ label: label.replace(/, (full validation every request|validated-token cache \(default\))/, (m) => (m.includes('full') ? ', full validation' : ', validated cache')).replace('NestJS docs recipe: ', ''), color, value: by(r)[key].cpuUsPerRequest, text: `${by(r)[key].cpuUsPerRequest.toFixed(0)} µs · ${int(by(r)[key].requestsPerSecond)} req/s` })),
      },
    ]),
  };
}

await benchMain(NAME, run, render);
