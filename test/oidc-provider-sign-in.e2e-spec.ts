// The web app's sign-in at an OpenID Connect authority we did not write (panva's oidc-provider), with
// OpenIdSignInClient (openid-client 6): in chromium, a user signs in through oidc-provider's own login
// and consent pages, the code is redeemed at a loopback callback, tokens come silently from the user's
// partition or by refresh token, sign-out goes to the end-session endpoint and oidc-provider's
// back-channel logout token is validated. Then the refusals over HTTP: state, replayed code, nonce,
// PKCE verifier, callback URL, age; silent-acquisition refusals; logout-token variants.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, createRemoteJWKSet, generateKeyPair, importPKCS8, jwtVerify } from 'jose';
import { randomNonce, randomPKCECodeVerifier, randomState } from 'openid-client';
import type { Page } from 'playwright-core';
import { Agent, type Dispatcher } from 'undici';
import { OboError } from '../libs/obo/src/errors/obo.error.js';
import { InteractionRequiredError } from '../libs/obo/src/web-app/errors/interaction-required.error.js';
import { SignInFailedError } from '../libs/obo/src/web-app/errors/sign-in-failed.error.js';
import { OpenIdSignInClient } from '../libs/obo/src/web-app/sign-in/openid-sign-in-client.js';
import type { LogoutTokenSubject, PendingAuthorization, SignedInAccount } from '../libs/obo/src/web-app/sign-in/sign-in-client.js';
import { partitionKey } from '../libs/obo/src/web-app/sign-in/user-token-partition.js';
import { startBrowser, type BrowserHarness } from './support/browser.js';
import { MapWebAppStore } from './support/memory-web-app-store.js';
import { rejectionOf } from './support/rejection-of.js';
import { WEB_API, startSignInAuthority, type SignInAuthority } from './support/oidc-provider-sign-in-authority.js';

const READ = [WEB_API.scopes[0]];
const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** One sign-in the relying party's callback knows, by its `state`. */
interface Flow {
  readonly pending: PendingAuthorization;
  /** Redeem at the callback (the whole flow), or only record where the browser arrived (refusal tests). */
  readonly redeem: boolean;
  arrival?: URL;
  account?: SignedInAccount;
  error?: unknown;
}

let browser: BrowserHarness;
let authority: SignInAuthority;
let rp: Server;
let origin: string;
let store: MapWebAppStore;
let client: OpenIdSignInClient;
const flows = new Map<string, Flow>();
const logouts: LogoutTokenSubject[] = [];
const logoutTokens: string[] = [];

function pendingFor(scopes: readonly string[] = READ, overrides: Partial<PendingAuthorization> = {}): PendingAuthorization {
  return { state: randomState(), nonce: randomNonce(), codeVerifier: randomPKCECodeVerifier(), scopes, returnUrl: '/', createdAt: Date.now(), ...overrides };
}

async function formOf(req: IncomingMessage): Promise<URLSearchParams> {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 16 * 1024) break;
  }
  return new URLSearchParams(body);
}

/** The web app's side: the callback (redeems with the client), the post-logout page, the back-channel logout endpoint. */
async function relyingParty(req: IncomingMessage): Promise<{ status: number; html: string }> {
  const url = new URL(req.url ?? '/', origin);
  if (req.method === 'GET' && url.pathname === '/callback') {
    const flow = flows.get(url.searchParams.get('state') ?? '');
    if (!flow) return { status: 400, html: '<h1>Unknown sign-in</h1>' };
    flow.arrival = url;
    if (!flow.redeem) return { status: 200, html: '<h1>Code received</h1>' };
    try {
      flow.account = (await client.redeemCode(url, flow.pending)).account;
      return { status: 200, html: `<h1 id="who">Signed in as ${flow.account.name}</h1><p>${flow.account.username}</p>` };
    } catch (error) {
      flow.error = error;
      return { status: 401, html: `<h1>Sign-in failed: ${(error as OboError).code}</h1>` };
    }
  }
  if (req.method === 'GET' && url.pathname === '/signed-out') return { status: 200, html: '<h1 id="bye">Signed out</h1>' };
  if (req.method === 'POST' && url.pathname === '/backchannel-logout') {
    const token = (await formOf(req)).get('logout_token') ?? '';
    logoutTokens.push(token);
    try {
      logouts.push(await client.validateLogoutToken(token));
      return { status: 200, html: '' };
    } catch {
      return { status: 400, html: '' };
    }
  }
  return { status: 404, html: '<h1>Not found</h1>' };
}

beforeAll(async () => {
  rp = createServer((req, res) => {
    relyingParty(req).then(
      ({ status, html }) => res.writeHead(status, { 'content-type': 'text/html', 'cache-control': 'no-store' }).end(html),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => rp.once('error', reject).listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(rp.address() as AddressInfo).port}`;
  authority = await startSignInAuthority({ redirectUri: `${origin}/callback`, postLogoutRedirectUri: `${origin}/signed-out`, backchannelLogoutUri: `${origin}/backchannel-logout` });
  store = new MapWebAppStore();
  client = newClient();
  browser = await startBrowser();
});

afterAll(async () => {
  await browser?.close();
  await authority?.close();
  if (rp) {
    rp.closeAllConnections();
    await new Promise<void>((resolve) => rp.close(() => resolve()));
  }
});

function newClient(now?: () => number, dispatcher?: Dispatcher): OpenIdSignInClient {
  return new OpenIdSignInClient({
    issuer: new URL(authority.issuer),
    clientId: authority.clientId,
    clientSecret: authority.clientSecret,
    redirectUri: new URL(`${origin}/callback`),
    postLogoutRedirectUri: new URL(`${origin}/signed-out`),
    store,
    resources: [WEB_API],
    ...(now ? { now } : {}),
    ...(dispatcher ? { dispatcher } : {}),
  });
}

/**
 * Sends `page` to the authority for `pending`, signs in as `login` and consents when oidc-provider
 * asks (its own pages), and waits until the browser is back at the callback.
 */
async function signIn(page: Page, pending: PendingAuthorization, options: { redeem: boolean; login?: string; shots?: boolean }): Promise<Flow> {
  const flow: Flow = { pending, redeem: options.redeem };
  flows.set(pending.state, flow);
  await page.goto(await client.authorizationUrl({ pending }));
  const atCallback = () => page.url().startsWith(`${origin}/callback`);
  // At most a login page and a consent page, then the callback.
  for (let step = 0; step < 3 && !atCallback(); step++) {
    const login = page.locator('input[name="login"]');
    if (await login.count()) {
      await login.fill(options.login ?? 'alice');
      await page.locator('input[name="password"]').fill('any password');
      if (options.shots) await browser.screenshot(page, 'authority login page');
      await Promise.all([page.waitForURL(/./, { waitUntil: 'load' }), page.locator('button[type="submit"]').click()]);
      continue;
    }
    const consent = page.locator('button[type="submit"]', { hasText: 'Continue' });
    if (await consent.count()) {
      if (options.shots) await browser.screenshot(page, 'authority consent page');
      await Promise.all([page.waitForURL(/./, { waitUntil: 'load' }), consent.click()]);
      continue;
    }
    throw new Error(`signIn: unexpected page at ${new URL(page.url()).pathname}`);
  }
  if (!atCallback()) throw new Error('signIn: the browser never came back to the callback');
  return flow;
}

/** The OboError `promise` rejects with (anything else fails the test). */
async function refusalOf(promise: Promise<unknown>): Promise<OboError> {
  const error = await rejectionOf(promise);
  if (!(error instanceof OboError)) throw error;
  return error;
}

describe('#133 sign-in at oidc-provider with openid-client, in chromium', () => {
  let page: Page;
  let flow: Flow;
  let authorizationUrl: URL;

  beforeAll(async () => {
    page = await browser.newPage();
  });

  it('signs a user in through the authority\u2019s own login and consent pages; the callback redeems the code with PKCE and nonce', async () => {
    const pending = pendingFor();
    authorizationUrl = new URL(await client.authorizationUrl({ pending }));
    flow = await signIn(page, pending, { redeem: true, login: 'alice', shots: true });
    await browser.screenshot(page, 'signed in at the web app');

    await expect(page.locator('#who').textContent()).resolves.toBe('Signed in as Alice Example');
    expect(flow.error).toBeUndefined();
    expect(flow.account).toEqual({
      accountKey: 'alice',
      issuer: authority.issuer,
      subject: 'alice',
      sessionId: expect.any(String),
      name: 'Alice Example',
      username: 'alice@example.test',
    });
    const params = authorizationUrl.searchParams;
    expect(Object.fromEntries(params)).toMatchObject({
      response_type: 'code',
      response_mode: 'query',
      client_id: authority.clientId,
      redirect_uri: `${origin}/callback`,
      scope: 'openid profile offline_access Web.Read',
      state: pending.state,
      nonce: pending.nonce,
      code_challenge_method: 'S256',
      resource: WEB_API.resource,
    });
    expect(params.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(params.get('code_challenge')).not.toBe(pending.codeVerifier);
    expect(authority.tokenRequests.at(-1)).toEqual({ grantType: 'authorization_code', status: 200 });
    // The user's partition: the refresh token and the code's access token for the resource, nothing in the session.
    const partition = JSON.parse((await store.get(partitionKey('alice')))!);
    expect(partition.refreshToken).toEqual(expect.any(String));
    expect(Object.keys(partition.tokens)).toEqual([`Web.Read @${WEB_API.resource}`]);
  });

  it('acquires the user\u2019s token silently: from their cache, by refresh token when forced or within 5 minutes of expiry', async () => {
    const account = flow.account!;
    const cached = await client.acquireTokenSilent({ account, scopes: READ });
    expect(cached).toMatchObject({ fromCache: true, scopes: ['Web.Read'] });
    const requests = authority.tokenRequests.length;

    const refreshed = await client.acquireTokenSilent({ account, scopes: READ, forceRefresh: true });
    expect(refreshed.fromCache).toBe(false);
    expect(refreshed.accessToken).not.toBe(cached.accessToken);
    expect(authority.tokenRequests.slice(requests)).toEqual([{ grantType: 'refresh_token', status: 200 }]);
    const jwks = createRemoteJWKSet(new URL(`${authority.issuer}/jwks`));
    const { payload } = await jwtVerify(refreshed.accessToken, jwks, { issuer: authority.issuer, audience: WEB_API.resource, typ: 'at+jwt' });
    expect(payload).toMatchObject({ sub: 'alice', scope: 'Web.Read', client_id: authority.clientId });

    // 56 minutes later the hour-long token is within the 5-minute margin: refreshed, not served.
    const later = newClient(() => Date.now() + 56 * 60 * 1000);
    await expect(later.acquireTokenSilent({ account, scopes: READ })).resolves.toMatchObject({ fromCache: false });
    expect(authority.tokenRequests.at(-1)).toEqual({ grantType: 'refresh_token', status: 200 });
    await expect(client.acquireTokenSilent({ account, scopes: READ })).resolves.toMatchObject({ fromCache: true });
  });

  it('asks for consent when a scope was never granted (the refresh is refused with invalid_scope), keeping the refresh token', async () => {
    const error = await refusalOf(client.acquireTokenSilent({ account: flow.account!, scopes: ['Web.Write'] }));
    expect(error).toBeInstanceOf(InteractionRequiredError);
    expect(error).toMatchObject({ code: 'ERR_OBO_INTERACTION_REQUIRED', reason: 'consent', scopes: ['Web.Write'] });
    expect(authority.tokenRequests.at(-1)).toEqual({ grantType: 'refresh_token', status: 400, error: 'invalid_scope' });
    expect(JSON.parse((await store.get(partitionKey('alice')))!).refreshToken).toEqual(expect.any(String));
  });

  it('signs out at the authority\u2019s end-session endpoint, whose back-channel logout token the client validates', async () => {
    const account = flow.account!;
    const endSession = new URL((await client.endSessionUrl(account))!);
    expect(`${endSession.origin}${endSession.pathname}`).toBe(`${authority.issuer}/session/end`);
    expect(Object.fromEntries(endSession.searchParams)).toEqual({ client_id: authority.clientId, post_logout_redirect_uri: `${origin}/signed-out` });

    await page.goto(endSession.href);
    await browser.screenshot(page, 'authority sign-out confirmation');
    await Promise.all([page.waitForURL(`${origin}/signed-out`), page.locator('button', { hasText: 'Yes, sign me out' }).click()]);
    await browser.screenshot(page, 'signed out');

    expect(logouts).toEqual([{ issuer: authority.issuer, subject: 'alice', sessionId: account.sessionId }]);
    // The same token again is a replay.
    const replay = await refusalOf(client.validateLogoutToken(logoutTokens.at(-1)!));
    expect(replay.code).toBe('ERR_OBO_LOGOUT_TOKEN_INVALID');
    expect(replay.message).toMatch(/seen before/);

    await client.removeAccount(account);
    await expect(store.get(partitionKey('alice'))).resolves.toBeUndefined();
    await expect(refusalOf(client.acquireTokenSilent({ account, scopes: READ }))).resolves.toMatchObject({ code: 'ERR_OBO_INTERACTION_REQUIRED', reason: 'login' });
  });
});

describe('#133 code redemption refusals', () => {
  let page: Page;

  beforeAll(async () => {
    page = await browser.newPage();
    await signIn(page, pendingFor(), { redeem: true, login: 'bob' });
  });

  /** A code for `pending` from the signed-in browser (the authority remembers bob and his consent). */
  async function codeFor(pending: PendingAuthorization): Promise<URL> {
    const flow = await signIn(page, pending, { redeem: false });
    return flow.arrival!;
  }

  async function expectSignInFailed(promise: Promise<unknown>, authorityError?: string): Promise<SignInFailedError> {
    const error = await refusalOf(promise);
    expect(error).toBeInstanceOf(SignInFailedError);
    expect(error.code).toBe('ERR_OBO_SIGN_IN_FAILED');
    expect((error as SignInFailedError).authorityError).toBe(authorityError);
    return error as SignInFailedError;
  }

  it('refuses a callback whose state is not the pending one, before any token request', async () => {
    const pending = pendingFor();
    const callback = await codeFor(pending);
    const requests = authority.tokenRequests.length;
    await expectSignInFailed(client.redeemCode(callback, { ...pending, state: randomState() }));
    expect(authority.tokenRequests.length).toBe(requests);
  });

  it('refuses a replayed code (the authority answers invalid_grant)', async () => {
    const pending = pendingFor();
    const callback = await codeFor(pending);
    await expect(client.redeemCode(callback, pending)).resolves.toMatchObject({ account: { subject: 'bob' } });
    await expectSignInFailed(client.redeemCode(callback, pending), 'invalid_grant');
    expect(authority.tokenRequests.at(-1)).toEqual({ grantType: 'authorization_code', status: 400, error: 'invalid_grant' });
  });

  it('refuses an ID token whose nonce is not the pending one', async () => {
    const pending = pendingFor();
    const callback = await codeFor(pending);
    const error = await expectSignInFailed(client.redeemCode(callback, { ...pending, nonce: randomNonce() }));
    expect(error.message).toMatch(/nonce|claim/i);
    await expect(store.get(partitionKey('bob'))).resolves.toBeDefined(); // from bob's sign-in; the refused one stored nothing new
  });

  it('refuses a code redeemed with another PKCE verifier (the authority answers invalid_grant)', async () => {
    const pending = pendingFor();
    const callback = await codeFor(pending);
    await expectSignInFailed(client.redeemCode(callback, { ...pending, codeVerifier: randomPKCECodeVerifier() }), 'invalid_grant');
    expect(authority.tokenRequests.at(-1)).toEqual({ grantType: 'authorization_code', status: 400, error: 'invalid_grant' });
  });

  it.each([
    ['no PKCE verifier', { codeVerifier: '' }],
    ['a PKCE verifier shorter than RFC 7636 allows', { codeVerifier: 'short' }],
    ['no nonce', { nonce: '' }],
    ['no state', { state: '' }],
  ])('refuses to redeem a code for a pending sign-in with %s, before any token request', async (_name, change) => {
    const pending = pendingFor();
    const callback = await codeFor(pending);
    const requests = authority.tokenRequests.length;
    await expectSignInFailed(client.redeemCode(callback, { ...pending, ...change }));
    expect(authority.tokenRequests.length).toBe(requests);
  });

  it('refuses an error answer in the callback, naming the authority\u2019s error (access_denied)', async () => {
    const pending = pendingFor();
    const callback = new URL(`${origin}/callback?error=access_denied&state=${pending.state}&iss=${encodeURIComponent(authority.issuer)}`);
    await expectSignInFailed(client.redeemCode(callback, pending), 'access_denied');
  });

  it('checks the ID token\u2019s signature against the authority\u2019s keys, through the egress dispatcher (an altered signature is refused)', async () => {
    const paths: string[] = [];
    // An egress dispatcher that records every request and alters one character in the middle of the ID token's signature.
    const tampering: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (opts, handler) => {
      paths.push(`${opts.method} ${opts.path}`);
      if (opts.path !== '/token') return dispatch(opts, handler);
      const chunks: Buffer[] = [];
      return dispatch(opts, {
        onRequestStart: (controller, context) => handler.onRequestStart?.(controller, context),
        onResponseStart: (controller, status, headers, message) => handler.onResponseStart?.(controller, status, headers, message),
        onResponseData: (_controller, chunk) => void chunks.push(chunk),
        onResponseEnd: (controller, trailers) => {
          const body = JSON.parse(Buffer.concat(chunks).toString()) as { id_token: string };
          const at = body.id_token.length - 20;
          body.id_token = `${body.id_token.slice(0, at)}${body.id_token[at] === 'A' ? 'B' : 'A'}${body.id_token.slice(at + 1)}`;
          handler.onResponseData?.(controller, Buffer.from(JSON.stringify(body)));
          handler.onResponseEnd?.(controller, trailers);
        },
        onResponseError: (controller, error) => handler.onResponseError?.(controller, error),
      });
    };
    const dispatcher = new Agent().compose(tampering);
    try {
      const pending = pendingFor();
      const callback = await codeFor(pending);
      const error = await expectSignInFailed(newClient(undefined, dispatcher).redeemCode(callback, pending));
      expect(error.message).toMatch(/signature/i);
      expect(paths).toEqual(['GET /.well-known/openid-configuration', 'POST /token', 'GET /jwks']);
    } finally {
      await dispatcher.close();
    }
  });

  it('refuses a code that arrives at another URL than the redirect URI, and a sign-in request older than 10 minutes, before any token request', async () => {
    const pending = pendingFor();
    const callback = await codeFor(pending);
    const requests = authority.tokenRequests.length;
    const elsewhere = new URL(callback.href);
    elsewhere.pathname = '/other';
    await expectSignInFailed(client.redeemCode(elsewhere, pending));
    await expectSignInFailed(client.redeemCode(callback, { ...pending, createdAt: Date.now() - 11 * 60 * 1000 }));
    expect(authority.tokenRequests.length).toBe(requests);
  });
});

describe('#133 silent acquisition refusals', () => {
  const carol: SignedInAccount = { accountKey: 'carol', issuer: 'x', subject: 'carol' };

  it('asks for a sign-in when the user has no refresh token', async () => {
    await expect(refusalOf(client.acquireTokenSilent({ account: carol, scopes: READ }))).resolves.toMatchObject({ code: 'ERR_OBO_INTERACTION_REQUIRED', reason: 'login', scopes: READ });
  });

  it('asks for a sign-in with the claims when a claims challenge is to be met (no token request can carry it)', async () => {
    const claims = '{"access_token":{"acr":{"essential":true,"value":"mfa"}}}';
    const requests = authority.tokenRequests.length;
    await expect(refusalOf(client.acquireTokenSilent({ account: carol, scopes: READ, claims }))).resolves.toMatchObject({ code: 'ERR_OBO_INTERACTION_REQUIRED', reason: 'claims', claims, scopes: READ });
    expect(authority.tokenRequests.length).toBe(requests);
  });

  it('writes nothing back when the user signed out while their refresh was under way', async () => {
    const erin = (await signIn(await browser.newPage(), pendingFor(), { redeem: true, login: 'erin' })).account!;
    expect(JSON.parse((await store.get(partitionKey('erin')))!).refreshToken).toEqual(expect.any(String));
    // Sign-out lands while the token request is on the wire.
    const dispatcher = new Agent().compose((dispatch) => (opts, handler) => {
      if (opts.path === '/token') void store.delete(partitionKey('erin'));
      return dispatch(opts, handler);
    });
    try {
      const refreshed = await newClient(undefined, dispatcher).acquireTokenSilent({ account: erin, scopes: READ, forceRefresh: true });
      expect(refreshed).toMatchObject({ fromCache: false, scopes: READ });
      await expect(store.get(partitionKey('erin'))).resolves.toBeUndefined();
    } finally {
      await dispatcher.close();
    }
  });

  it('asks for a sign-in and forgets the refresh token when the authority refuses it (invalid_grant)', async () => {
    await store.set(partitionKey('carol'), JSON.stringify({ refreshToken: 'not-a-refresh-token', tokens: {} }), 60);
    await expect(refusalOf(client.acquireTokenSilent({ account: carol, scopes: READ }))).resolves.toMatchObject({ code: 'ERR_OBO_INTERACTION_REQUIRED', reason: 'login' });
    expect(authority.tokenRequests.at(-1)).toEqual({ grantType: 'refresh_token', status: 400, error: 'invalid_grant' });
    await expect(store.get(partitionKey('carol'))).resolves.toBeUndefined();
  });
});

describe.each(['clientPrivateKey', 'clientAssertion'] as const)('a web app authenticating with private_key_jwt (%s)', (credential) => {
  it('redeems the code and refreshes with a client assertion the authority accepts', async () => {
    const { clientId, privateKey, keyId } = authority.keyClient;
    let assertions = 0;
    const signAssertion = async () => {
      assertions++;
      return new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: keyId }).setIssuer(clientId).setSubject(clientId).setAudience(authority.issuer)
        .setJti(randomUUID()).setIssuedAt().setExpirationTime('1m').sign(await importPKCS8(privateKey, 'RS256'));
    };
    const keyed = new OpenIdSignInClient({
      issuer: new URL(authority.issuer),
      clientId,
      ...(credential === 'clientPrivateKey' ? { clientPrivateKey: { privateKey, keyId } } : { clientAssertion: signAssertion }),
      redirectUri: new URL(`${origin}/callback`),
      store,
      resources: [WEB_API],
    });
    const page = await browser.newPage();
    const pending = pendingFor();
    flows.set(pending.state, { pending, redeem: false });
    await page.goto(await keyed.authorizationUrl({ pending }));
    await page.locator('input[name="login"]').fill('frank');
    await page.locator('input[name="password"]').fill('any password');
    await Promise.all([page.waitForURL(/./, { waitUntil: 'load' }), page.locator('button[type="submit"]').click()]);
    await Promise.all([page.waitForURL(`${origin}/callback?**`), page.locator('button', { hasText: 'Continue' }).click()]);

    const { account } = await keyed.redeemCode(flows.get(pending.state)!.arrival!, pending);
    expect(account.subject).toBe('frank');
    await expect(keyed.acquireTokenSilent({ account, scopes: READ, forceRefresh: true })).resolves.toMatchObject({ fromCache: false });
    expect(authority.tokenRequests.slice(-2)).toEqual([{ grantType: 'authorization_code', status: 200 }, { grantType: 'refresh_token', status: 200 }]);
    expect(assertions).toBe(credential === 'clientAssertion' ? 2 : 0);
  });
});

describe('#133 an unreachable authority', () => {
  it('answers ERR_OBO_PROVIDER_UNAVAILABLE, and tries discovery again on the next call (a failure is not remembered)', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    let requests = 0;
    const dispatcher = new Agent().compose((dispatch) => (opts, handler) => (requests++, dispatch(opts, handler)));
    const unreachable = new OpenIdSignInClient({ issuer: new URL(`https://127.0.0.1:${port}`), clientId: 'web-app', clientSecret: 'secret', redirectUri: new URL(`${origin}/callback`), store, dispatcher });
    try {
      for (let attempt = 1; attempt <= 2; attempt++) {
        const error = await refusalOf(unreachable.authorizationUrl({ pending: pendingFor() }));
        expect(error).toMatchObject({ code: 'ERR_OBO_PROVIDER_UNAVAILABLE', retryAfterSeconds: 5 });
        expect(requests).toBe(attempt);
      }
    } finally {
      await dispatcher.close();
    }
  });
});

describe('#133 back-channel logout token validation (OpenID Connect Back-Channel Logout 1.0, 2.6)', () => {
  const now = () => Math.floor(Date.now() / 1000);
  const valid = () => ({
    iss: authority.issuer,
    aud: authority.clientId,
    iat: now(),
    exp: now() + 120,
    jti: randomUUID(),
    sub: 'dave',
    sid: 'session-1',
    events: { [BACKCHANNEL_EVENT]: {} },
  });

  it('accepts a logout token signed by the authority, with typ logout+jwt or a plain JWT', async () => {
    await expect(client.validateLogoutToken(await authority.signAsAuthority(valid()))).resolves.toEqual({ issuer: authority.issuer, subject: 'dave', sessionId: 'session-1' });
    await expect(client.validateLogoutToken(await authority.signAsAuthority(valid(), { typ: 'JWT' }))).resolves.toMatchObject({ subject: 'dave' });
    const { sub: _sub, ...sidOnly } = valid();
    await expect(client.validateLogoutToken(await authority.signAsAuthority(sidOnly))).resolves.toEqual({ issuer: authority.issuer, sessionId: 'session-1' });
  });

  it.each<[string, (claims: Record<string, unknown>) => Record<string, unknown>, Record<string, unknown>]>([
    ['for another audience', (c) => ({ ...c, aud: 'another-client' }), {}],
    ['from another issuer', (c) => ({ ...c, iss: 'https://127.0.0.1:1' }), {}],
    ['expired', (c) => ({ ...c, iat: now() - 900, exp: now() - 600 }), {}],
    ['without the events claim', ({ events: _events, ...c }) => c, {}],
    ['whose events lack the back-channel logout event', (c) => ({ ...c, events: { 'http://schemas.openid.net/event/other': {} } }), {}],
    ['with a nonce (an ID token)', (c) => ({ ...c, nonce: 'n' }), {}],
    ['naming neither sub nor sid', ({ sub: _sub, sid: _sid, ...c }) => c, {}],
    ['without a jti', ({ jti: _jti, ...c }) => c, {}],
    ['typed as an access token (at+jwt)', (c) => c, { typ: 'at+jwt' }],
  ])('refuses a logout token %s', async (_name, change, header) => {
    const error = await refusalOf(client.validateLogoutToken(await authority.signAsAuthority(change(valid()), header)));
    expect(error.code).toBe('ERR_OBO_LOGOUT_TOKEN_INVALID');
  });

  it('refuses a logout token signed by another key under the authority\u2019s kid', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const genuine = await authority.signAsAuthority(valid());
    const forged = await new SignJWT(valid()).setProtectedHeader({ ...JSON.parse(Buffer.from(genuine.split('.')[0]!, 'base64url').toString()) }).sign(privateKey);
    await expect(refusalOf(client.validateLogoutToken(forged))).resolves.toMatchObject({ code: 'ERR_OBO_LOGOUT_TOKEN_INVALID' });
  });

  it('refuses a logout token seen before (jti replay)', async () => {
    const token = await authority.signAsAuthority(valid());
    await client.validateLogoutToken(token);
    await expect(refusalOf(client.validateLogoutToken(token))).resolves.toMatchObject({ code: 'ERR_OBO_LOGOUT_TOKEN_INVALID', message: expect.stringMatching(/seen before/) });
  });
});
