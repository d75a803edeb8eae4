// The local authority's browser sign-in (issue 12): /authorize with its sign-in, consent and MFA
// pages, the authorization_code and refresh_token grants, end session and back-channel logout.
// Driven by a real @azure/msal-node 7 ConfidentialClientApplication (getAuthCodeUrl with PKCE,
// acquireTokenByCode, acquireTokenSilent) and scripted HTTP through the pages.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import {
  ConfidentialClientApplication,
  CryptoProvider,
  InteractionRequiredAuthError,
  type AccountInfo,
  type AuthenticationResult,
} from '@azure/msal-node';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { LocalAuthority, pairwiseSubject, type AppRegistration, type LocalUser } from 'nestjs-obo/testing';
import { rejectionOf } from './support/rejection-of.js';
import { ScriptedBrowser, type BrowserPage } from './support/scripted-browser.js';

const WEB_SECRET = 'web-app-secret';
const REDIRECT_URI = 'https://127.0.0.1:3443/auth/callback';
const SIGNED_OUT_URI = 'https://127.0.0.1:3443/signed-out';

let authority: LocalAuthority;
let webApp: AppRegistration;
let api: AppRegistration;
let files: AppRegistration;
let downstream: AppRegistration;
let logoutReceiver: Server;
const logoutTokens: string[] = [];

const apiScope = () => `api://${api.clientId}/access_as_user`;
const filesScope = () => `api://${files.clientId}/Files.Read`;

beforeAll(async () => {
  logoutReceiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      logoutTokens.push(new URLSearchParams(body).get('logout_token') ?? '');
      res.writeHead(200, { 'cache-control': 'no-store' }).end();
    });
  });
  await new Promise<void>((resolve) => logoutReceiver.listen(0, '127.0.0.1', resolve));
  const port = (logoutReceiver.address() as AddressInfo).port;
  authority = await LocalAuthority.start();
  api = authority.registerApp({ clientId: randomUUID(), clientSecret: 'api-secret', scopes: ['access_as_user'] });
  files = authority.registerApp({ clientId: randomUUID(), scopes: ['Files.Read', 'Files.Write'] });
  downstream = authority.registerApp({ clientId: randomUUID(), scopes: ['Data.Read'] });
  webApp = authority.registerApp({
    clientId: randomUUID(),
    clientSecret: WEB_SECRET,
    displayName: 'Contoso <Web> App',
    redirectUris: [REDIRECT_URI],
    postLogoutRedirectUris: [SIGNED_OUT_URI],
    backchannelLogoutUri: `http://127.0.0.1:${port}/backchannel-logout`,
  });
});

afterAll(async () => {
  await authority?.close();
  await new Promise<void>((resolve) => logoutReceiver?.close(() => resolve()));
});

afterEach(() => {
  authority.clearPolicies();
  authority.clearTokenFaults();
  logoutTokens.length = 0;
});

function webCca(): ConfidentialClientApplication {
  return new ConfidentialClientApplication({
    auth: { clientId: webApp.clientId, authority: authority.instance + authority.tenantId, knownAuthorities: [authority.authorityHost], clientSecret: WEB_SECRET },
  });
}

/** A fresh user (no consent, no session), so tests do not depend on each other. */
function newUser(): LocalUser {
  const username = `user-${randomUUID().slice(0, 8)}@contoso.test`;
  return authority.addUser({ username, password: 'Secret-1!', name: `User ${username}` });
}

interface Flow {
  readonly verifier: string;
  readonly state: string;
  readonly nonce: string;
  readonly scopes: string[];
  readonly page: BrowserPage;
}

/** msal-node's authorization URL (PKCE S256, state, nonce), opened in `browser`. */
async function startSignIn(
  cca: ConfidentialClientApplication,
  browser: ScriptedBrowser,
  scopes: string[],
  extra: { claims?: string; prompt?: string; loginHint?: string; extraScopesToConsent?: string[] } = {},
): Promise<Flow> {
  const pkce = await new CryptoProvider().generatePkceCodes();
  const state = randomUUID();
  const nonce = randomUUID();
  const url = await cca.getAuthCodeUrl({
    scopes,
    redirectUri: REDIRECT_URI,
    codeChallenge: pkce.challenge,
    codeChallengeMethod: 'S256',
    state,
    nonce,
    ...(extra.claims === undefined ? {} : { claims: extra.claims }),
    ...(extra.prompt === undefined ? {} : { prompt: extra.prompt }),
    ...(extra.loginHint === undefined ? {} : { loginHint: extra.loginHint }),
    ...(extra.extraScopesToConsent === undefined ? {} : { extraScopesToConsent: extra.extraScopesToConsent }),
  });
  return { verifier: pkce.verifier, state, nonce, scopes, page: await browser.get(url) };
}

/** Answers the pages the way a user who agrees to everything would; returns the callback URL and the page titles seen. */
async function completePages(browser: ScriptedBrowser, first: BrowserPage, user: LocalUser): Promise<{ callback: URL; titles: string[] }> {
  let page = first;
  const titles: string[] = [];
  for (let step = 0; step < 5 && page.status === 200; step++) {
    titles.push(page.title ?? '');
    if (page.title === 'Sign in') page = await browser.submit(page, 'sign-in-form', { username: user.username, password: user.password });
    else if (page.title === 'Permissions requested') page = await browser.submit(page, 'consent-form', { action: 'accept' });
    else if (page.title === 'Approve sign-in') page = await browser.submit(page, 'mfa-form');
    else throw new Error(`unexpected page ${page.title ?? ''}: ${page.html}`);
  }
  expect(page.status).toBe(302);
  return { callback: new URL(page.location!), titles };
}

function redeem(cca: ConfidentialClientApplication, flow: Flow, callback: URL, overrides: { codeVerifier?: string } = {}): Promise<AuthenticationResult> {
  const code = callback.searchParams.get('code') ?? '';
  return cca.acquireTokenByCode(
    { code, scopes: flow.scopes, redirectUri: REDIRECT_URI, codeVerifier: overrides.codeVerifier ?? flow.verifier, state: flow.state, nonce: flow.nonce },
    { code, state: callback.searchParams.get('state') ?? '' },
  );
}

/** Signs `user` in with `scopes` through every page; returns the result of acquireTokenByCode. */
async function signIn(cca: ConfidentialClientApplication, browser: ScriptedBrowser, user: LocalUser, scopes: string[] = [apiScope()], extraScopesToConsent?: string[]) {
  const flow = await startSignIn(cca, browser, scopes, extraScopesToConsent ? { extraScopesToConsent } : {});
  const { callback, titles } = await completePages(browser, flow.page, user);
  return { result: await redeem(cca, flow, callback), titles, flow, callback };
}

async function postToken(form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(authority.tokenEndpoint(), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('authorization code sign-in with msal-node', () => {
  it('shows the sign-in page, then redirects with a code that msal-node redeems for Entra-shaped tokens', async () => {
    const user = newUser();
    const browser = new ScriptedBrowser();
    const flow = await startSignIn(webCca(), browser, [apiScope()]);
    expect(flow.page.status).toBe(200);
    expect(flow.page.title).toBe('Sign in');
    expect(flow.page.headers.get('cache-control')).toBe('no-store');
    expect(flow.page.headers.get('x-frame-options')).toBe('DENY');
    expect(flow.page.headers.get('content-security-policy')).toContain("form-action 'self' https://127.0.0.1:3443");
    expect(flow.page.html).toContain('Contoso &#60;Web&#62; App');
    const cca = webCca();
    const { callback, titles } = await completePages(browser, flow.page, user);
    expect(titles).toEqual(['Sign in', 'Permissions requested']);
    expect(callback.origin + callback.pathname).toBe(REDIRECT_URI);
    expect(callback.searchParams.get('state')).toBe(flow.state);
    const cookie = [...browser.cookies.keys()];
    expect(cookie).toEqual([authority.sessionCookieName]);
    const result = await redeem(cca, flow, callback);
    expect(result.account?.homeAccountId).toBe(`${user.oid}.${authority.tenantId}`);
    expect(result.account?.username).toBe(user.username);
    expect(result.scopes).toContain(apiScope());
    const access = decodeJwt(result.accessToken);
    expect(access).toMatchObject({
      aud: api.clientId,
      iss: authority.issuerV2(),
      oid: user.oid,
      sub: pairwiseSubject(user.oid, api.clientId),
      tid: authority.tenantId,
      scp: 'access_as_user',
      azp: webApp.clientId,
      name: user.name,
      preferred_username: user.username,
      amr: ['pwd'],
      ver: '2.0',
    });
    const id = decodeJwt(result.idToken);
    expect(id).toMatchObject({ aud: webApp.clientId, iss: authority.issuerV2(), nonce: flow.nonce, oid: user.oid, sub: pairwiseSubject(user.oid, webApp.clientId), ver: '2.0' });
    expect(typeof id.sid).toBe('string');
    expect(typeof id.auth_time).toBe('number');
    expect(id.scp).toBeUndefined();
    const jwks = createRemoteJWKSet(new URL(`${authority.instance}${authority.tenantId}/discovery/v2.0/keys`));
    await expect(jwtVerify(result.idToken, jwks, { issuer: authority.issuerV2(), audience: webApp.clientId })).resolves.toBeDefined();
    expect(authority.tokenRequests.authorizationCode).toBeGreaterThan(0);
  });

  it('signs in again without any page while the authority session lives (SSO), and not after prompt=login', async () => {
    const user = newUser();
    const browser = new ScriptedBrowser();
    await signIn(webCca(), browser, user);
    const again = await startSignIn(webCca(), browser, [apiScope()]);
    expect(again.page.status).toBe(302);
    expect(new URL(again.page.location!).searchParams.get('code')).toBeTruthy();
    const forced = await startSignIn(webCca(), browser, [apiScope()], { prompt: 'login' });
    expect(forced.page.title).toBe('Sign in');
  });

  it('answers a wrong password with the sign-in page again (200) and an error', async () => {
    const user = newUser();
    const browser = new ScriptedBrowser();
    const flow = await startSignIn(webCca(), browser, [apiScope()]);
    const wrong = await browser.submit(flow.page, 'sign-in-form', { username: user.username, password: 'wrong' });
    expect(wrong.status).toBe(200);
    expect(wrong.title).toBe('Sign in');
    expect(wrong.html).toContain('id="error"');
    expect(browser.cookies.size).toBe(0);
  });

  it('refreshes with acquireTokenSilent (refresh_token grant), also for another consented resource', async () => {
    const user = newUser();
    const cca = webCca();
    const { result } = await signIn(cca, new ScriptedBrowser(), user, [apiScope()], [filesScope()]);
    authority.resetCounters();
    const refreshed = await cca.acquireTokenSilent({ account: result.account!, scopes: [apiScope()], forceRefresh: true });
    expect(refreshed.fromCache).toBe(false);
    expect(decodeJwt(refreshed.accessToken)).toMatchObject({ aud: api.clientId, oid: user.oid });
    const other = await cca.acquireTokenSilent({ account: result.account!, scopes: [filesScope()] });
    expect(decodeJwt(other.accessToken)).toMatchObject({ aud: files.clientId, scp: 'Files.Read', sub: pairwiseSubject(user.oid, files.clientId) });
    expect(authority.tokenRequests.refreshToken).toBe(2);
    expect(authority.lastTokenRequest?.grant_type).toBe('refresh_token');
  });
});

describe('consent', () => {
  it('asks consent for a new scope once, and not again after the user accepted', async () => {
    const user = newUser();
    const browser = new ScriptedBrowser();
    await signIn(webCca(), browser, user);
    expect(authority.consentedScopes(user.oid, webApp.clientId)).toEqual([apiScope()]);
    const flow = await startSignIn(webCca(), browser, [filesScope()]);
    expect(flow.page.title).toBe('Permissions requested');
    expect(flow.page.html).toContain(`data-scope="${filesScope()}"`);
    expect(flow.page.html).not.toContain(`data-scope="${apiScope()}"`);
    const { callback } = await completePages(browser, flow.page, user);
    const result = await redeem(webCca(), flow, callback);
    expect(decodeJwt(result.accessToken).aud).toBe(files.clientId);
    const again = await startSignIn(webCca(), browser, [filesScope()]);
    expect(again.page.status).toBe(302);
  });

  it('redirects with access_denied (AADSTS65004) when the user cancels', async () => {
    const user = newUser();
    const browser = new ScriptedBrowser();
    const flow = await startSignIn(webCca(), browser, [apiScope()]);
    const consent = await browser.submit(flow.page, 'sign-in-form', { username: user.username, password: user.password });
    const cancelled = await browser.submit(consent, 'consent-form', { action: 'cancel' });
    const callback = new URL(cancelled.location!);
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('error_description')).toMatch(/^AADSTS65004/);
    expect(callback.searchParams.get('state')).toBe(flow.state);
    expect(callback.searchParams.get('code')).toBeNull();
  });

  it('refuses a refresh for a resource the user has not consented to with consent_required (InteractionRequiredAuthError)', async () => {
    const cca = webCca();
    const { result } = await signIn(cca, new ScriptedBrowser(), newUser());
    const error = await rejectionOf(cca.acquireTokenSilent({ account: result.account!, scopes: [`api://${downstream.clientId}/Data.Read`] }));
    expect(error).toBeInstanceOf(InteractionRequiredAuthError);
    expect(error.subError).toBe('consent_required');
    expect(error.errorMessage).toMatch(/AADSTS65001/);
  });
});
