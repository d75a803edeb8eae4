// The shared token cache and the web app's store on a real Redis Cluster: three masters and three
// replicas of redis-server on loopback (test/support/redis-cluster.ts), two Original API instances
// (OboModule.forRoot, distributedCache.redis = an ioredis Cluster each) in front of the local
// authority and the sample Downstream API, over real HTTP on 127.0.0.1. A user's tokens, index and
// locks share one hash slot; purge, single flight and tamper detection work across the cluster; a
// master killed under load costs the clients nothing.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster } from 'ioredis';
import { TokenCacheKeys } from '../libs/obo/src/outbound/token-cache/redis/token-cache-keys.js';
import { clusterClient, startClusterApis, type ClusterApis } from './support/cluster-apis.js';
import { failMasterUnderLoad } from './support/failover-load.js';
import { HttpBrowser, type Hop } from './support/http-browser.js';
import { startRedisCluster, type RedisCluster } from './support/redis-cluster.js';
import { throughAuthority } from './support/sign-in-steps.js';
import { startWebAppChain } from './support/web-app-chain.js';

const PREFIX = 'obo-cluster:';
const keys = new TokenCacheKeys(PREFIX);

let cluster: RedisCluster;
let apis: ClusterApis;
let raw: Cluster;
const clients: Cluster[] = [];

beforeAll(async () => {
  cluster = await startRedisCluster();
  // A generous operation timeout: a busy CI machine must not trip the breaker on a healthy cluster;
  // a short open period, so the cluster is used again soon after a failover.
  apis = await startClusterApis(cluster, 2, { keyPrefix: PREFIX, operationTimeoutMs: 1_000, openSeconds: 2 });
  raw = clusterClient(cluster);
}, 90_000);

afterAll(async () => {
  await apis?.close();
  for (const client of [...clients, raw]) client?.disconnect();
  await cluster?.stop();
}, 30_000);

const [a, b] = [() => apis.instances[0]!, () => apis.instances[1]!];
const call = (...args: Parameters<ClusterApis['call']>) => apis.call(...args);
const newUser = () => apis.newUser();
const obo = () => apis.authority.tokenRequests.onBehalfOf;

describe('#145 a user\'s cache entries share one Redis Cluster slot', () => {
  it("stores a user's two tokens and their index under one hash tag, in the slot of that tag, on the master serving it (and its replica) only", async () => {
    const user = newUser();
    expect((await call(a(), user.token, '/api/two-tokens')).status).toBe(200);
    const slot = await cluster.keySlot(`{${user.owner}}`);
    const master = await cluster.masterOf(slot);
    const stored = await cluster.keysOn(master, `${PREFIX}*${user.owner}*`);
    expect(stored).toHaveLength(3);
    expect(stored).toContain(keys.index(user.owner));
    expect(stored.filter((key) => key.startsWith(`${PREFIX}t:{${user.owner}}:`))).toHaveLength(2);
    for (const key of stored) {
      expect(await cluster.keySlot(key)).toBe(slot);
      expect(key).not.toContain(user.oid);
    }
    const replicas = await cluster.replicasOf(master);
    expect(replicas).toHaveLength(1);
    for (const node of cluster.nodes) {
      if (node.port === master) continue;
      const there = await cluster.keysOn(node.port, `${PREFIX}*${user.owner}*`);
      // Replication is asynchronous: the replica may be a moment behind its master.
      expect(there.length === 0 || (replicas.includes(node.port) && there.every((key) => stored.includes(key)))).toBe(true);
    }
  });

  it('holds the single-flight lock in the same slot while the provider answers', async () => {
    const user = newUser();
    const master = await cluster.masterOf(await cluster.keySlot(keys.index(user.owner)));
    const slow = apis.authority.injectTokenFault({ kind: 'delay', ms: 1_500 }, { oid: user.oid });
    try {
      const pending = call(a(), user.token);
      let locks: string[] = [];
      for (const deadline = Date.now() + 1_400; locks.length === 0 && Date.now() < deadline; await sleep(50)) {
        locks = await cluster.keysOn(master, `${PREFIX}l:{${user.owner}}:*`);
      }
      expect(locks).toHaveLength(1);
      expect((await pending).status).toBe(200);
    } finally {
      slow.remove();
    }
    expect(await cluster.keysOn(master, `${PREFIX}l:{${user.owner}}:*`)).toEqual([]); // released
  });
});

describe('#146 purge, single flight and tamper detection across the cluster', () => {
  it("purges a user from the cluster and from both instances' memory, and leaves other users alone", async () => {
    const [erin, frank] = [newUser(), newUser()];
    for (const user of [erin, frank]) for (const instance of [a(), b()]) expect((await call(instance, user.token, '/api/two-tokens')).status).toBe(200);
    const master = await cluster.masterOf(await cluster.keySlot(keys.index(erin.owner)));
    expect(await cluster.keysOn(master, `${PREFIX}*${erin.owner}*`)).toHaveLength(3);
    // Listen for the purge as instance B does, to know when it has been announced.
    const listener = raw.duplicate();
    listener.on('error', () => undefined);
    try {
      await listener.subscribe(keys.channel);
      const announced = new Promise<string>((resolve) => listener.once('message', (_channel: string, owner: string) => resolve(owner)));
      expect((await call(a(), erin.token, '/api/sign-out', 'POST')).status).toBe(204);
      expect(await Promise.race([announced, sleep(5_000).then(() => 'not announced within 5 s')])).toBe(erin.owner);
    } finally {
      listener.disconnect();
    }
    await sleep(100); // delivery to instance B's own subscriber
    expect(await cluster.keysOn(master, `${PREFIX}*${erin.owner}*`)).toEqual([]);
    const before = obo();
    expect((await call(b(), erin.token, '/api/two-tokens')).status).toBe(200);
    expect(obo() - before).toBe(2); // both of erin's tokens are gone from B's memory too
    expect((await call(b(), frank.token, '/api/two-tokens')).status).toBe(200);
    expect(obo() - before).toBe(2); // frank's are still there
  });

  it('makes one provider request for 40 concurrent first calls of one user spread over both instances', async () => {
    const user = newUser();
    const slow = apis.authority.injectTokenFault({ kind: 'delay', ms: 300 }, { oid: user.oid });
    const before = obo();
    try {
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => call(i % 2 ? b() : a(), user.token)));
      expect(results.map((r) => r.status)).toEqual(Array(40).fill(200));
      expect(results.every((r) => r.objectId === user.oid)).toBe(true);
    } finally {
      slow.remove();
    }
    expect(obo() - before).toBe(1);
  });

  it('reads a tampered value on the cluster as a miss, deletes it and stores the provider\'s token instead', async () => {
    const user = newUser();
    expect((await call(a(), user.token)).status).toBe(200);
    const master = await cluster.masterOf(await cluster.keySlot(keys.index(user.owner)));
    const [tokenKey] = await cluster.keysOn(master, `${PREFIX}t:{${user.owner}}:*`);
    const sealed = (await raw.getBuffer(tokenKey!))!;
    const tampered = Buffer.from(sealed);
    tampered[tampered.length - 1]! ^= 1;
    await raw.set(tokenKey!, tampered, 'PX', 60_000);
    const before = obo();
    const answer = await call(b(), user.token); // B has never seen this user: it must go to Redis
    expect(answer).toEqual({ status: 200, objectId: user.oid });
    expect(obo() - before).toBe(1);
    const now = await raw.getBuffer(tokenKey!);
    expect(now).not.toBeNull();
    expect(now!.equals(tampered)).toBe(false);
    expect(now!.equals(sealed)).toBe(false);
  });
});

describe('#147 the web app on the cluster', () => {
  it('signs a user in and serves pages with sessions and token partitions sealed across the cluster', async () => {
    const client = clusterClient(cluster);
    clients.push(client);
    const web = await startWebAppChain({ session: { store: { redis: client, encryptionKeys: [randomBytes(32).toString('base64')], keyPrefix: 'web-cluster:' } } });
    try {
      const browser = new HttpBrowser();
      const first = await browser.navigate(`${web.url}/profile`);
      const { hops } = await throughAuthority(browser, first, new URL(web.chain.authority.instance).origin, { username: 'megan@contoso.test', password: 'Passw0rd!' });
      const last = (list: Hop[]) => list[list.length - 1]!;
      expect(last(hops).status).toBe(200);
      const before = web.chain.authority.tokenRequestLog.length;
      expect((await browser.request(`${web.url}/profile`)).status).toBe(200);
      expect(web.chain.authority.tokenRequestLog.length).toBe(before); // from the user's partition in the cluster

      const masters = await Promise.all([0, 8_000, 16_000].map((slot) => cluster.masterOf(slot)));
      const stored = (await Promise.all([...new Set(masters)].map((port) => cluster.keysOn(port, 'web-cluster:*')))).flat();
      expect(stored.some((key) => key.startsWith('web-cluster:session:'))).toBe(true);
      expect(stored.some((key) => key.startsWith('web-cluster:tokens:'))).toBe(true);
      const values = await Promise.all(stored.map(async (key) => ((await raw.type(key)) === 'string' ? ((await raw.getBuffer(key)) ?? Buffer.alloc(0)).toString('latin1') : (await raw.smembers(key)).join(' '))));
      const dump = [...stored, ...values].join('\n');
      const megan = web.chain.authority.user('megan@contoso.test')!;
      for (const secret of [browser.cookie(web.url, 'obo-session')!, megan.oid, 'megan@contoso.test', 'refresh_token', 'eyJ']) expect(dump).not.toContain(secret);
    } finally {
      await web.close();
    }
  }, 30_000);
});

describe('#148 a master fails under load', () => {
  it('answers every request while a master is killed and its replica promoted (zero client errors), then uses the cluster and its purge channel again', async () => {
    const run = await failMasterUnderLoad(cluster, apis, { workers: 8, usersBefore: 60, usersAfter: 150, maxUsers: 2_000, maxMs: 45_000 });
    process.stdout.write(`Redis Cluster failover under load: ${JSON.stringify(run)}\n`);
    expect(run.errorSamples).toEqual([]);
    expect(run.clientErrors).toBe(0);
    expect(run.stoppedByTime).toBe(false); // the load ran past the promotion and stopped by itself
    expect(run.during.users).toBeGreaterThan(0);
    expect(run.promoted).not.toBe(run.victim);

    // Back to one provider request per user across both instances, once the breaker closes (2 s).
    const deadline = Date.now() + 20_000;
    let resumed = false;
    while (!resumed && Date.now() < deadline) {
      const user = newUser();
      const before = obo();
      expect((await call(a(), user.token)).status).toBe(200);
      expect((await call(b(), user.token)).status).toBe(200);
      resumed = obo() - before === 1;
      if (!resumed) await sleep(500);
    }
    expect(resumed).toBe(true);

    // Purges still reach the other instance: each instance's subscriber moved off a dead node if it was on one.
    const user = newUser();
    for (const instance of [a(), b()]) expect((await call(instance, user.token)).status).toBe(200);
    expect((await call(a(), user.token, '/api/sign-out', 'POST')).status).toBe(204);
    let purged = false;
    for (const purgeDeadline = Date.now() + 5_000; !purged && Date.now() < purgeDeadline; ) {
      await sleep(200);
      const before = obo();
      expect((await call(b(), user.token)).status).toBe(200);
      purged = obo() - before === 1;
    }
    expect(purged).toBe(true);
  }, 90_000);
});
