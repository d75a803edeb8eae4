import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { resolveOboOptions } from '../libs/obo/src/options/resolve-obo-options.js';
import type { DistributedCacheOptions } from '../libs/obo/src/options/obo-module-options.interface.js';
import { tokenCacheKey, tokenOwner } from '../libs/obo/src/outbound/token-cache/cache-key.js';
import { RedisTokenCacheStore } from '../libs/obo/src/outbound/token-cache/redis/redis-token-cache.store.js';
import { TokenCache } from '../libs/obo/src/outbound/token-cache/token-cache.js';
import type { CachedToken } from '../libs/obo/src/outbound/token-cache/token-cache-store.interface.js';
import { startRedis, type RedisProcess } from './support/redis-server.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT = '6e74172b-be56-4843-9ff4-e66a39bb12e3';
const newKey = () => randomBytes(32).toString('base64');

let redis: RedisProcess;
let raw: Redis;
const stores: RedisTokenCacheStore[] = [];

beforeAll(async () => {
  redis = await startRedis();
  raw = new Redis(redis.url, { maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  await Promise.all(stores.map((s) => s.stop()));
  raw.disconnect();
  await redis.stop();
});

/** A TokenCache with its own Redis store (as one instance of the API would have). */
async function instance(cache: Partial<DistributedCacheOptions> & { encryptionKeys: string[] }, prefix = 'test:'): Promise<{ cache: TokenCache; store: RedisTokenCacheStore }> {
  const options = resolveOboOptions({
    tenantId: TENANT,
    clientId: CLIENT,
    clientSecret: 'unused',
    tokenAcquisition: { refreshMarginSeconds: 60, refreshAheadSeconds: 0 },
    distributedCache: { redis: redis.url, keyPrefix: prefix, operationTimeoutMs: 200, failureThreshold: 2, openSeconds: 1, ...cache },
  });
  const store = new RedisTokenCacheStore(options.distributedCache!);
  await store.start();
  stores.push(store);
  return { cache: new TokenCache(options, store), store };
}

function user(oid: string, scopes = ['api://downstream/Read']): { key: string; owner: string; token: CachedToken } {
  const assertion = `eyJ.${oid}.sig`;
  return {
    key: tokenCacheKey({ kind: 'user', assertion, tenantId: TENANT, scopes }),
    owner: tokenOwner(TENANT, oid),
    // About the size of a real Entra ID access token (1.5 to 2.5 KB).
    token: { accessToken: `obo-token-for-${oid}-${randomBytes(1_350).toString('base64url')}`, expiresOn: Date.now() + 3_600_000, scopes },
  };
}

describe('Redis second level', () => {
  it('serves instance B from the token instance A stored: one provider request for two instances', async () => {
    const keys = [newKey()];
    const a = await instance({ encryptionKeys: keys });
    const b = await instance({ encryptionKeys: keys });
    const alice = user('alice');
    let provider = 0;
    const acquire = async () => (provider++, alice.token);
    expect((await a.cache.getOrAcquire(alice.key, acquire, false, alice.owner)).fromCache).toBe(false);
    const fromB = await b.cache.getOrAcquire(alice.key, acquire, false, alice.owner);
    expect(fromB.token.accessToken).toBe(alice.token.accessToken);
    expect(provider).toBe(1);
  });

  it('stores only a prefix and hashes as keys, and no token text in any value', async () => {
    const keys = [newKey()];
    const { cache } = await instance({ encryptionKeys: keys }, 'plain-check:');
    const bob = user('bob');
    await cache.getOrAcquire(bob.key, async () => bob.token, false, bob.owner);
    const stored = await raw.keys('plain-check:*');
    expect(stored.sort()).toEqual([`plain-check:t:{${bob.owner}}:${bob.key}`, `plain-check:u:{${bob.owner}}`].sort());
    const value = await raw.getBuffer(`plain-check:t:{${bob.owner}}:${bob.key}`);
    expect(value!.toString('latin1')).not.toContain(bob.token.accessToken.slice(0, 40));
    expect(value!.toString('latin1')).not.toContain('bob');
    const ttl = await raw.pttl(`plain-check:t:{${bob.owner}}:${bob.key}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(bob.token.expiresOn - Date.now() - 60_000 + 50); // remaining life minus the margin (50 ms of rounding)
  });

  describe('tampering: every altered value is a miss, deleted, never served', () => {
    const keys = [newKey()];
    let cache: TokenCache;
    beforeAll(async () => {
      ({ cache } = await instance({ encryptionKeys: keys }, 'tamper:'));
    });

    async function prime(oid: string) {
      const u = user(oid);
      await cache.getOrAcquire(u.key, async () => u.token, false, u.owner);
      return { ...u, redisKey: `tamper:t:{${u.owner}}:${u.key}` };
    }

    /** A fresh instance (empty memory) that must go to Redis, then to the provider. */
    async function readThroughFreshInstance(key: string, owner: string) {
      const fresh = await instance({ encryptionKeys: keys }, 'tamper:');
      const replacement: CachedToken = { accessToken: 'fresh-from-provider', expiresOn: Date.now() + 3_600_000, scopes: ['api://downstream/Read'] };
      return fresh.cache.getOrAcquire(key, async () => replacement, false, owner);
    }

    it.each<[string, (value: Buffer, other: Buffer) => Buffer]>([
      ["user B's value copied under user A's key", (_value, other) => other],
      ['a flipped ciphertext byte (a swapped token or an extended expiry)', (value) => Buffer.concat([value.subarray(0, -3), Buffer.from([value[value.length - 3]! ^ 1]), value.subarray(-2)])],
      ['a truncated value', (value) => value.subarray(0, value.length - 10)],
      ['garbage', () => Buffer.from('{"a":"attacker-token","e":9999999999999,"s":[]}')],
      ['an unknown key id', (value) => Buffer.concat([value.subarray(0, 1), Buffer.from([0, 0, 0, 0]), value.subarray(5)])],
    ])('%s', async (_case, tamper) => {
      const a = await prime(`a-${randomBytes(4).toString('hex')}`);
      const b = await prime(`b-${randomBytes(4).toString('hex')}`);
      const valueA = (await raw.getBuffer(a.redisKey))!;
      const valueB = (await raw.getBuffer(b.redisKey))!;
      await raw.set(a.redisKey, tamper(valueA, valueB), 'PX', 60_000);
      const result = await readThroughFreshInstance(a.key, a.owner);
      expect(result.token.accessToken).toBe('fresh-from-provider');
      expect(result.token.accessToken).not.toBe(b.token.accessToken);
      // The tampered value was deleted, then replaced by the provider's token.
      const now = (await raw.getBuffer(a.redisKey))!;
      expect(now.equals(tamper(valueA, valueB))).toBe(false);
    });

    it('never lets a longer Redis TTL outlive the token: the expiry inside the sealed value wins', async () => {
      const u = user(`ttl-${randomBytes(4).toString('hex')}`);
      const shortLived = { ...u.token, expiresOn: Date.now() + 61_500 }; // 1.5 s beyond the 60 s margin
      await cache.getOrAcquire(u.key, async () => shortLived, false, u.owner);
      await raw.pexpire(`tamper:t:{${u.owner}}:${u.key}`, 3_600_000); // an attacker extends the Redis TTL
      await sleep(1_700);
      const result = await readThroughFreshInstance(u.key, u.owner);
      expect(result.token.accessToken).toBe('fresh-from-provider');
    });
  });

  it('rotates keys without a flush: values sealed with the old key still open; new writes use the new key', async () => {
    const oldKey = newKey();
    const newer = newKey();
    const before = await instance({ encryptionKeys: [oldKey] }, 'rotate:');
    const carol = user('carol');
    await before.cache.getOrAcquire(carol.key, async () => carol.token, false, carol.owner);
    const after = await instance({ encryptionKeys: [newer, oldKey] }, 'rotate:');
    let provider = 0;
    expect((await after.cache.getOrAcquire(carol.key, async () => (provider++, carol.token), false, carol.owner)).token.accessToken).toBe(carol.token.accessToken);
    expect(provider).toBe(0);
    const dave = user('dave');
    await after.cache.getOrAcquire(dave.key, async () => dave.token, false, dave.owner);
    const onlyOld = await instance({ encryptionKeys: [oldKey] }, 'rotate:');
    const read = await onlyOld.cache.getOrAcquire(dave.key, async () => ({ ...dave.token, accessToken: 'provider' }), false, dave.owner);
    expect(read.token.accessToken).toBe('provider'); // the old key alone cannot open what the new key sealed
  });

  it('purges one user everywhere: Redis, this instance and (through pub/sub) the other instance', async () => {
    const keys = [newKey()];
    const a = await instance({ encryptionKeys: keys }, 'purge:');
    const b = await instance({ encryptionKeys: keys }, 'purge:');
    const erin = user('erin');
    const erinOther = user('erin', ['api://other/Write']);
    const frank = user('frank');
    for (const u of [erin, erinOther, frank]) {
      await a.cache.getOrAcquire(u.key, async () => u.token, false, u.owner);
      await b.cache.getOrAcquire(u.key, async () => u.token, false, u.owner);
    }
    await a.cache.removeOwner(erin.owner);
    await sleep(100); // pub/sub delivery to instance B
    expect(await raw.exists(`purge:t:{${erin.owner}}:${erin.key}`, `purge:t:{${erin.owner}}:${erinOther.key}`, `purge:u:{${erin.owner}}`)).toBe(0);
    let provider = 0;
    const acquire = (u: ReturnType<typeof user>) => async () => (provider++, u.token);
    expect((await b.cache.getOrAcquire(erin.key, acquire(erin), false, erin.owner)).fromCache).toBe(false);
    expect((await a.cache.getOrAcquire(erinOther.key, acquire(erinOther), false, erinOther.owner)).fromCache).toBe(false);
    expect((await b.cache.getOrAcquire(frank.key, acquire(frank), false, frank.owner)).fromCache).toBe(true);
    expect(provider).toBe(2);
  });

  it('makes one provider request for 40 concurrent first calls spread over 4 instances (cross-instance lock)', async () => {
    const keys = [newKey()];
    // This proves the lock on a healthy Redis: a generous operation timeout, so a busy CI machine
    // never trips the breaker (which answers "unavailable" and lets each instance ask the provider).
    const instances = await Promise.all([1, 2, 3, 4].map(() => instance({ encryptionKeys: keys, operationTimeoutMs: 2_000 }, 'lock:')));
    const gina = user('gina');
    let provider = 0;
    const acquire = async () => {
      provider++;
      await sleep(150); // the provider takes a while; everyone else arrives meanwhile
      return gina.token;
    };
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => instances[i % 4]!.cache.getOrAcquire(gina.key, acquire, false, gina.owner)));
    expect(provider).toBe(1);
    expect(new Set(results.map((r) => r.token.accessToken))).toEqual(new Set([gina.token.accessToken]));
  });

  it('does not let a lock holder that died block others beyond the lock TTL', async () => {
    const keys = [newKey()];
    const { cache } = await instance({ encryptionKeys: keys, lockTtlMs: 400 }, 'deadlock:');
    const hal = user('hal');
    await raw.set(`deadlock:l:{${hal.owner}}:${hal.key}`, 'crashed-holder', 'PX', 400); // a holder that never writes or releases
    const result = await cache.getOrAcquire(hal.key, async () => hal.token, false, hal.owner);
    expect(result.token.accessToken).toBe(hal.token.accessToken);
  });

  it('keeps answering while Redis is killed (memory and provider), then uses Redis again when it is back', async () => {
    const keys = [newKey()];
    const { cache } = await instance({ encryptionKeys: keys }, 'outage:');
    let provider = 0;
    const users = Array.from({ length: 20 }, (_, i) => user(`outage-${i}`));
    for (const u of users.slice(0, 10)) await cache.getOrAcquire(u.key, async () => (provider++, u.token), false, u.owner);
    await redis.kill();
    const during = await Promise.allSettled(users.map((u) => cache.getOrAcquire(u.key, async () => (provider++, u.token), false, u.owner)));
    expect(during.filter((r) => r.status === 'rejected')).toHaveLength(0);
    expect(provider).toBe(20); // the first 10 from memory, the other 10 from the provider
    await redis.restart();
    await sleep(2_500); // reconnect (ioredis backs off up to 2 s) and the circuit's open period (1 s)
    const ivan = user('ivan');
    const other = await instance({ encryptionKeys: keys }, 'outage:');
    await cache.getOrAcquire(ivan.key, async () => ivan.token, false, ivan.owner); // may be the probe that closes the circuit
    await cache.getOrAcquire(ivan.key, async () => ivan.token, true, ivan.owner); // written to Redis again
    let fromOther = 0;
    const read = await other.cache.getOrAcquire(ivan.key, async () => (fromOther++, ivan.token), false, ivan.owner);
    expect(read.token.accessToken).toBe(ivan.token.accessToken);
    expect(fromOther).toBe(0);
  }, 20_000);

  it('keeps answering while Redis hangs: each call waits at most the command timeout until the circuit opens, then not at all', async () => {
    const keys = [newKey()];
    const { cache } = await instance({ encryptionKeys: keys }, 'hung:');
    const users = Array.from({ length: 10 }, (_, i) => user(`hung-${i}`));
    redis.pause();
    try {
      let provider = 0;
      const results = await Promise.allSettled(users.map((u) => cache.getOrAcquire(u.key, async () => (provider++, u.token), false, u.owner)));
      expect(results.filter((r) => r.status === 'rejected')).toHaveLength(0);
      expect(provider).toBe(10);
    } finally {
      redis.resume();
    }
  }, 15_000);

  it('costs a bounded number of bytes per cached token in Redis', async () => {
    const keys = [newKey()];
    const { cache } = await instance({ encryptionKeys: keys }, 'memory:');
    const samples: number[] = [];
    for (let i = 0; i < 20; i++) {
      const u = user(`memory-${i}`);
      await cache.getOrAcquire(u.key, async () => u.token, false, u.owner);
      const tokenBytes = (await raw.call('MEMORY', 'USAGE', `memory:t:{${u.owner}}:${u.key}`)) as number;
      const indexBytes = (await raw.call('MEMORY', 'USAGE', `memory:u:{${u.owner}}`)) as number;
      samples.push(tokenBytes + indexBytes);
    }
    const tokenLength = user('x').token.accessToken.length;
    const perToken = Math.max(...samples);
    process.stdout.write(`Redis bytes per cached token (value + per-user index, ${tokenLength}-char token): ${perToken}\n`);
    expect(perToken).toBeLessThan(tokenLength + 1_024);
  });
});
