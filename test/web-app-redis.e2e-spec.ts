// The web app with its sessions and token partitions in a real Redis (redis-server on loopback),
// wired through OboWebAppModule's options: a user signs in, pages are served from the user's
// partition, and nothing in Redis is readable: no user name, no token, no session id.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { HttpBrowser, type Hop } from './support/http-browser.js';
import { startRedis, type RedisProcess } from './support/redis-server.js';
import { throughAuthority } from './support/sign-in-steps.js';
import { startWebAppChain, type WebAppChain } from './support/web-app-chain.js';

let redis: RedisProcess;
let web: WebAppChain;

beforeAll(async () => {
  redis = await startRedis();
  web = await startWebAppChain({ session: { store: { redis: redis.url, encryptionKeys: [randomBytes(32).toString('base64')] } } });
}, 30_000);
afterAll(async () => {
  await web?.close();
  await redis?.stop();
});

const last = (hops: Hop[]) => hops[hops.length - 1]!;

describe('#124 #127 sessions and token partitions in Redis', () => {
  it('signs a user in and serves their pages with sessions and tokens sealed in Redis', async () => {
    const browser = new HttpBrowser();
    const first = await browser.navigate(`${web.url}/profile`);
    const { hops } = await throughAuthority(browser, first, new URL(web.chain.authority.instance).origin, { username: 'megan@contoso.test', password: 'Passw0rd!' });
    expect(last(hops).status).toBe(200);
    expect(last(hops).body).toContain('The same user at all three hops.');
    const before = web.chain.authority.tokenRequestLog.length;
    expect((await browser.request(`${web.url}/profile`)).status).toBe(200);
    expect(web.chain.authority.tokenRequestLog.length).toBe(before); // from the user's partition in Redis

    const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await client.connect();
    try {
      const keys = await client.keys('*');
      expect(keys.some((key) => key.includes('session:'))).toBe(true);
      expect(keys.some((key) => key.includes('tokens:'))).toBe(true);
      const cookie = browser.cookie(web.url, 'obo-session')!;
      const megan = web.chain.authority.user('megan@contoso.test')!;
      const values: string[] = [];
      for (const key of keys) {
        if ((await client.type(key)) === 'string') values.push(((await client.getBuffer(key)) ?? Buffer.alloc(0)).toString('latin1'));
        else values.push((await client.smembers(key)).join(' '));
      }
      const dump = [...keys, ...values].join('\n');
      for (const secret of [cookie, megan.oid, 'megan@contoso.test', 'Megan Bowen', 'refresh_token', 'secret', 'eyJ']) expect(dump).not.toContain(secret);
    } finally {
      client.disconnect();
    }
  });
});
