// Inbound validation per request (guard + scopes) over loopback HTTP, warm key set: the same
// Nest/Express `GET /api/ok` guarded four ways (bench/servers/inbound.server.ts), each in its own
// process, autocannon here, variants alternating in rounds.
import { barChart, BLUE, GREY, RED } from './lib/chart.js';
import { startChild, type ChildServer } from './lib/child.js';
import { mintAssertion, startFixture } from './lib/fixture.js';
import { alternate, warmUp, type Variant, type VariantResult } from './lib/load.js';
import { benchMain, fixed, header, int, log, pick, spread, type RunHeader } from './lib/report.js';
import type { InboundServerConfig, InboundVariant } from './servers/inbound.server.js';

const NAME = 'inbound-validation';
const settings = { rounds: pick(6, 2), durationSeconds: pick(2, 1), warmUpSeconds: pick(2, 1), connections: 10 };
const VARIANTS: ReadonlyArray<[InboundVariant, string, string]> = [
  ['ours-full', '(a) nestjs-obo, full validation every request', BLUE],
  ['ours-cached', '(b) nestjs-obo, validated-token cache (default)', '#42a5f5'],
  ['passport-jwks', '(c) NestJS docs recipe: passport-jwt + jwks-rsa', RED],
  ['none', '(d) no guard (floor)', GREY],
];

interface Result extends RunHeader {
  settings: typeof settings;
  tokenLengthChars: number;
  results: VariantResult[];
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
  const ratio = (x: VariantResult, y: VariantResult) => ({ rps: x.requestsPerSecond / y.requestsPerSecond, cpu: x.cpuUsPerRequest / y.cpuUsPerRequest });
  return {
    vars: {
      table: VARIANTS.map(([key, label]) => ({ ...by(r)[key], label, spread: spread(by(r)[key].perRunCpuUsPerRequest) })),
      ac: ratio(a, c),
      bc: ratio(b, c),
      ad: ratio(a, d),
      bd: ratio(b, d),
      cd: ratio(c, d),
      cheaper: a.cpuUsPerRequest < c.cpuUsPerRequest,
      cost: { a: a.cpuUsPerRequest - d.cpuUsPerRequest, b: b.cpuUsPerRequest - d.cpuUsPerRequest, c: c.cpuUsPerRequest - d.cpuUsPerRequest },
      vsNode20: node20 && VARIANTS.map(([key, label]) => `${label.slice(0, 3)} ${fixed(by(r)[key].requestsPerSecond / by(node20)[key].requestsPerSecond)}×`).join(', '),
    },
    chart: barChart('Inbound validation: server CPU per request (lower is better)', `GET /api/ok on Nest/Express, loopback, autocannon ${r.settings.connections} connections; Node ${r.machine.node}, ${r.date.slice(0, 10)}`, [
      {
        title: 'server CPU time per request (µs, user + system)',
        unit: 'us',
        scale: 'linear',
        bars: VARIANTS.map(([key, label, color]) => ({ label: label.split(/,|:/)[0]!, color, value: by(r)[key].cpuUsPerRequest, text: `${by(r)[key].cpuUsPerRequest.toFixed(0)} µs · ${int(by(r)[key].requestsPerSecond)} req/s` })),
      },
    ]),
  };
}

await benchMain(NAME, run, render);
