import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import { OboError } from '../libs/obo/src/errors/obo.error.js';
import { RedisWebAppStore } from '../libs/obo/src/web-app/session/redis-web-app-store.js';
import { resolveSessionOptions, type ResolvedSessionOptions } from '../libs/obo/src/web-app/session/resolve-session-options.js';
import { SessionService } from '../libs/obo/src/web-app/session/session.service.js';
import type { SessionOptions } from '../libs/obo/src/web-app/session/session-options.interface.js';
import { SessionStoreUnavailableError } from '../libs/obo/src/web-app/session/session-store-unavailable.error.js';
import type { SignedInAccount } from '../libs/obo/src/web-app/sign-in/sign-in-client.js';
import { CapturingLogger } from './support/capturing-logger.js';
import { startRedis, type RedisProcess } from './support/redis-server.js';
import { sleep } from './support/clock.js';

const ISSUER = 'https://login.example.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0';
const newKey = () => randomBytes(32).toString('base64');
const sha = (text: string) => createHash('sha256').update(text).digest('base64url');

function account(user: string, sid?: string): SignedInAccount {
  return { accountKey: `${user}-oid.tid`, issuer: ISSUER, subject: `${user}-sub`, sessionId: sid, name: `${user} Example`, username: `${user}@example.com` };
}

/**
 * A web app on 127.0.0.1 (plain node:http) over one SessionService:
 * POST /start (anonymous session), POST /sign-in?user=&sid= (rotate), GET /me, POST /action and
 * POST /sign-out (CSRF token in `x-csrf-token`). A store failure answers 503 with the error code.
 */
interface WebApp {
  readonly url: string;
  readonly sessions: SessionService;
  readonly store: RedisWebAppStore;
  readonly options: ResolvedSessionOptions;
  /** Moves the app's clock (ms). */
  advance(ms: number): void;
  close(): Promise<void>;
}

async function startWebApp(redis: string | Redis, session: Omit<SessionOptions, 'store'> = {}, keyPrefix = 'e2e-web:', redirectUri = 'http://127.0.0.1/signin-oidc'): Promise<WebApp> {
  let now = Date.now();
  const options = resolveSessionOptions({ ...session, store: { redis, encryptionKeys: [newKey()], keyPrefix, operationTimeoutMs: 300 } }, new URL(redirectUri));
  const store = new RedisWebAppStore(options.store as Exclude<ResolvedSessionOptions['store'], 'memory'>);
  await store.start();
  const sessions = new SessionService(options, store, () => now);
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<unknown> => {
    const url = new URL(req.url!, 'http://127.0.0.1');
    if (url.pathname === '/start') {
      const started = await sessions.start(res);
      return { csrf: started.csrfToken };
    }
    const current = await sessions.load(req);
    if (!current) return (res.statusCode = 401), { signedIn: false };
    switch (url.pathname) {
      case '/sign-in':
        current.account = account(url.searchParams.get('user')!, url.searchParams.get('sid') ?? undefined);
        await sessions.rotate(current, res);
        return { csrf: current.csrfToken };
      case '/me':
        return { signedIn: !!current.account, name: current.account?.name };
      case '/action':
      case '/sign-out':
        if (!sessions.verifyCsrf(req, current, req.headers['x-csrf-token'] as string | undefined)) return (res.statusCode = 403), { error: 'csrf' };
        if (url.pathname === '/sign-out') await sessions.destroy(current, res);
        return { done: true };
      default:
        return (res.statusCode = 404), {};
    }
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).then(
      (body) => res.end(JSON.stringify(body)),
      (error: unknown) => {
        res.statusCode = error instanceof OboError && error.code === 'ERR_OBO_SESSION_STORE_UNAVAILABLE' ? 503 : 500;
        res.end(JSON.stringify({ code: (error as OboError).code }));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sessions,
    store,
    options,
    advance: (ms) => void (now += ms),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.stop();
    },
  };
}

interface Answer {
  status: number;
  setCookies: string[];
  body: Record<string, unknown>;
}

/** One request with node:http: exactly the headers given (no Origin unless given), Set-Cookie kept apart. */
function call(app: WebApp, method: string, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${app.url}${path}`, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, setCookies: res.headers['set-cookie'] ?? [], body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The `name=value` of the session cookie in an answer: what a browser sends back. */
function cookieOf(answer: Answer, name = 'obo-session'): string {
  const cookie = answer.setCookies.find((c) => c.startsWith(`${name}=`));
  if (!cookie) throw new Error(`no ${name} cookie in ${JSON.stringify(answer.setCookies)}`);
  return cookie.split(';')[0]!;
}

/** A browser that signed in as `user`: its cookie and CSRF token. */
async function signIn(app: WebApp, user: string, sid?: string): Promise<{ cookie: string; csrf: string }> {
  const started = await call(app, 'POST', '/start');
  const signedIn = await call(app, 'POST', `/sign-in?user=${user}${sid ? `&sid=${sid}` : ''}`, { cookie: cookieOf(started) });
  expect(signedIn.status).toBe(200);
  return { cookie: cookieOf(signedIn), csrf: signedIn.body.csrf as string };
}

const storeKeyOf = (cookie: string) => `session:${sha(cookie.split('=')[1]!)}`;

let redis: RedisProcess;
let raw: Redis;
let app: WebApp;
const logs = new CapturingLogger();

beforeAll(async () => {
  Logger.overrideLogger(logs);
  redis = await startRedis();
  raw = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  app = await startWebApp(redis.url);
});
afterAll(async () => {
  await app?.close();
  raw?.disconnect();
  await redis?.stop();
});

describe('web app sessions over HTTP with a Redis store', () => {
  describe('the session cookie', () => {
    it('is HttpOnly, SameSite=Lax, Path=/, no Domain, lives for the absolute timeout, and is not Secure on http', async () => {
      const answer = await call(app, 'POST', '/start');
      expect(answer.setCookies).toHaveLength(1);
      const [pair, ...attributes] = answer.setCookies[0]!.split('; ');
      expect(pair).toMatch(/^obo-session=[A-Za-z0-9_-]{43}$/);
      expect(attributes.sort()).toEqual(['HttpOnly', 'Max-Age=28800', 'Path=/', 'SameSite=Lax']);
    });

    it('is __Host-obo-session and Secure when the redirect URI is https', async () => {
      const https = await startWebApp(redis.url, {}, 'e2e-https:', 'https://app.example.com/signin-oidc');
      try {
        const answer = await call(https, 'POST', '/start');
        expect(answer.setCookies[0]!.split('; ').sort()).toEqual([expect.stringMatching(/^__Host-obo-session=/), 'HttpOnly', 'Max-Age=28800', 'Path=/', 'SameSite=Lax', 'Secure'].sort());
      } finally {
        await https.close();
      }
    });

    it('is cleared with Max-Age=0 at sign-out, and the session is gone', async () => {
      const alice = await signIn(app, 'alice');
      const out = await call(app, 'POST', '/sign-out', { cookie: alice.cookie, 'x-csrf-token': alice.csrf });
      expect(out.status).toBe(200);
      expect(out.setCookies).toEqual([expect.stringMatching(/^obo-session=; Max-Age=0; Path=\/; HttpOnly; SameSite=Lax$/)]);
      expect((await call(app, 'GET', '/me', { cookie: alice.cookie })).status).toBe(401);
      expect(await raw.exists(`e2e-web:${storeKeyOf(alice.cookie)}`)).toBe(0);
    });
  });

  describe('a tampered or expired session cookie finds no session', () => {
    it.each<[string, (cookie: string) => string]>([
      ['a changed character', (c) => c.slice(0, -1) + (c.endsWith('A') ? 'B' : 'A')],
      ['a character appended', (c) => `${c}A`],
      ['a truncated id', (c) => c.slice(0, -1)],
      ['a made-up id of the right shape', () => `obo-session=${randomBytes(32).toString('base64url')}`],
      ['the store key instead of the id', (c) => `obo-session=${sha(c.split('=')[1]!)}`],
      ['a second cookie of that name', (c) => `${c}; obo-session=${randomBytes(32).toString('base64url')}`],
    ])('%s', async (_case, tamper) => {
      const alice = await signIn(app, 'alice');
      expect((await call(app, 'GET', '/me', { cookie: alice.cookie })).body).toEqual({ signedIn: true, name: 'alice Example' });
      const answer = await call(app, 'GET', '/me', { cookie: tamper(alice.cookie) });
      expect(answer.status).toBe(401);
    });

    it('ends a session idle for 30 minutes and deletes its record in Redis', async () => {
      const alice = await signIn(app, 'alice');
      app.advance(1_800_000 - 1_000);
      expect((await call(app, 'GET', '/me', { cookie: alice.cookie })).status).toBe(200);
      app.advance(1_800_000);
      expect((await call(app, 'GET', '/me', { cookie: alice.cookie })).status).toBe(401);
      expect(await raw.exists(`e2e-web:${storeKeyOf(alice.cookie)}`)).toBe(0);
    });

    it('ends a session 8 hours after sign-in however active', async () => {
      const alice = await signIn(app, 'alice');
      for (let minutes = 20; minutes < 480; minutes += 20) {
        app.advance(20 * 60_000);
        expect((await call(app, 'GET', '/me', { cookie: alice.cookie })).status).toBe(200);
      }
      app.advance(20 * 60_000);
      expect((await call(app, 'GET', '/me', { cookie: alice.cookie })).status).toBe(401);
    });
  });

  it('refuses a session fixation: the cookie from before sign-in (one an attacker planted) is worth nothing after it', async () => {
    const planted = cookieOf(await call(app, 'POST', '/start'));
    const signedIn = await call(app, 'POST', '/sign-in?user=alice', { cookie: planted });
    expect(cookieOf(signedIn)).not.toBe(planted);
    expect((await call(app, 'GET', '/me', { cookie: planted })).status).toBe(401);
    expect((await call(app, 'GET', '/me', { cookie: cookieOf(signedIn) })).body).toEqual({ signedIn: true, name: 'alice Example' });
    expect(await raw.exists(`e2e-web:${storeKeyOf(planted)}`)).toBe(0);
  });

  describe('ending every session of a user (back-channel logout)', () => {
    it("ends alice's two browsers and not bob's", async () => {
      const laptop = await signIn(app, 'carol');
      const phone = await signIn(app, 'carol');
      const bob = await signIn(app, 'bob');
      expect(await app.sessions.destroyForUser('carol-oid.tid')).toBe(2);
      expect((await call(app, 'GET', '/me', { cookie: laptop.cookie })).status).toBe(401);
      expect((await call(app, 'GET', '/me', { cookie: phone.cookie })).status).toBe(401);
      expect((await call(app, 'GET', '/me', { cookie: bob.cookie })).status).toBe(200);
      expect(await raw.exists(`e2e-web:user:${sha('carol-oid.tid')}`)).toBe(0);
    });

    it('ends the session of one authority sid, and keeps the index as a Redis set with an expiry', async () => {
      const laptop = await signIn(app, 'dave', 'sid-laptop');
      const phone = await signIn(app, 'dave', 'sid-phone');
      const index = `e2e-web:user:${sha('dave-oid.tid')}`;
      expect(await raw.type(index)).toBe('set');
      expect(await raw.scard(index)).toBe(2);
      expect(await raw.ttl(index)).toBeGreaterThan(28_000);
      expect(await app.sessions.destroyForSessionId(ISSUER, 'sid-laptop')).toBe(1);
      expect((await call(app, 'GET', '/me', { cookie: laptop.cookie })).status).toBe(401);
      expect((await call(app, 'GET', '/me', { cookie: phone.cookie })).status).toBe(200);
    });
  });

  describe('CSRF on state-changing requests', () => {
    it.each<[string, number, (own: string, other: string) => Record<string, string>]>([
      ['its own token from the app origin', 200, (own) => ({ 'x-csrf-token': own, origin: 'http://127.0.0.1', 'sec-fetch-site': 'same-origin' })],
      ['no token', 403, () => ({})],
      ["another session's token", 403, (_own, other) => ({ 'x-csrf-token': other })],
      ['its own token from another origin', 403, (own) => ({ 'x-csrf-token': own, origin: 'https://evil.example' })],
      ['its own token on a cross-site request', 403, (own) => ({ 'x-csrf-token': own, 'sec-fetch-site': 'cross-site' })],
    ])('answers a request with %s %i', async (_case, status, headers) => {
      const alice = await signIn(app, 'alice');
      const mallory = await signIn(app, 'mallory');
      expect((await call(app, 'POST', '/action', { cookie: alice.cookie, ...headers(alice.csrf, mallory.csrf) })).status).toBe(status);
    });
  });

  describe('values in Redis', () => {
    it('are sealed: no account name, username, id token, CSRF token or cookie in any key or value (redis-cli --scan and GET)', async () => {
      const erin = await signIn(app, 'erin', 'erin-sid');
      const cli = (...args: string[]) => spawnSync('redis-cli', ['-p', String(redis.port), ...args], { encoding: 'utf8' }).stdout;
      const keys = cli('--scan', '--pattern', 'e2e-web:*').split('\n').filter(Boolean);
      expect(keys).toContain(`e2e-web:${storeKeyOf(erin.cookie)}`);
      const dump = keys.map((key) => `${key}\n${cli('TYPE', key).trim() === 'set' ? cli('SMEMBERS', key) : cli('GET', key)}`).join('\n');
      for (const secret of ['erin', 'Example', 'example.com', 'id-token-of', erin.csrf, erin.cookie.split('=')[1]!, 'oid.tid', 'erin-sid']) {
        expect(dump).not.toContain(secret);
      }
    });

    it.each<[string, (value: Buffer, other: Buffer) => Buffer]>([
      ["bob's session copied under alice's key", (_value, other) => other],
      ['a flipped ciphertext byte', (value) => Buffer.concat([value.subarray(0, -1), Buffer.of(value[value.length - 1]! ^ 1)])],
      ['a truncated value', (value) => value.subarray(0, value.length - 10)],
      ['plain JSON', () => Buffer.from(JSON.stringify({ createdAt: 0, lastSeenAt: Date.now(), absoluteExpiresAt: Date.now() + 1e9, csrfToken: 'x', pending: [], account: account('mallory') }))],
    ])('read as absent when tampered with (%s), and are deleted', async (_case, tamper) => {
      const alice = await signIn(app, 'alice');
      const bob = await signIn(app, 'bob');
      const aliceKey = `e2e-web:${storeKeyOf(alice.cookie)}`;
      const valueA = (await raw.getBuffer(aliceKey))!;
      const valueB = (await raw.getBuffer(`e2e-web:${storeKeyOf(bob.cookie)}`))!;
      await raw.set(aliceKey, tamper(valueA, valueB), 'EX', 600);
      expect((await call(app, 'GET', '/me', { cookie: alice.cookie })).status).toBe(401);
      expect(await raw.exists(aliceKey)).toBe(0);
      expect((await call(app, 'GET', '/me', { cookie: bob.cookie })).status).toBe(200);
    });

    it('log one security warning for several altered values (at most one per 10 s), naming no key or cookie', async () => {
      const fresh = await startWebApp(redis.url, {}, 'logged:');
      try {
        logs.clear();
        const browsers = [await signIn(fresh, 'alice'), await signIn(fresh, 'bob')];
        for (const { cookie } of browsers) {
          await raw.set(`logged:${storeKeyOf(cookie)}`, randomBytes(200), 'EX', 600);
          expect((await call(fresh, 'GET', '/me', { cookie })).status).toBe(401);
        }
        expect(logs.lines).toEqual(['warn Security event: a Redis session store value failed authentication and was deleted. Values were altered, moved between keys, or sealed with a key not configured here. RedisWebAppStore']);
        for (const { cookie } of browsers) expect(logs.lines[0]).not.toContain(cookie.split('=')[1]);
      } finally {
        await fresh.close();
      }
    });

    it('keep a long caller key bounded: stored under its hash', async () => {
      const long = `tokens:${'x'.repeat(5_000)}`;
      await app.store.set(long, 'value', 60);
      expect(await app.store.get(long)).toBe('value');
      expect(await raw.exists(`e2e-web:#${sha(long)}`)).toBe(1);
      const keys = await raw.keys('e2e-web:*');
      expect(Math.max(...keys.map((k) => k.length))).toBeLessThanOrEqual('e2e-web:'.length + 200);
    });
  });
});

describe('sessions fail closed when Redis fails', () => {
  let own: RedisProcess;
  beforeAll(async () => {
    own = await startRedis();
  });
  afterAll(async () => {
    own.resume();
    await own.stop();
  });

  it('answers 503 ERR_OBO_SESSION_STORE_UNAVAILABLE while Redis is down, never a signed-out page, and recovers when it is back', async () => {
    const web = await startWebApp(own.url, {}, 'down:');
    try {
      const alice = await signIn(web, 'alice');
      await own.kill();
      const me = await call(web, 'GET', '/me', { cookie: alice.cookie });
      expect(me).toMatchObject({ status: 503, body: { code: 'ERR_OBO_SESSION_STORE_UNAVAILABLE' } });
      expect((await call(web, 'POST', '/start')).status).toBe(503);
      await expect(web.sessions.destroyForUser('alice-oid.tid')).rejects.toBeInstanceOf(SessionStoreUnavailableError);
      await own.restart();
      // Redis came back empty (no persistence): the session is gone, and a new one works once the breaker closes.
      let status = 0;
      for (let i = 0; i < 100 && status !== 401; i++) {
        status = (await call(web, 'GET', '/me', { cookie: alice.cookie })).status;
        if (status !== 401) await sleep(100);
      }
      expect(status).toBe(401);
      expect((await call(web, 'POST', '/start')).status).toBe(200);
      expect(logs.lines.filter((line) => line.includes('Redis session store failed'))).toEqual([
        expect.stringMatching(/^warn Redis session store failed 3 times \(\w+\); refusing requests that need a session \(503\) for 2 s\./),
      ]);
      expect(logs.lines.join('\n')).not.toContain(alice.cookie.split('=')[1]);
    } finally {
      await web.close();
    }
  });

  it("answers 503 within the operation timeout when Redis hangs, even on an app's client that would queue forever", async () => {
    const client = new Redis(own.url); // the app's own: offline queue on, no command timeout
    const web = await startWebApp(client, {}, 'hung:');
    try {
      const alice = await signIn(web, 'alice');
      own.pause();
      const me = await call(web, 'GET', '/me', { cookie: alice.cookie });
      expect(me).toMatchObject({ status: 503, body: { code: 'ERR_OBO_SESSION_STORE_UNAVAILABLE' } });
    } finally {
      own.resume();
      await web.close();
      client.disconnect();
    }
  });
});
