import { createHash } from 'node:crypto';
import { IncomingMessage, ServerResponse, type IncomingHttpHeaders } from 'node:http';
import { Socket } from 'node:net';
import type { PendingAuthorization, SignedInAccount } from '../sign-in/sign-in-client.js';
import { MemoryWebAppStore } from './memory-web-app-store.js';
import { resolveSessionOptions } from './resolve-session-options.js';
import { SessionService } from './session.service.js';
import type { WebSession } from './web-session.js';

const HTTPS = new URL('https://app.example.com/signin-oidc');
const ISSUER = 'https://login.example.com/tenant/v2.0';

/** A store that counts writes, to see that a request does not always write. */
class CountingStore extends MemoryWebAppStore {
  writes = 0;
  override async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    this.writes++;
    await super.set(key, value, ttlSeconds);
  }
}

function setup(redirectUri = HTTPS) {
  let now = 1_700_000_000_000;
  const clock = () => now;
  const store = new CountingStore({ now: clock });
  const sessions = new SessionService(resolveSessionOptions(undefined, redirectUri), store, clock);
  return { store, sessions, advance: (ms: number) => void (now += ms), now: clock };
}

function request(headers: IncomingHttpHeaders = {}): IncomingMessage {
  const req = new IncomingMessage(new Socket());
  req.headers = headers;
  return req;
}

const response = (): ServerResponse => new ServerResponse(request());

function setCookies(res: ServerResponse): string[] {
  const header = res.getHeader('set-cookie');
  return header === undefined ? [] : ([] as string[]).concat(header as string | string[]);
}

/** The `name=value` of the session cookie `res` set: what the browser sends back. */
function cookieOf(res: ServerResponse, name = '__Host-obo-session'): string {
  const cookie = setCookies(res).find((c) => c.startsWith(`${name}=`));
  if (!cookie) throw new Error('no session cookie was set');
  return cookie.split(';')[0]!;
}

const sha = (text: string): string => createHash('sha256').update(text).digest('base64url');
const account = (user: string, sessionId?: string): SignedInAccount => ({ accountKey: `${user}-oid.tid`, issuer: ISSUER, subject: `${user}-sub`, sessionId, name: user });

function pending(state: string, createdAt: number): PendingAuthorization {
  return { state, nonce: `n-${state}`, codeVerifier: `v-${state}`, scopes: [], returnUrl: '/', createdAt };
}

/** A signed-in session: started, account set, rotated; the cookie the browser then holds. */
async function signedIn(sessions: SessionService, user: string, sid?: string): Promise<{ session: WebSession; cookie: string }> {
  const session = await sessions.start(response());
  session.account = account(user, sid);
  const res = response();
  await sessions.rotate(session, res);
  return { session, cookie: cookieOf(res) };
}

describe('SessionService', () => {
  describe('the session cookie', () => {
    it('is HttpOnly, SameSite=Lax, Path=/, Secure, __Host- prefixed, without Domain, for the absolute timeout on https', async () => {
      const { sessions } = setup();
      const res = response();
      await sessions.start(res);
      const [cookie] = setCookies(res);
      expect(cookie).toMatch(/^__Host-obo-session=[A-Za-z0-9_-]{43}; /);
      expect(cookie!.split('; ').slice(1).sort()).toEqual(['HttpOnly', 'Max-Age=28800', 'Path=/', 'SameSite=Lax', 'Secure']);
    });

    it('is not Secure and not prefixed on an http redirect URI', async () => {
      const { sessions } = setup(new URL('http://127.0.0.1:3000/cb'));
      const res = response();
      await sessions.start(res);
      expect(setCookies(res)[0]).toMatch(/^obo-session=/);
      expect(setCookies(res)[0]).not.toMatch(/Secure/);
    });

    it('is added to the Set-Cookie headers already on the response, never replacing them', async () => {
      const { sessions } = setup();
      const one = response();
      one.setHeader('set-cookie', 'theme=dark; Path=/');
      await sessions.start(one);
      expect(setCookies(one)).toEqual(['theme=dark; Path=/', expect.stringMatching(/^__Host-obo-session=/)]);
      const two = response();
      two.setHeader('set-cookie', ['a=1', 'b=2']);
      const session = await sessions.start(two);
      await sessions.rotate(session, two);
      expect(setCookies(two)).toEqual(['a=1', 'b=2', expect.stringMatching(/^__Host-obo-session=/)]);
    });
  });

  describe('loading', () => {
    it('finds the session of a cookie it set, and stores it under a hash of the id, never the id', async () => {
      const { sessions, store } = setup();
      const res = response();
      const started = await sessions.start(res);
      const cookie = cookieOf(res);
      const id = cookie.split('=')[1]!;
      expect(started.key).toMatch(/^session:[A-Za-z0-9_-]{43}$/);
      expect(started.key).not.toContain(id);
      expect(await store.get(`session:${id}`)).toBeUndefined();
      const loaded = await sessions.load(request({ cookie: `other=1; ${cookie}` }));
      expect(loaded).toMatchObject({ key: started.key, csrfToken: started.csrfToken });
    });

    it.each<[string, (cookie: string) => string | undefined]>([
      ['no cookie header', () => undefined],
      ['another cookie only', () => 'theme=dark'],
      ['an unknown id', () => `__Host-obo-session=${'A'.repeat(43)}`],
      ['a malformed id', (cookie) => `${cookie}x`],
      ['a changed character', (cookie) => cookie.slice(0, -1) + (cookie.endsWith('A') ? 'B' : 'A')],
      ['two cookies of that name (cookie tossing)', (cookie) => `${cookie}; __Host-obo-session=${'A'.repeat(43)}`],
      ['the same cookie twice', (cookie) => `${cookie}; ${cookie}`],
    ])('finds no session for %s', async (_case, header) => {
      const { sessions } = setup();
      const res = response();
      await sessions.start(res);
      const cookie = header(cookieOf(res));
      expect(await sessions.load(request(cookie === undefined ? {} : { cookie }))).toBeUndefined();
    });

    it('ends a signed-in session unused for the idle timeout and deletes its record', async () => {
      const { sessions, store, advance } = setup();
      const first = response();
      const session = await sessions.start(first);
      session.account = account('idle');
      const res = response();
      await sessions.rotate(session, res);
      advance(1_800_000 - 1);
      expect(await sessions.load(request({ cookie: cookieOf(res) }))).toBeDefined();
      advance(1_800_000);
      expect(await sessions.load(request({ cookie: cookieOf(res) }))).toBeUndefined();
      expect(await store.get(session.key)).toBeUndefined();
    });

    it('keeps a session nobody signed in to (a sign-in in flight) for 10 minutes only', async () => {
      const { sessions, store, advance } = setup();
      const res = response();
      const session = await sessions.start(res);
      advance(600_000 - 1_000);
      expect(await store.get(session.key)).toBeDefined();
      advance(1_000);
      expect(await sessions.load(request({ cookie: cookieOf(res) }))).toBeUndefined();
      expect(await store.get(session.key)).toBeUndefined();
    });

    it('ends a session at the absolute timeout however active', async () => {
      const { sessions, advance } = setup();
      const { cookie } = await signedIn(sessions, 'alice');
      for (let minute = 10; minute < 8 * 60; minute += 10) {
        advance(600_000);
        expect(await sessions.load(request({ cookie }))).toBeDefined();
      }
      advance(600_000);
      expect(await sessions.load(request({ cookie }))).toBeUndefined();
    });

    it('writes lastSeenAt at most once a minute, not on every request', async () => {
      const { sessions, store, advance } = setup();
      const res = response();
      await sessions.start(res);
      const cookie = cookieOf(res);
      const before = store.writes;
      for (let i = 0; i < 10; i++) {
        advance(5_000);
        await sessions.load(request({ cookie }));
      }
      expect(store.writes).toBe(before + 0);
      advance(10_000);
      const touched = await sessions.load(request({ cookie }));
      expect(store.writes).toBe(before + 1);
      expect(touched!.lastSeenAt).toBe(touched!.createdAt + 60_000);
    });
  });

  describe('sign-in', () => {
    it('moves the session to a new id: the cookie from before sign-in finds nothing after (no fixation)', async () => {
      const { sessions } = setup();
      const before = response();
      const session = await sessions.start(before);
      const oldCsrf = session.csrfToken;
      sessions.addPending(session, pending('s1', Date.now()));
      session.account = account('alice');
      const after = response();
      await sessions.rotate(session, after);
      expect(cookieOf(after)).not.toBe(cookieOf(before));
      expect(await sessions.load(request({ cookie: cookieOf(before) }))).toBeUndefined();
      const loaded = await sessions.load(request({ cookie: cookieOf(after) }));
      expect(loaded?.account).toEqual(account('alice'));
      expect(loaded?.csrfToken).not.toBe(oldCsrf);
    });

    it('counts the absolute timeout from sign-in, not from the anonymous start', async () => {
      const { sessions, advance, now } = setup();
      const session = await sessions.start(response());
      advance(600_000);
      session.account = account('alice');
      await sessions.rotate(session, response());
      expect(session.absoluteExpiresAt).toBe(now() + 28_800_000);
    });
  });

  describe('sign-ins in flight', () => {
    it('keeps the newest 5 and hands each out once', () => {
      const { sessions, now } = setup();
      const session = { pending: [] as PendingAuthorization[] } as unknown as WebSession;
      for (let i = 1; i <= 7; i++) sessions.addPending(session, pending(`s${i}`, now()));
      expect(session.pending.map((p) => p.state)).toEqual(['s3', 's4', 's5', 's6', 's7']);
      expect(sessions.takePending(session, 's5')?.codeVerifier).toBe('v-s5');
      expect(sessions.takePending(session, 's5')).toBeUndefined();
      expect(sessions.takePending(session, 's1')).toBeUndefined();
    });

    it('drops a sign-in in flight after 10 minutes', () => {
      const { sessions, advance, now } = setup();
      const session = { pending: [] as PendingAuthorization[] } as unknown as WebSession;
      sessions.addPending(session, pending('old', now()));
      advance(5 * 60_000);
      sessions.addPending(session, pending('newer', now()));
      advance(5 * 60_000);
      expect(sessions.takePending(session, 'old')).toBeUndefined();
      expect(sessions.takePending(session, 'newer')?.state).toBe('newer');
    });

    it('survives a save and a load, and a load drops the stale ones', async () => {
      const { sessions, advance, now } = setup();
      const res = response();
      const session = await sessions.start(res);
      sessions.addPending(session, pending('a', now()));
      advance(9 * 60_000);
      sessions.addPending(session, pending('b', now()));
      await sessions.save(session);
      advance(2 * 60_000);
      const loaded = await sessions.load(request({ cookie: cookieOf(res) }));
      expect(loaded!.pending.map((p) => p.state)).toEqual(['b']);
    });
  });

  describe('ending sessions', () => {
    it('sign-out deletes the record and clears the cookie with Max-Age=0', async () => {
      const { sessions, store } = setup();
      const { session, cookie } = await signedIn(sessions, 'alice');
      const res = response();
      await sessions.destroy(session, res);
      expect(setCookies(res)[0]).toMatch(/^__Host-obo-session=; Max-Age=0; /);
      expect(await sessions.load(request({ cookie }))).toBeUndefined();
      expect(await store.get(session.key)).toBeUndefined();
      expect(await store.members(`user:${sha('alice-oid.tid')}`)).toEqual([]);
    });

    it("ends every session of one user, and no other user's", async () => {
      const { sessions } = setup();
      const a1 = await signedIn(sessions, 'alice');
      const a2 = await signedIn(sessions, 'alice');
      const bob = await signedIn(sessions, 'bob');
      expect(await sessions.destroyForUser('alice-oid.tid')).toBe(2);
      expect(await sessions.load(request({ cookie: a1.cookie }))).toBeUndefined();
      expect(await sessions.load(request({ cookie: a2.cookie }))).toBeUndefined();
      expect(await sessions.load(request({ cookie: bob.cookie }))).toBeDefined();
      expect(await sessions.destroyForUser('alice-oid.tid')).toBe(0);
    });

    it("ends the sessions of one authority session (sid), not the user's others", async () => {
      const { sessions } = setup();
      const laptop = await signedIn(sessions, 'alice', 'sid-laptop');
      const phone = await signedIn(sessions, 'alice', 'sid-phone');
      expect(await sessions.destroyForSessionId(ISSUER, 'sid-laptop')).toBe(1);
      expect(await sessions.destroyForSessionId('https://other.example.com/', 'sid-phone')).toBe(0);
      expect(await sessions.load(request({ cookie: laptop.cookie }))).toBeUndefined();
      expect(await sessions.load(request({ cookie: phone.cookie }))).toBeDefined();
    });

    it('ends the sessions of a subject at an issuer (a logout token without sid)', async () => {
      const { sessions } = setup();
      const alice = await signedIn(sessions, 'alice', 'sid-1');
      expect(await sessions.destroyForSubject(ISSUER, 'alice-sub')).toBe(1);
      expect(await sessions.load(request({ cookie: alice.cookie }))).toBeUndefined();
    });

    it("does not count a session that already ended, and keeps a user's index small as sessions end", async () => {
      const { sessions, store, advance } = setup();
      for (let i = 0; i < 40; i++) {
        await signedIn(sessions, 'alice');
        advance(1_800_001); // each session ends idle before the next sign-in
      }
      const live = await signedIn(sessions, 'alice');
      const index = (await store.members(`user:${sha('alice-oid.tid')}`)).length;
      expect(index).toBeLessThanOrEqual(17);
      expect(await sessions.destroyForUser('alice-oid.tid')).toBe(1);
      expect(await sessions.load(request({ cookie: live.cookie }))).toBeUndefined();
    });
  });

  describe('CSRF', () => {
    async function withSession() {
      const { sessions } = setup();
      const session = await sessions.start(response());
      return { sessions, session };
    }

    it('accepts the session token from the app origin or a browser saying same-origin', async () => {
      const { sessions, session } = await withSession();
      expect(sessions.verifyCsrf(request({ origin: 'https://app.example.com', 'sec-fetch-site': 'same-origin' }), session, session.csrfToken)).toBe(true);
      expect(sessions.verifyCsrf(request({}), session, session.csrfToken)).toBe(true);
    });

    it.each<[string, IncomingHttpHeaders, (token: string) => string | undefined]>([
      ['no token', {}, () => undefined],
      ['an empty token', {}, () => ''],
      ['another token of the same length', {}, (t) => (t[0] === 'A' ? 'B' : 'A') + t.slice(1)],
      ['a longer token', {}, (t) => `${t}A`],
      ['a cross-site request with the right token', { 'sec-fetch-site': 'cross-site' }, (t) => t],
      ['another Origin with the right token', { origin: 'https://evil.example' }, (t) => t],
      ['Origin null with the right token', { origin: 'null' }, (t) => t],
      ['the app host over http with the right token', { origin: 'http://app.example.com' }, (t) => t],
    ])('refuses %s', async (_case, headers, submitted) => {
      const { sessions, session } = await withSession();
      expect(sessions.verifyCsrf(request(headers), session, submitted(session.csrfToken))).toBe(false);
    });

    it("refuses another session's token", async () => {
      const { sessions, session } = await withSession();
      const other = await sessions.start(response());
      expect(sessions.verifyCsrf(request({}), session, other.csrfToken)).toBe(false);
    });
  });
});
