// The web app in a real browser (Debian's chromium through playwright-core): sign in at the local
// authority's pages, the profile page showing the same user at the three hops (web app, Original
// API, Downstream API reached On-Behalf-Of), the consent page for a new scope once, a Conditional
// Access challenge raised by the Downstream API ending in an MFA step and a page that works,
// sign-out, and back-channel logout. Screenshots of each step go to test-output/screenshots/.
import type { Page } from 'playwright-core';
import { startBrowser, type BrowserHarness } from './support/browser.js';
import { startWebAppChain, type WebAppChain } from './support/web-app-chain.js';

const PASSWORD = 'Passw0rd!';

/** Each journey is a few seconds of real browser work. */
const JOURNEY_MS = 30_000;

let web: WebAppChain;
let harness: BrowserHarness;
let authorityOrigin: string;

beforeAll(async () => {
  web = await startWebAppChain();
  authorityOrigin = new URL(web.chain.authority.instance).origin;
  harness = await startBrowser();
}, 60_000);
afterAll(async () => {
  await harness?.close();
  await web?.close();
});

/** Fills the authority's sign-in page (the browser must be on it). */
async function signInAtAuthority(page: Page, username: string, shot: string): Promise<void> {
  await page.waitForURL((url) => url.origin === authorityOrigin);
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(PASSWORD);
  await harness.screenshot(page, shot);
  await page.locator('#sign-in').click();
}

/** A user of its own for one journey, who already consented to the Original API's scope. */
function consentedUser(username: string): string {
  const user = web.chain.authority.addUser({ username, password: PASSWORD, name: username.split('@')[0] });
  web.chain.authority.grantConsent(user.oid, web.webAppId, [web.originalScope]);
  return user.username;
}

/** The text of each hop's objectId on the profile page. */
async function objectIds(page: Page): Promise<string[]> {
  return Promise.all(['#hop-web-app', '#hop-original', '#hop-downstream'].map(async (id) => (await page.locator(`${id} dt:text-is("objectId") + dd`).textContent())!.trim()));
}

describe('#123 #127 #129 the web app that calls web APIs, in chromium', () => {
  it('signs a user in and shows the same user at the web app, the Original API and the Downstream API', async () => {
    const page = await harness.newPage();
    await page.goto(`${web.url}/`);
    await harness.screenshot(page, 'home-signed-out');
    await page.locator('#sign-in').click();
    await signInAtAuthority(page, 'adele@contoso.test', 'authority-sign-in');
    // The Original API's scope is new to Adele: the authority asks once.
    await page.locator('#accept').click();
    await page.waitForURL(`${web.url}/`);
    await page.goto(`${web.url}/profile`);
    await page.locator('#same-user.same').waitFor();
    await harness.screenshot(page, 'profile');
    const adele = web.chain.authority.user('adele@contoso.test')!;
    expect(await objectIds(page)).toEqual([adele.oid, adele.oid, adele.oid]);
    expect(await page.locator('#user').textContent()).toBe('Adele Vance');
    // No token in the page or its URL; the session cookie is HttpOnly (scripts cannot read it).
    expect(await page.content()).not.toMatch(/eyJ[A-Za-z0-9_-]{8,}\./);
    expect(await page.evaluate('document.cookie')).toBe('');
    await page.context().close();
  }, JOURNEY_MS);

  it('shows the consent page for a scope not yet consented, once; the page renders after it and without it next time', async () => {
    const page = await harness.newPage();
    await page.goto(`${web.url}/reports`);
    await signInAtAuthority(page, 'megan@contoso.test', 'reports-sign-in');
    await page.locator('#accept').waitFor(); // Original API scope at sign-in...
    await page.locator('#accept').click();
    await page.locator('#accept').waitFor(); // ...then the Downstream API scope the page needs
    await harness.screenshot(page, 'reports-consent');
    expect(await page.content()).toContain('Downstream.Read');
    await page.locator('#accept').click();
    await page.waitForURL(`${web.url}/reports`);
    await page.locator('#reports').waitFor();
    await harness.screenshot(page, 'reports');
    const before = web.chain.authority.requests.authorize;
    await page.goto(`${web.url}/reports`);
    await page.locator('#reports').waitFor();
    expect(web.chain.authority.requests.authorize).toBe(before); // no trip to the authority the second time
    await page.context().close();
  }, JOURNEY_MS);

  it('turns a Conditional Access challenge raised by the Downstream API into an MFA step, and the page then renders', async () => {
    const page = await harness.newPage();
    await page.goto(`${web.url}/profile`);
    await signInAtAuthority(page, consentedUser('isaiah@contoso.test'), 'secure-sign-in');
    await page.locator('#same-user.same').waitFor();
    await page.goto(`${web.url}/secure`);
    await page.locator('#approve').waitFor();
    await harness.screenshot(page, 'secure-mfa');
    await page.locator('#approve').click();
    await page.waitForURL(`${web.url}/secure`);
    await page.locator('#same-user.same').waitFor();
    await harness.screenshot(page, 'secure');
    await page.context().close();
  }, JOURNEY_MS);

  it('signs out: the session ends, the user\u2019s tokens are purged, and the authority signs the browser out', async () => {
    const page = await harness.newPage();
    await page.goto(`${web.url}/profile`);
    await signInAtAuthority(page, consentedUser('lee@contoso.test'), 'sign-out-sign-in');
    await page.locator('#same-user.same').waitFor();
    const logBefore = web.chain.authority.tokenRequestLog.length;
    await page.locator('#sign-out').click();
    await page.waitForURL(`${web.url}/`);
    await harness.screenshot(page, 'signed-out');
    expect(await page.locator('#welcome').textContent()).toContain('not signed in');
    // Signing in again needs the sign-in page (the authority's session ended too) and a new code.
    await page.goto(`${web.url}/profile`);
    await page.locator('#username').waitFor();
    expect(new URL(page.url()).origin).toBe(authorityOrigin);
    expect(web.chain.authority.tokenRequestLog.length).toBe(logBefore);
    await page.context().close();
  }, JOURNEY_MS);

  it('ends a session when the authority sends a back-channel logout token', async () => {
    const page = await harness.newPage();
    await page.goto(`${web.url}/profile`);
    await signInAtAuthority(page, consentedUser('nestor@contoso.test'), 'backchannel-sign-in');
    await page.locator('#same-user.same').waitFor();
    const nestor = web.chain.authority.user('nestor@contoso.test')!;
    const deliveries = await web.chain.authority.backchannelLogout({ oid: nestor.oid });
    expect(deliveries.map((d) => d.status)).toContain(200);
    await page.goto(`${web.url}/`);
    await harness.screenshot(page, 'after-backchannel-logout');
    expect(await page.locator('#welcome').textContent()).toContain('not signed in');
    await page.context().close();
  }, JOURNEY_MS);
});
