// The web app half over HTTP: sign-in with the authorization code flow and PKCE against the local
// authority through msal-node, the session cookie, the refusals of the callback, return URLs,
// incremental consent and a Conditional Access challenge raised by the Downstream API, sign-out and
// back-channel logout. An HttpBrowser plays the browser; the authority's pages are answered as a
// user would. The browser-driven version of the same journeys is web-app-browser.e2e-spec.ts.
import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { HttpBrowser, formsOf, type Hop } from './support/http-browser.js';
import { WebAppTokenAcquisition } from 'nestjs-obo';
import { WebAppStore } from '../libs/obo/src/web-app/session/web-app-store.js';
import { partitionKey } from '../libs/obo/src/web-app/sign-in/user-token-partition.js';
import { CapturingLogger } from './support/capturing-logger.js';
import { throughAuthority } from './support/sign-in-steps.js';
import { startWebAppChain, type WebAppChain } from './support/web-app-chain.js';

const ADELE = { username: 'adele@contoso.test', password: 'Passw0rd!' };
const COOKIE = 'obo-session';

let web: WebAppChain;
let authorityOrigin: string;
/** Every log call of the web app, at every level, during the whole file. */
const logger = new CapturingLogger();
/** Every browser of the file, for the secrets they saw (cookies, codes). */
const browsers: HttpBrowser[] = [];

/** A state-changing route of the app's own, behind the module's guard. */
@Controller('notes')
class NotesController {
  readonly saved: string[] = [];

  @Post()
  @HttpCode(204)
  save(@Body() body: { text?: string }): void {
    this.saved.push(body.text ?? '');
  }
}

beforeAll(async () => {
  web = await startWebAppChain({}, logger, [NotesController]);
  authorityOrigin = new URL(web.chain.authority.instance).origin;
});
afterAll(() => web?.close());

const last = (hops: Hop[]) => hops[hops.length - 1]!;

/** Signs `user` in through `/profile` (or `start`) and returns the browser and every hop. */
async function signIn(user = ADELE, start = '/profile'): Promise<{ browser: HttpBrowser; hops: Hop[] }> {
  const browser = new HttpBrowser();
  browsers.push(browser);
  const first = await browser.navigate(`${web.url}${start}`);
  const { hops } = await throughAuthority(browser, first, authorityOrigin, user);
  return { browser, hops: [...first, ...hops] };
}

describe('#123 sign-in: authorization code flow with PKCE, state and nonce; the session id changes at sign-in', () => {
  it('sends a signed-out browser to the authority with S256 PKCE, state, nonce and the configured redirect URI, then back to the page it asked for', async () => {
    const browser = new HttpBrowser();
    const hops = await browser.navigate(`${web.url}/profile`);
    expect(hops[0]).toMatchObject({ status: 302, location: '/auth/sign-in?returnUrl=%2Fprofile' });
    const authorize = new URL(hops[1]!.location!);
    expect(authorize.origin).toBe(authorityOrigin);
    expect(authorize.pathname).toBe(`/${web.chain.authority.tenantId}/oauth2/v2.0/authorize`);
    const params = authorize.searchParams;
    expect(params.get('response_type')).toBe('code');
    expect(params.get('client_id')).toBe(web.webAppId);
    expect(params.get('redirect_uri')).toBe(`${web.url}/auth/redirect`);
    expect(params.get('code_challenge_method')).toBe('S256');
    expect(params.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(params.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(params.get('nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(params.get('scope')!.split(' ')).toEqual(expect.arrayContaining(['openid', 'profile', 'offline_access', web.originalScope]));
    // Nothing secret in the URL: no verifier, no token.
    expect(authorize.href).not.toMatch(/code_verifier|client_secret|eyJ[A-Za-z0-9_-]{8,}\./);

    const { hops: rest } = await throughAuthority(browser, hops, authorityOrigin, ADELE);
    const callback = rest.find((hop) => hop.url.startsWith(`${web.url}/auth/redirect`))!;
    expect(callback.status).toBe(302);
    expect(callback.location).toBe('/profile');
    const page = last(rest);
    expect(page.status).toBe(200);
    expect(page.body).toContain('The same user at all three hops.');
    expect(page.body).toContain('Adele Vance');
  });

  it('gives the browser a new session id at sign-in, so a session id planted before it is worth nothing (fixation)', async () => {
    const browser = new HttpBrowser();
    const first = await browser.navigate(`${web.url}/auth/sign-in?returnUrl=%2Fprofile`);
    const planted = browser.cookie(web.url, COOKIE);
    expect(planted).toBeDefined();
    await throughAuthority(browser, first, authorityOrigin, ADELE);
    const after = browser.cookie(web.url, COOKIE);
    expect(after).toBeDefined();
    expect(after).not.toBe(planted);
    // The attacker who planted the first id (or read it before sign-in) is not signed in with it.
    const attacker = new HttpBrowser();
    attacker.setCookie(web.url, COOKIE, planted!);
    const hop = await attacker.request(`${web.url}/profile`);
    expect(hop.status).toBe(302);
    expect(hop.location).toMatch(/^\/auth\/sign-in/);
  });
});

describe('#124 the session cookie', () => {
  it('is HttpOnly, SameSite=Lax and Path=/, and carries an opaque id only', async () => {
    const { browser } = await signIn();
    const line = browser.history.flatMap((hop) => hop.setCookies).filter((c) => c.startsWith(`${COOKIE}=`)).pop()!;
    expect(line).toMatch(/;\s*HttpOnly/i);
    expect(line).toMatch(/;\s*SameSite=Lax/i);
    expect(line).toMatch(/;\s*Path=\//i);
    expect(line).not.toMatch(/Domain=/i);
    expect(browser.cookie(web.url, COOKIE)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('treats a tampered or unknown session cookie as no session', async () => {
    const { browser } = await signIn();
    const id = browser.cookie(web.url, COOKIE)!;
    const tampered = `${id.slice(0, -1)}${id.endsWith('A') ? 'B' : 'A'}`;
    browser.setCookie(web.url, COOKIE, tampered);
    const hop = await browser.request(`${web.url}/profile`);
    expect(hop.status).toBe(302);
    expect(hop.location).toMatch(/^\/auth\/sign-in/);
  });
});

describe('#125 the callback refuses what it did not start', () => {
  it('refuses an unknown state, and a replayed callback (state and code used once)', async () => {
    const browser = new HttpBrowser();
    const first = await browser.navigate(`${web.url}/auth/sign-in?returnUrl=%2Fprofile`);
    const { hops } = await throughAuthority(browser, first, authorityOrigin, ADELE);
    const callback = hops.find((hop) => hop.url.startsWith(`${web.url}/auth/redirect`))!;
    const replay = await browser.request(callback.url);
    expect(replay.status).toBe(400);
    expect(replay.body).not.toContain(new URL(callback.url).searchParams.get('code')!);
    const wrongState = new URL(callback.url);
    wrongState.searchParams.set('state', 'A'.repeat(43));
    expect((await browser.request(wrongState.href)).status).toBe(400);
  });

  it('refuses a callback arriving in another browser than the one that started the sign-in', async () => {
    const victim = new HttpBrowser();
    const first = await victim.navigate(`${web.url}/auth/sign-in`);
    const authorize = first.find((hop) => hop.location?.startsWith(authorityOrigin))!;
    const attacker = new HttpBrowser();
    // The attacker signs in at the authority with the victim's authorization request and hands the callback URL over: login CSRF.
    const attackerHops = await attacker.navigate(authorize.location!);
    const { hops } = await throughAuthority(attacker, attackerHops, authorityOrigin, { username: 'megan@contoso.test', password: 'Passw0rd!' });
    const callback = hops.find((hop) => hop.url.startsWith(`${web.url}/auth/redirect`))!;
    expect(callback.status).toBe(400); // the attacker's browser has no such pending sign-in
    const outsider = new HttpBrowser();
    expect((await outsider.request(callback.url)).status).toBe(400);
  });

  it('refuses an ID token whose nonce is not the one of the pending sign-in (msal-node checks it; 400, nobody signed in)', async () => {
    const browser = new HttpBrowser();
    browsers.push(browser);
    const first = await browser.navigate(`${web.url}/auth/sign-in?returnUrl=%2Fprofile`);
    // The authorization request as sent, but with another nonce: the authority binds the code (and
    // the ID token it will issue) to that nonce, while the web app expects its own.
    const authorize = new URL(first.find((hop) => hop.location?.startsWith(authorityOrigin))!.location!);
    authorize.searchParams.set('nonce', 'B'.repeat(43));
    const hops = await browser.navigate(authorize.href);
    const { hops: rest } = await throughAuthority(browser, hops, authorityOrigin, ADELE);
    const callback = rest.find((hop) => hop.url.startsWith(`${web.url}/auth/redirect`))!;
    expect(callback.status).toBe(400);
    expect((await browser.request(`${web.url}/profile`)).status).toBe(302);
  });

  it('shows the authority\u2019s refusal as a page, without reflecting its text', async () => {
    const browser = new HttpBrowser();
    const first = await browser.navigate(`${web.url}/auth/sign-in`);
    const state = new URL(first.find((hop) => hop.location?.startsWith(authorityOrigin))!.location!).searchParams.get('state')!;
    const hop = await browser.request(`${web.url}/auth/redirect?error=server_error&error_description=%3Cscript%3Ealert(1)%3C/script%3E&state=${state}`);
    expect(hop.status).toBe(400);
    expect(hop.body).not.toContain('<script>');
    expect(hop.headers.get('cache-control')).toBe('no-store');
  });
});

describe('#126 the return URL after sign-in is a local path', () => {
  it.each(['https://evil.example/', '//evil.example/', '/\\evil.example', 'javascript:alert(1)', '/%2F%2Fevil.example'])('lands on / for returnUrl=%s', async (returnUrl) => {
    const { hops } = await signIn(ADELE, `/auth/sign-in?returnUrl=${encodeURIComponent(returnUrl)}`);
    const callback = hops.find((hop) => hop.url.startsWith(`${web.url}/auth/redirect`))!;
    expect(callback.location).toBe('/');
  });
});

describe('#127 tokens acquired silently from the user\u2019s own cache partition', () => {
  it('serves a second page from the cache: no token request at the authority', async () => {
    const { browser } = await signIn();
    const before = web.chain.authority.tokenRequestLog.length;
    const hop = await browser.request(`${web.url}/profile`);
    expect(hop.status).toBe(200);
    // The Original API's own OBO token is cached too, so nothing reached the token endpoint.
    expect(web.chain.authority.tokenRequestLog.length).toBe(before);
  });
});

describe('#127 one user\u2019s concurrent silent requests', () => {
  it('writes the partition back only after a refresh, and makes one refresh for concurrent forced requests', async () => {
    await signIn();
    const adele = web.chain.authority.user('adele@contoso.test')!;
    const account = { accountKey: `${adele.oid}.${web.chain.authority.tenantId}`, issuer: '', subject: '' };
    const store = web.app.get(WebAppStore);
    const tokens = web.app.get(WebAppTokenAcquisition);
    const write = store.set.bind(store);
    let writes = 0;
    store.set = (...args) => {
      writes++;
      return write(...args);
    };
    try {
      const hit = await tokens.getAuthenticationResultForUser([web.originalScope], { account });
      expect(hit.fromCache).toBe(true);
      expect(writes).toBe(0);
      const refreshesBefore = web.chain.authority.tokenRequests.refreshToken;
      const [a, b] = await Promise.all([1, 2].map(() => tokens.getAuthenticationResultForUser([web.originalScope], { account, forceRefresh: true })));
      expect(a!.fromCache).toBe(false);
      expect(b!.accessToken).toBe(a!.accessToken);
      expect(web.chain.authority.tokenRequests.refreshToken).toBe(refreshesBefore + 1);
      expect(writes).toBe(1);
    } finally {
      store.set = write;
    }
  });
});

describe('#128 incremental consent with @AuthorizeForScopes', () => {
  it('shows the consent page for a scope not consented at sign-in, once, and the page then renders', async () => {
    const { browser } = await signIn({ username: 'megan@contoso.test', password: 'Passw0rd!' });
    const first = await browser.navigate(`${web.url}/reports`);
    const toAuthority = new URL(first.find((hop) => hop.location?.startsWith(authorityOrigin))!.location!);
    expect(toAuthority.searchParams.get('scope')).toContain(web.chain.downstreamScope);
    const { hops, pages } = await throughAuthority(browser, first, authorityOrigin, { username: 'megan@contoso.test', password: 'Passw0rd!' });
    expect(pages).toEqual(['consent']);
    expect(last(hops).status).toBe(200);
    expect(last(hops).body).toContain(web.webAppId); // the Downstream API saw the web app as the client
    const again = await browser.navigate(`${web.url}/reports`);
    expect(again.map((hop) => hop.status)).toEqual([200]);
  });

  it('answers 403 with a page when the user declines consent', async () => {
    const { browser } = await signIn({ username: 'alex@contoso.test', password: 'Passw0rd!' });
    const first = await browser.navigate(`${web.url}/reports`);
    const { hops } = await throughAuthority(browser, first, authorityOrigin, { username: 'alex@contoso.test', password: 'Passw0rd!', declineConsent: true });
    expect(last(hops).status).toBe(403);
  });
});

describe('#129 a Conditional Access challenge raised three hops away', () => {
  it('relays the Downstream API\u2019s claims challenge to the browser, asks for MFA, and the page then renders', async () => {
    const { browser } = await signIn();
    const first = await browser.navigate(`${web.url}/secure`);
    const toAuthority = first.find((hop) => hop.location?.startsWith(authorityOrigin));
    expect(toAuthority).toBeDefined();
    const claims = new URL(toAuthority!.location!).searchParams.get('claims');
    expect(JSON.parse(claims!)).toMatchObject({ access_token: { acrs: { essential: true, value: 'c1' } } });
    const { hops, pages } = await throughAuthority(browser, first, authorityOrigin, ADELE);
    expect(pages).toEqual(['mfa']);
    const page = last(hops);
    expect(page.status).toBe(200);
    expect(page.body).toContain('The same user at all three hops.');
  });
});

describe('#130 sign-out', () => {
  it('refuses a sign-out without the session\u2019s CSRF token, or from another site', async () => {
    const { browser } = await signIn();
    expect((await browser.request(`${web.url}/auth/sign-out`, 'POST', {})).status).toBe(403);
    const token = formsOf((await browser.request(`${web.url}/`)).body).find((form) => form.action === '/auth/sign-out')!.fields._csrf!;
    expect((await browser.request(`${web.url}/auth/sign-out`, 'POST', { _csrf: token }, { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await browser.request(`${web.url}/profile`)).status).toBe(200); // still signed in
  });

  it('ends the session, purges the user\u2019s tokens and goes to the authority\u2019s end-session endpoint', async () => {
    const { browser } = await signIn();
    const adele = web.chain.authority.user('adele@contoso.test')!;
    const partition = partitionKey(`${adele.oid}.${web.chain.authority.tenantId}`);
    const store = web.app.get(WebAppStore);
    expect(await store.get(partition)).toBeDefined(); // msal-node's cache of this one user: refresh token included
    const token = formsOf((await browser.request(`${web.url}/`)).body).find((form) => form.action === '/auth/sign-out')!.fields._csrf!;
    const hop = await browser.request(`${web.url}/auth/sign-out`, 'POST', { _csrf: token });
    expect(hop.status).toBe(303);
    const endSession = new URL(hop.location!);
    expect(endSession.origin).toBe(authorityOrigin);
    expect(endSession.pathname).toMatch(/\/oauth2\/v2\.0\/logout$/);
    expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(`${web.url}/`);
    expect(endSession.href).not.toMatch(/id_token_hint|eyJ/); // no token in a URL
    expect(browser.cookie(web.url, COOKIE)).toBeUndefined();
    expect(await store.get(partition)).toBeUndefined();
    const after = await browser.request(`${web.url}/profile`);
    expect(after.status).toBe(302);
  });
});

describe('#134 CSRF on the app\u2019s own state-changing routes', () => {
  it('refuses a signed-in POST without the session\u2019s CSRF token, or from another site, and accepts it with the token', async () => {
    const { browser } = await signIn();
    const notes = web.app.get(NotesController);
    const token = formsOf((await browser.request(`${web.url}/`)).body).find((form) => form.action === '/auth/sign-out')!.fields._csrf!;
    expect((await browser.request(`${web.url}/notes`, 'POST', { text: 'forged' })).status).toBe(403);
    expect((await browser.request(`${web.url}/notes`, 'POST', { text: 'forged', _csrf: 'A'.repeat(43) })).status).toBe(403);
    expect((await browser.request(`${web.url}/notes`, 'POST', { text: 'cross-site', _csrf: token }, { origin: 'https://evil.example' })).status).toBe(403);
    expect(notes.saved).toEqual([]);
    expect((await browser.request(`${web.url}/notes`, 'POST', { text: 'mine', _csrf: token })).status).toBe(204);
    expect((await browser.request(`${web.url}/notes`, 'POST', { text: 'by header' }, { 'x-csrf-token': token })).status).toBe(204);
    expect(notes.saved).toEqual(['mine', 'by header']);
  });

  it('answers 401 to a POST without a session (no redirect for a request whose body would be lost)', async () => {
    const hop = await new HttpBrowser().request(`${web.url}/notes`, 'POST', { text: 'anonymous' });
    expect(hop.status).toBe(401);
  });
});

describe('#131 OpenID Connect back-channel logout', () => {
  it('ends the user\u2019s session when the authority sends a logout token', async () => {
    const { browser } = await signIn({ username: 'megan@contoso.test', password: 'Passw0rd!' });
    expect((await browser.request(`${web.url}/profile`)).status).toBe(200);
    const megan = web.chain.authority.user('megan@contoso.test')!;
    const deliveries = await web.chain.authority.backchannelLogout({ oid: megan.oid });
    expect(deliveries.some((d) => d.status === 200)).toBe(true);
    const after = await browser.request(`${web.url}/profile`);
    expect(after.status).toBe(302);
  });

  it('answers 400 invalid_request to a forged or replayed logout token, and ends nothing', async () => {
    const { browser } = await signIn();
    const adele = web.chain.authority.user('adele@contoso.test')!;
    const forged = web.chain.authority.mintLogoutToken(web.webAppId, { sub: adele.oid, aud: 'someone-else' });
    const response = await fetch(`${web.url}/auth/backchannel-logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ logout_token: forged }) });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_request' });
    expect((await browser.request(`${web.url}/profile`)).status).toBe(200);
  });

  it('accepts a logout token once: the same token again is refused (jti replay)', async () => {
    const token = web.chain.authority.mintLogoutToken(web.webAppId, { sub: 'nobody-signed-in' });
    const post = () => fetch(`${web.url}/auth/backchannel-logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ logout_token: token }) });
    expect((await post()).status).toBe(200);
    expect((await post()).status).toBe(400);
  });
});

describe('#132 no token, code, cookie or secret in a log', () => {
  it('logged none of the session cookies, authorization codes, tokens or the client secret seen in this file', () => {
    const secrets = new Set<string>([web.webAppSecret]);
    for (const browser of browsers) {
      for (const cookies of browser.jar.values()) for (const value of cookies.values()) if (value.length >= 16) secrets.add(value);
      for (const hop of browser.history) {
        const code = new URL(hop.url).searchParams.get('code');
        if (code) secrets.add(code);
        for (const line of hop.setCookies) {
          const value = line.split(';')[0]!.split('=').slice(1).join('=');
          if (value.length >= 16) secrets.add(value);
        }
      }
    }
    expect(browsers.length).toBeGreaterThan(5);
    expect(logger.entries.length).toBeGreaterThan(0); // the sign-in refusals above were logged
    const text = logger.lines.join('\n');
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{8,}\./);
  });
});
