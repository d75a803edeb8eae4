import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Module } from '@nestjs/common';
import { OboModule } from 'nestjs-obo';
import { LocalAuthority } from 'nestjs-obo/testing';
import { spawnApp, type RunningApp } from '../apps/demo/src/spawn-app.js';
import { WhoAmIController } from '../apps/downstream-api/src/whoami.controller.js';
import { listen, type ApiUnderTest } from './support/api-under-test.js';
import { startRedis, type RedisProcess } from './support/redis-server.js';
import { startStubDownstream, type StubDownstream } from './support/stub-downstream.js';

const entry = join(import.meta.dirname, '..', 'dist/apps/original-api/src/main.js');
if (!existsSync(entry)) throw new Error('Build first: `npm test` runs `npm run build` before jest.');

/** Two (or more) Original API processes sharing one Redis, in front of one authority and downstream. */
describe('several Original API processes sharing one Redis', () => {
  let authority: LocalAuthority;
  let redis: RedisProcess;
  let downstream: ApiUnderTest;
  let originalId: string;
  let instances: RunningApp[];
  const encryptionKey = randomBytes(32).toString('base64');

  async function startInstance(name: string, downstreamUrl = downstream.url): Promise<RunningApp> {
    return spawnApp(name, entry, {
      ...process.env,
      PORT: '0',
      AZURE_AD_INSTANCE: authority.instance,
      AZURE_AD_TENANT_ID: authority.tenantId,
      AZURE_AD_CLIENT_ID: originalId,
      AZURE_AD_CLIENT_SECRET: 'distributed-secret',
      DOWNSTREAM_API_BASE_URL: downstreamUrl,
      DOWNSTREAM_API_SCOPES: `api://${downstreamIdOf()}/Downstream.Read`,
      REDIS_URL: redis.url,
      TOKEN_CACHE_ENCRYPTION_KEY: encryptionKey,
    }, 30_000);
  }

  let downstreamId: string;
  const downstreamIdOf = () => downstreamId;

  beforeAll(async () => {
    originalId = randomUUID();
    downstreamId = randomUUID();
    authority = await LocalAuthority.start({ clientId: originalId });
    authority.registerApp({ clientId: originalId, clientSecret: 'distributed-secret', scopes: ['access_as_user'] });
    authority.registerApp({ clientId: downstreamId, scopes: ['Downstream.Read'] });
    redis = await startRedis();
    @Module({ imports: [OboModule.forRoot({ instance: authority.instance, tenantId: authority.tenantId, clientId: downstreamId })], controllers: [WhoAmIController] })
    class DownstreamModule {}
    downstream = await listen(DownstreamModule);
    instances = await Promise.all([startInstance('original-a'), startInstance('original-b')]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all((instances ?? []).map((i) => i.stop()));
    await downstream?.close();
    await redis?.stop();
    await authority?.close();
  });

  const profile = async (instance: RunningApp, token: string) => {
    const response = await fetch(`${instance.url}/api/profile`, { headers: { authorization: `Bearer ${token}` } });
    return { status: response.status, body: (await response.json()) as { downstream?: { objectId?: string } } };
  };

  it("serves a user's second instance from Redis: one provider request for two instances", async () => {
    const token = authority.mintUserToken();
    const before = authority.tokenRequests.onBehalfOf;
    expect((await profile(instances[0]!, token)).status).toBe(200);
    expect(authority.tokenRequests.onBehalfOf - before).toBe(1);
    expect((await profile(instances[1]!, token)).status).toBe(200);
    expect(authority.tokenRequests.onBehalfOf - before).toBe(1);
  });

  it('makes one provider request for 40 concurrent first calls of one user spread over both processes (cross-replica lock)', async () => {
    const oid = randomUUID();
    const token = authority.mintUserToken({ claims: { oid } });
    const slow = authority.injectTokenFault({ kind: 'delay', ms: 300 }, { oid });
    const before = authority.tokenRequests.onBehalfOf;
    try {
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => profile(instances[i % 2]!, token)));
      expect(results.map((r) => r.status)).toEqual(Array(40).fill(200));
      expect(results.every((r) => r.body.downstream?.objectId === oid)).toBe(true);
      process.stdout.write(`Provider OBO requests for 40 concurrent first calls over 2 processes: ${authority.tokenRequests.onBehalfOf - before}\n`);
      expect(authority.tokenRequests.onBehalfOf - before).toBe(1);
    } finally {
      slow.remove();
    }
  });

  it('answers every request while Redis is killed mid-load (zero client errors), and uses Redis again once it is back', async () => {
    // Many users, so memory misses keep reaching Redis while it is down.
    const users = Array.from({ length: 60 }, () => authority.mintUserToken());
    let sent = 0;
    const failures: number[] = [];
    const worker = async (w: number) => {
      for (let i = 0; i < 30; i++) {
        const { status } = await profile(instances[(w + i) % 2]!, users[(w * 7 + i) % users.length]!);
        sent++;
        if (status !== 200) failures.push(status);
      }
    };
    const load = Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));
    while (sent < 60) await sleep(10);
    await redis.kill();
    await load;
    process.stdout.write(`Client-visible errors during a Redis kill: ${failures.length} of ${sent} requests\n`);
    expect(failures).toEqual([]);
    expect(sent).toBe(240);

    await redis.restart();
    // Reconnection (backoff up to 2 s) and the circuit's open period (10 s by default): poll, bounded.
    const deadline = Date.now() + 25_000;
    let resumed = false;
    while (!resumed && Date.now() < deadline) {
      await sleep(1_000);
      const token = authority.mintUserToken();
      const before = authority.tokenRequests.onBehalfOf;
      expect((await profile(instances[0]!, token)).status).toBe(200);
      expect((await profile(instances[1]!, token)).status).toBe(200);
      resumed = authority.tokenRequests.onBehalfOf - before === 1;
    }
    expect(resumed).toBe(true);
  }, 60_000);

  it('answers 503 with Retry-After while the authority throttles or fails, and recovers by itself', async () => {
    const get = async (instance: RunningApp, token: string) => {
      const response = await fetch(`${instance.url}/api/profile`, { headers: { authorization: `Bearer ${token}` } });
      return { status: response.status, retryAfter: response.headers.get('retry-after'), body: await response.text() };
    };
    const throttle = authority.injectTokenFault({ kind: 'status', status: 429, retryAfter: 2, body: { error: 'temporarily_unavailable', error_description: 'AADSTS50196: loop detected' } });
    try {
      const answers = await Promise.all([get(instances[0]!, authority.mintUserToken()), get(instances[1]!, authority.mintUserToken())]);
      for (const answer of answers) {
        expect(answer.status).toBe(503);
        expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
        expect(answer.body).not.toMatch(/AADSTS|eyJ/);
      }
    } finally {
      throttle.remove();
    }
    const failing = authority.injectTokenFault({ kind: 'status', status: 503 });
    try {
      await sleep(2_100); // the 429's Retry-After has passed
      const answer = await get(instances[0]!, authority.mintUserToken());
      expect(answer.status).toBe(503);
      expect(answer.retryAfter).toBe('5');
    } finally {
      failing.remove();
    }
    expect((await get(instances[0]!, authority.mintUserToken())).status).toBe(200);
    expect((await get(instances[1]!, authority.mintUserToken())).status).toBe(200);
  }, 30_000);

  describe('graceful shutdown', () => {
    let stub: StubDownstream;
    beforeAll(async () => {
      stub = await startStubDownstream();
    });
    afterAll(() => stub.close());

    it('finishes a request in flight when the process gets SIGTERM, then exits', async () => {
      const instance = await startInstance('original-draining', stub.url);
      stub.script.push({ status: 200, body: { objectId: "slow" }, delayMs: 1_000 });
      const exited = new Promise<string | null>((resolve) => instance.child.once('exit', (_code, signal) => resolve(signal)));
      const inFlight = profile(instance, authority.mintUserToken());
      await sleep(500); // the request is now waiting on the slow downstream
      instance.child.kill('SIGTERM');
      const result = await inFlight;
      expect(result.status).toBe(200);
      expect(await exited).toBe('SIGTERM');
    }, 30_000);
  });
});
