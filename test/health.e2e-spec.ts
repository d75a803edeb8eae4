// Catalogue 4.15 (issue 13), #153: the @nestjs/terminus indicators OboModule provides, used the way an
// app uses them (TerminusModule + HealthCheckService in its own controller) and read over real HTTP:
// the authority (metadata reachable now, signing keys fresh, never a token request) against the local
// authority, and the Redis token cache (circuit state, a PING) against a real redis-server that is
// killed and started again. The library itself never imports @nestjs/terminus (an optional peer).
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Controller, Get, Module } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { AuthorityHealthIndicator, OboModule, Public, RedisTokenCacheHealthIndicator, RequiredScopes, TokenAcquisition, type OboModuleOptions } from 'nestjs-obo';
import { LocalAuthority } from 'nestjs-obo/testing';
import { listen, type ApiUnderTest } from './support/api-under-test.js';
import { sleep } from './support/clock.js';
import { send } from './support/http-reply.js';
import { startRedis, type RedisProcess } from './support/redis-server.js';
import { pointsOf, registerTelemetry, type TestTelemetry } from './support/telemetry-sdk.js';

const root = join(import.meta.dirname, '..');
const routes = { scope: '' };

@Controller('health')
@Public()
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly authority: AuthorityHealthIndicator,
    private readonly cache: RedisTokenCacheHealthIndicator,
  ) {}

  @Get('authority')
  @HealthCheck()
  checkAuthority() {
    return this.health.check([() => this.authority.isHealthy('authority')]);
  }

  @Get('cache')
  @HealthCheck()
  checkCache() {
    return this.health.check([() => this.cache.isHealthy('token-cache')]);
  }
}

@Controller('work')
class WorkController {
  constructor(private readonly tokens: TokenAcquisition) {}

  /** One On-Behalf-Of acquisition (the Redis token cache is read and written on a miss). */
  @Get()
  @RequiredScopes('access_as_user')
  async work(): Promise<{ ok: boolean }> {
    return { ok: (await this.tokens.getAccessTokenForUser([routes.scope])).length > 0 };
  }
}

/** An API registered at `authority` (with a client secret) whose tokens the work route exchanges for `routes.scope`. */
function register(authority: LocalAuthority): { clientId: string; clientSecret: string } {
  const clientId = randomUUID();
  const clientSecret = `secret-${randomUUID()}`;
  const downstreamId = randomUUID();
  authority.registerApp({ clientId, clientSecret, scopes: ['access_as_user'] });
  authority.registerApp({ clientId: downstreamId, scopes: ['Downstream.Read'] });
  routes.scope = `api://${downstreamId}/Downstream.Read`;
  return { clientId, clientSecret };
}

async function startHealthApi(options: OboModuleOptions): Promise<ApiUnderTest> {
  @Module({ imports: [OboModule.forRoot(options), TerminusModule.forRoot({ logger: false })], controllers: [HealthController, WorkController] })
  class HealthAppModule {}
  return listen(HealthAppModule);
}

interface HealthBody {
  status: string;
  info?: Record<string, Record<string, unknown>>;
  error?: Record<string, Record<string, unknown>>;
}

async function health(api: ApiUnderTest, which: 'authority' | 'cache'): Promise<{ status: number; body: HealthBody }> {
  const reply = await send(`${api.url}/health/${which}`);
  return { status: reply.status, body: JSON.parse(reply.body) as HealthBody };
}

/** Asks `check` every 100 ms until it returns true (at most 100 times): waiting for an event, not a timing assertion. */
async function eventually(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await sleep(100);
  }
  throw new Error('the condition never held');
}

describe('#153 the authority health indicator', () => {
  let authority: LocalAuthority;
  let api: ApiUnderTest;
  let clientId: string;

  beforeAll(async () => {
    authority = await LocalAuthority.start();
    const app = register(authority);
    clientId = app.clientId;
    // Keys go stale after 1 s; a failed refresh blocks nothing (each check may try again).
    api = await startHealthApi({ instance: authority.instance, tenantId: authority.tenantId, clientId, clientSecret: app.clientSecret, jwks: { cacheMaxAgeSeconds: 1, failureBackoffSeconds: 0 } });
  }, 30_000);
  afterAll(async () => {
    await api?.close();
    await authority?.close();
  });
  beforeEach(() => {
    authority.jwksFault = 'none';
    authority.discoveryFault = 'none';
  });

  it('is up (200) while the metadata answers and the keys are fresh, and never makes a token request', async () => {
    authority.resetCounters();
    const { status, body } = await health(api, 'authority');
    expect(status).toBe(200);
    expect(body.status).toBe('ok');
    expect(body.info!.authority).toEqual({ status: 'up', metadata: 'reachable', signingKeys: { count: 1, ageSeconds: expect.any(Number), fresh: true } });
    expect(authority.requests.token).toBe(0);
    expect(authority.tokenRequests.onBehalfOf + authority.tokenRequests.clientCredentials).toBe(0);
    expect(authority.requests.discovery).toBeGreaterThan(0);
  });

  it('is down (503) when the keys went stale and the JWKS cannot be fetched, though the metadata answers; up again once the JWKS is back', async () => {
    await sleep(1_100); // the key set is older than jwks.cacheMaxAgeSeconds
    authority.jwksFault = 'status-500';
    const down = await health(api, 'authority');
    expect(down.status).toBe(503);
    expect(down.body.status).toBe('error');
    expect(down.body.error!.authority).toEqual({ status: 'down', metadata: 'reachable', signingKeys: { count: 1, ageSeconds: expect.any(Number), fresh: false } });
    authority.jwksFault = 'none';
    const up = await health(api, 'authority');
    expect(up.status).toBe(200);
    expect(up.body.info!.authority).toMatchObject({ status: 'up', signingKeys: { count: 1, fresh: true } });
    expect(authority.requests.token).toBe(0);
  });

  it('is down (503) with metadata "unreachable" and the reason when the discovery document fails', async () => {
    authority.discoveryFault = 'status-500';
    const { status, body } = await health(api, 'authority');
    expect(status).toBe(503);
    expect(body.error!.authority).toMatchObject({ status: 'down', metadata: 'unreachable', error: '500' });
  });

  it('is down (503) once the authority is stopped, and no check ever made a token request', async () => {
    const other = await LocalAuthority.start();
    const app = register(other);
    const otherApi = await startHealthApi({ instance: other.instance, tenantId: other.tenantId, clientId: app.clientId, clientSecret: app.clientSecret });
    try {
      expect((await health(otherApi, 'authority')).status).toBe(200);
      await other.close();
      const { status, body } = await health(otherApi, 'authority');
      expect(status).toBe(503);
      expect(body.error!.authority).toMatchObject({ status: 'down', metadata: 'unreachable', error: 'network' });
      expect(other.requests.token).toBe(0);
    } finally {
      await otherApi.close();
    }
  });

  it('reports a module without a distributed cache as up (store "memory") on the token-cache indicator', async () => {
    const { status, body } = await health(api, 'cache');
    expect(status).toBe(200);
    expect(body.info!['token-cache']).toEqual({ status: 'up', store: 'memory' });
  });
});

describe('#153 the Redis token cache health indicator and the obo.redis.circuit.open gauge', () => {
  let telemetry: TestTelemetry;
  let authority: LocalAuthority;
  let redis: RedisProcess;
  let api: ApiUnderTest;
  let clientId: string;
  const work = () => send(`${api.url}/work`, authority.mintUserToken({ audience: clientId, claims: { oid: randomUUID() } }));
  const circuitGauge = async () => pointsOf(await telemetry.metrics(), 'obo.redis.circuit.open', { 'obo.circuit.name': 'token_cache' }).map((p) => p.value);

  beforeAll(async () => {
    telemetry = registerTelemetry();
    authority = await LocalAuthority.start();
    redis = await startRedis();
    const app = register(authority);
    clientId = app.clientId;
    api = await startHealthApi({
      instance: authority.instance,
      tenantId: authority.tenantId,
      clientId,
      clientSecret: app.clientSecret,
      distributedCache: { redis: redis.url, encryptionKeys: [randomBytes(32).toString('base64')], operationTimeoutMs: 200, failureThreshold: 1, openSeconds: 1 },
    });
  }, 30_000);
  afterAll(async () => {
    await api?.close();
    await redis?.stop();
    await authority?.close();
    await telemetry?.shutdown();
  });

  it('is up (200) while the circuit is closed and Redis answers PING; the gauge reads 0', async () => {
    expect((await work()).status).toBe(200);
    const { status, body } = await health(api, 'cache');
    expect(status).toBe(200);
    expect(body.info!['token-cache']).toEqual({ status: 'up', store: 'redis', circuit: 'closed', ping: 'PONG' });
    expect(await circuitGauge()).toEqual([0]);
  });

  it('is down (503) when redis-server is killed: the ping fails at once, and once a request trips the breaker the circuit is open and the gauge reads 1 (the request itself is served)', async () => {
    await redis.kill();
    const first = await health(api, 'cache');
    expect(first.status).toBe(503);
    expect(first.body.error!['token-cache']).toMatchObject({ status: 'down', store: 'redis', ping: 'failed', error: expect.any(String) });
    expect((await work()).status).toBe(200);
    const tripped = await health(api, 'cache');
    expect(tripped.status).toBe(503);
    expect(tripped.body.error!['token-cache']).toMatchObject({ status: 'down', circuit: 'open', ping: 'failed' });
    expect(await circuitGauge()).toEqual([1]);
  });

  it('is up again once redis-server is back and a request closed the circuit; the gauge reads 0', async () => {
    await redis.restart();
    await eventually(async () => (await work()).status === 200 && (await health(api, 'cache')).status === 200);
    const { body } = await health(api, 'cache');
    expect(body.info!['token-cache']).toEqual({ status: 'up', store: 'redis', circuit: 'closed', ping: 'PONG' });
    expect(await circuitGauge()).toEqual([0]);
  }, 20_000);
});

describe('#153 @nestjs/terminus stays an optional peer', () => {
  it('nothing imported from libs/obo/src/index.ts imports @nestjs/terminus at run time (type-only imports aside)', () => {
    const seen = new Set<string>();
    const offenders: string[] = [];
    const pending = [join(root, 'libs/obo/src/index.ts')];
    while (pending.length > 0 && seen.size < 1_000) {
      const file = pending.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      for (const [, typeOnly, specifier] of text.matchAll(/^\s*(?:import|export)\s+(type\s+)?[^'";]*?from\s+'([^']+)'/gm)) {
        if (typeOnly) continue;
        if (specifier!.startsWith('@nestjs/terminus')) offenders.push(file);
        if (specifier!.startsWith('.')) pending.push(resolve(dirname(file), specifier!.replace(/\.js$/, '.ts')));
      }
    }
    expect(seen.size).toBeGreaterThan(100);
    expect(offenders).toEqual([]);
  });
});
