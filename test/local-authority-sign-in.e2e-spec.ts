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

describe('Conditional Access: an MFA policy on a resource', () => {
  const capolids = (policyId: string) => JSON.stringify({ access_token: { capolids: { essential: true, values: [policyId] } } });

  it('refuses the refresh without MFA with interaction_required and a capolids claims challenge; the MFA page then satisfies it', async () => {
    const user = newUser();
    const cca = webCca();
    const browser = new ScriptedBrowser();
    const { result } = await signIn(cca, browser, user);
    const policyId = authority.requireMfaFor(api.clientId);
    const error = await rejectionOf(cca.acquireTokenSilent({ account: result.account!, scopes: [apiScope()], forceRefresh: true }));
    expect(error).toBeInstanceOf(InteractionRequiredAuthError);
    expect(error.errorCode).toBe('interaction_required');
    expect(error.errorMessage).toMatch(/AADSTS50076/);
    expect(error.claims).toBe(capolids(policyId));
    const flow = await startSignIn(cca, browser, [apiScope()], { claims: error.claims as string });
    expect(flow.page.title).toBe('Approve sign-in');
    const { callback, titles } = await completePages(browser, flow.page, user);
    expect(titles).toEqual(['Approve sign-in']);
    const stepped = await redeem(cca, flow, callback);
    expect(decodeJwt(stepped.accessToken).amr).toEqual(['pwd', 'mfa']);
    const refreshed = await cca.acquireTokenSilent({ account: stepped.account!, scopes: [apiScope()], forceRefresh: true });
    expect(decodeJwt(refreshed.accessToken)).toMatchObject({ aud: api.clientId, amr: ['pwd', 'mfa'] });
  });

  it('refuses an OBO whose assertion lacks mfa in amr with the same challenge, and carries amr over when it has it', async () => {
    const user = newUser();
    const policyId = authority.requireMfaFor(downstream.clientId);
    const apiCca = new ConfidentialClientApplication({
      auth: { clientId: api.clientId, authority: authority.instance + authority.tenantId, knownAuthorities: [authority.authorityHost], clientSecret: 'api-secret' },
    });
    const { result } = await signIn(webCca(), new ScriptedBrowser(), user);
    const scopes = [`api://${downstream.clientId}/Data.Read`];
    const error = await rejectionOf(apiCca.acquireTokenOnBehalfOf({ oboAssertion: result.accessToken, scopes }));
    expect(error).toBeInstanceOf(InteractionRequiredAuthError);
    expect(error.errorCode).toBe('interaction_required');
    expect(error.claims).toBe(capolids(policyId));
    const mfaAssertion = authority.mintUserToken({ audience: api.clientId, claims: { oid: user.oid, amr: ['pwd', 'mfa'] } });
    const obo = await apiCca.acquireTokenOnBehalfOf({ oboAssertion: mfaAssertion, scopes });
    expect(decodeJwt(obo!.accessToken)).toMatchObject({ aud: downstream.clientId, amr: ['pwd', 'mfa'] });
  });

  it('asks for MFA at sign-in when the requested resource has a policy, and puts requested acrs in the token', async () => {
    const user = newUser();
    authority.requireMfaFor(files.clientId);
    const browser = new ScriptedBrowser();
    const flow = await startSignIn(webCca(), browser, [filesScope()], { claims: JSON.stringify({ access_token: { acrs: { essential: true, value: 'c1' } } }) });
    const { callback, titles } = await completePages(browser, flow.page, user);
    expect(titles).toEqual(['Sign in', 'Permissions requested', 'Approve sign-in']);
    const result = await redeem(webCca(), flow, callback);
    expect(decodeJwt(result.accessToken)).toMatchObject({ aud: files.clientId, amr: ['pwd', 'mfa'], acrs: ['c1'] });
  });
});

describe('authorization code refusals', () => {
  it('refuses a replayed code with invalid_grant AADSTS54005, and the first tokens keep working', async () => {
    const user = newUser();
    const cca = webCca();
    const { result, flow, callback } = await signIn(cca, new ScriptedBrowser(), user);
    const replay = await postToken({
      grant_type: 'authorization_code',
      client_id: webApp.clientId,
      client_secret: WEB_SECRET,
      code: callback.searchParams.get('code')!,
      redirect_uri: REDIRECT_URI,
      code_verifier: flow.verifier,
      scope: apiScope(),
    });
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
    expect(replay.body.error_description).toMatch(/^AADSTS54005: OAuth2 Authorization code was already redeemed/);
    const refreshed = await cca.acquireTokenSilent({ account: result.account!, scopes: [apiScope()], forceRefresh: true });
    expect(refreshed.accessToken).toBeTruthy();
  });

  it.each([
    ['a wrong', 'not-the-verifier-but-long-enough-to-look-like-one-0123456789'],
    ['a missing', ''],
  ])('refuses %s code_verifier with invalid_grant AADSTS501481', async (_label, verifier) => {
    const browser = new ScriptedBrowser();
    const flow = await startSignIn(webCca(), browser, [apiScope()]);
    const { callback } = await completePages(browser, flow.page, newUser());
    const answer = await postToken({
      grant_type: 'authorization_code',
      client_id: webApp.clientId,
      client_secret: WEB_SECRET,
      code: callback.searchParams.get('code')!,
      redirect_uri: REDIRECT_URI,
      ...(verifier === '' ? {} : { code_verifier: verifier }),
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe('invalid_grant');
    expect(answer.body.error_description).toMatch(/^AADSTS501481: The Code_Verifier does not match the code_challenge supplied in the authorization request for PKCE\./);
  });

  it('refuses a redemption with another redirect_uri than the code was issued for', async () => {
    const browser = new ScriptedBrowser();
    const flow = await startSignIn(webCca(), browser, [apiScope()]);
    const { callback } = await completePages(browser, flow.page, newUser());
    const answer = await postToken({
      grant_type: 'authorization_code',
      client_id: webApp.clientId,
      client_secret: WEB_SECRET,
      code: callback.searchParams.get('code')!,
      redirect_uri: 'https://127.0.0.1:3443/other',
      code_verifier: flow.verifier,
    });
    expect(answer.body.error).toBe('invalid_grant');
    expect(answer.body.error_description).toMatch(/^AADSTS500112/);
  });
});

describe('authorization request refusals', () => {
  async function authorizeWith(params: Record<string, string | undefined>): Promise<BrowserPage> {
    const pkce = await new CryptoProvider().generatePkceCodes();
    const query: Record<string, string> = {
      client_id: webApp.clientId,
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      scope: `openid profile offline_access ${apiScope()}`,
      state: 'state-1',
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
    };
    for (const [name, value] of Object.entries(params)) {
      if (value === undefined) delete query[name];
      else query[name] = value;
    }
    return new ScriptedBrowser().get(`${authority.instance}${authority.tenantId}/oauth2/v2.0/authorize?${new URLSearchParams(query)}`);
  }

  it.each([
    ['an unregistered redirect_uri', { redirect_uri: 'https://evil.test/callback' }, 'AADSTS50011'],
    ['a redirect_uri differing by a trailing slash', { redirect_uri: `${REDIRECT_URI}/` }, 'AADSTS50011'],
    ['an unknown client', { client_id: randomUUID() }, 'AADSTS700016'],
  ])('shows an error page (400) and never redirects for %s', async (_label, params, code) => {
    const page = await authorizeWith(params);
    expect(page.status).toBe(400);
    expect(page.location).toBeUndefined();
    expect(page.title).toBe('Sign-in error');
    expect(page.html).toContain(`<p id="error-code">${code}</p>`);
    expect(page.html).not.toContain('<script');
  });

  it.each<[string, () => Record<string, string | undefined>, string]>([
    ['no code_challenge', () => ({ code_challenge: undefined }), 'invalid_request'],
    ['code_challenge_method plain', () => ({ code_challenge_method: 'plain' }), 'invalid_request'],
    ['response_type token', () => ({ response_type: 'token' }), 'unsupported_response_type'],
    ['an unknown resource scope', () => ({ scope: 'openid api://nobody.test/read' }), 'invalid_scope'],
    ['a scope the resource does not expose', () => ({ scope: `openid ${apiScope().replace('access_as_user', 'nothing')}` }), 'invalid_scope'],
  ])('redirects back with error for %s, with state', async (_label, params, error) => {
    const page = await authorizeWith(params());
    expect(page.status).toBe(302);
    const callback = new URL(page.location!);
    expect(callback.origin + callback.pathname).toBe(REDIRECT_URI);
    expect(callback.searchParams.get('error')).toBe(error);
    expect(callback.searchParams.get('error_description')).toMatch(/^AADSTS\d+: /);
    expect(callback.searchParams.get('state')).toBe('state-1');
  });

  it('answers response_mode=form_post with an auto-submitting form to the redirect URI', async () => {
    const browser = new ScriptedBrowser();
    const user = newUser();
    authority.grantConsent(user.oid, webApp.clientId, [apiScope()]);
    const flow = await startSignIn(webCca(), browser, [apiScope()]);
    await browser.submit(flow.page, 'sign-in-form', { username: user.username, password: user.password });
    const pkce = await new CryptoProvider().generatePkceCodes();
    const url = `${authority.instance}${authority.tenantId}/oauth2/v2.0/authorize?${new URLSearchParams({ client_id: webApp.clientId, response_type: 'code', redirect_uri: REDIRECT_URI, scope: `openid ${apiScope()}`, state: 's', response_mode: 'form_post', code_challenge: pkce.challenge, code_challenge_method: 'S256' })}`;
    const page = await browser.get(url);
    expect(page.status).toBe(200);
    expect(page.html).toContain(`<form id="form-post" method="post" action="${REDIRECT_URI}">`);
    expect(page.html).toMatch(/name="code" value="[\w-]{20,}"/);
    const nonce = /script-src 'nonce-([\w-]+)'/.exec(page.headers.get('content-security-policy') ?? '')?.[1];
    expect(page.html).toContain(`<script nonce="${nonce}">`);
  });

  it('shows an error page for a form whose interaction id or anti-CSRF value is not the one issued', async () => {
    const browser = new ScriptedBrowser();
    const flow = await startSignIn(webCca(), browser, [apiScope()]);
    const user = newUser();
    const forged = await browser.submit({ ...flow.page, html: flow.page.html.replace(/name="csrf" value="[^"]*"/, 'name="csrf" value="forged"') }, 'sign-in-form', { username: user.username, password: user.password });
    expect(forged.status).toBe(400);
    expect(forged.title).toBe('Sign-in error');
    const unknown = await browser.submit({ ...flow.page, html: flow.page.html.replace(/name="interaction" value="[^"]*"/, 'name="interaction" value="unknown"') }, 'sign-in-form', { username: user.username, password: user.password });
    expect(unknown.status).toBe(400);
    expect(browser.cookies.size).toBe(0);
  });
});

describe('prompt=none', () => {
  it('redirects with login_required without a session, consent_required for a new scope, interaction_required when MFA is due', async () => {
    const user = newUser();
    const browser = new ScriptedBrowser();
    const errorOf = (page: BrowserPage) => new URL(page.location!).searchParams.get('error');
    expect(errorOf((await startSignIn(webCca(), browser, [apiScope()], { prompt: 'none' })).page)).toBe('login_required');
    await signIn(webCca(), browser, user);
    expect(errorOf((await startSignIn(webCca(), browser, [filesScope()], { prompt: 'none' })).page)).toBe('consent_required');
    authority.requireMfaFor(api.clientId);
    expect(errorOf((await startSignIn(webCca(), browser, [apiScope()], { prompt: 'none' })).page)).toBe('interaction_required');
    authority.clearPolicies();
    const silent = await startSignIn(webCca(), browser, [apiScope()], { prompt: 'none' });
    expect(new URL(silent.page.location!).searchParams.get('code')).toBeTruthy();
  });
});

describe('sign-out, back-channel logout and revocation', () => {
  it('ends the authority session, posts a logout token to the client, and redirects only to a registered post_logout_redirect_uri', async () => {
    const user = newUser();
    const cca = webCca();
    const browser = new ScriptedBrowser();
    const { result } = await signIn(cca, browser, user);
    const sid = decodeJwt(result.idToken).sid;
    const logout = (params: Record<string, string>) => browser.get(`${authority.instance}${authority.tenantId}/oauth2/v2.0/logout?${new URLSearchParams(params)}`);
    const page = await logout({ client_id: webApp.clientId, post_logout_redirect_uri: 'https://evil.test/after', state: 'x' });
    expect(page.status).toBe(200);
    expect(page.title).toBe('You have signed out');
    expect(page.location).toBeUndefined();
    expect(browser.cookies.size).toBe(0);
    expect(logoutTokens).toHaveLength(1);
    const token = logoutTokens[0]!;
    expect(decodeProtectedHeader(token)).toMatchObject({ typ: 'logout+jwt', alg: 'RS256', kid: authority.activeKey.kid });
    const jwks = createRemoteJWKSet(new URL(`${authority.instance}${authority.tenantId}/discovery/v2.0/keys`));
    const { payload } = await jwtVerify(token, jwks, { issuer: authority.issuerV2(), audience: webApp.clientId, typ: 'logout+jwt' });
    expect(payload).toMatchObject({ sub: pairwiseSubject(user.oid, webApp.clientId), sid, events: { 'http://schemas.openid.net/event/backchannel-logout': {} } });
    expect(payload.exp! - payload.iat!).toBe(120);
    expect(typeof payload.jti).toBe('string');
    expect(payload.nonce).toBeUndefined();
    const again = await startSignIn(cca, browser, [apiScope()]);
    expect(again.page.title).toBe('Sign in');
    const revoked = await rejectionOf(cca.acquireTokenSilent({ account: result.account!, scopes: [apiScope()], forceRefresh: true }));
    expect(revoked).toBeInstanceOf(InteractionRequiredAuthError);
    expect(revoked.errorMessage).toMatch(/AADSTS50173/);
    const second = await signIn(cca, new ScriptedBrowser(), user);
    expect(second.titles).toEqual(['Sign in']);
    const followed = await new ScriptedBrowser().get(`${authority.instance}${authority.tenantId}/oauth2/v2.0/logout?${new URLSearchParams({ id_token_hint: second.result.idToken, post_logout_redirect_uri: SIGNED_OUT_URI, state: 'x' })}`);
    expect(followed.status).toBe(302);
    expect(followed.location).toBe(`${SIGNED_OUT_URI}?state=x`);
  });

  it('backchannelLogout({ oid }) reports the delivery status and ends the sessions', async () => {
    const user = newUser();
    const browser = new ScriptedBrowser();
    await signIn(webCca(), browser, user);
    const deliveries = await authority.backchannelLogout({ oid: user.oid });
    expect(deliveries).toEqual([{ clientId: webApp.clientId, uri: webApp.backchannelLogoutUri, status: 200 }]);
    expect((await startSignIn(webCca(), browser, [apiScope()])).page.title).toBe('Sign in');
  });

  it('refuses a back-channel logout URI that is not on a loopback host', () => {
    expect(() => authority.registerApp({ clientId: randomUUID(), backchannelLogoutUri: 'https://rp.example.com/logout' })).toThrow(/loopback/);
  });

  it('revokeUser refuses the refresh token with AADSTS50173 and needs the password again; an unknown refresh token is AADSTS700082', async () => {
    const user = newUser();
    const cca = webCca();
    const browser = new ScriptedBrowser();
    const { result } = await signIn(cca, browser, user);
    authority.revokeUser(user.oid);
    const error = await rejectionOf(cca.acquireTokenSilent({ account: result.account!, scopes: [apiScope()], forceRefresh: true }));
    expect(error).toBeInstanceOf(InteractionRequiredAuthError);
    expect(error.subError).toBe('bad_token');
    expect((await startSignIn(cca, browser, [apiScope()])).page.title).toBe('Sign in');
    const unknown = await postToken({ grant_type: 'refresh_token', client_id: webApp.clientId, client_secret: WEB_SECRET, refresh_token: 'never-issued', scope: apiScope() });
    expect(unknown.body).toMatchObject({ error: 'invalid_grant', suberror: 'bad_token' });
    expect(unknown.body.error_description).toMatch(/^AADSTS700082/);
  });

  it('mintLogoutToken mints with the given claims and overrides', () => {
    const token = authority.mintLogoutToken(webApp.clientId, { sid: 'abc', nonce: 'n', events: undefined });
    expect(decodeJwt(token)).toMatchObject({ aud: webApp.clientId, sid: 'abc', nonce: 'n' });
    expect(decodeJwt(token).events).toBeUndefined();
  });
});

describe('token faults and counters', () => {
  it('lets token faults target the refresh_token grant and counts the authorize and end-session requests', async () => {
    const user = newUser();
    const cca = webCca();
    authority.resetCounters();
    const { result } = await signIn(cca, new ScriptedBrowser(), user);
    expect(authority.requests.authorize).toBe(3);
    authority.injectTokenFault({ kind: 'consent-required' }, { grant: 'refresh_token', oid: user.oid, times: 1 });
    const error = await rejectionOf(cca.acquireTokenSilent({ account: result.account!, scopes: [apiScope()], forceRefresh: true }));
    expect(error.subError).toBe('consent_required');
    await new ScriptedBrowser().get(`${authority.instance}${authority.tenantId}/oauth2/v2.0/logout`);
    expect(authority.requests.endSession).toBe(1);
  });
});
