// The browser harness the web-app tests drive (test/support/browser.ts): Debian's chromium trusts the
// local authority's loopback certificate by its public key and nothing else, and writes screenshots.
import { readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { certificateFromEnvironment, ensureDevCertificate, type DevCertificate } from 'nestjs-obo/testing';
import { startBrowser, type BrowserHarness } from './support/browser.js';

const PAGE = '<!doctype html><title>harness</title><h1 id="greeting">Hello from 127.0.0.1</h1>';

async function serve(tls: DevCertificate): Promise<{ server: Server; origin: string }> {
  const server = createServer({ key: tls.key, cert: tls.cert }, (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE));
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  return { server, origin: `https://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

let browser: BrowserHarness;
let ours: { server: Server; origin: string };
let other: { server: Server; origin: string };
let otherCertificate: DevCertificate;

beforeAll(async () => {
  const local = certificateFromEnvironment();
  if (!local) throw new Error('run with node scripts/test.mjs (LOCAL_AUTHORITY_TLS_DIR)');
  // The same subject and addresses (CN localhost, SAN 127.0.0.1), a different key: only the key tells them apart.
  otherCertificate = ensureDevCertificate();
  ours = await serve(local);
  other = await serve(otherCertificate);
  browser = await startBrowser();
});

afterAll(async () => {
  await browser?.close();
  if (ours) await stop(ours.server);
  if (other) await stop(other.server);
  if (otherCertificate) rmSync(dirname(otherCertificate.certPath), { recursive: true, force: true });
});

describe('the browser harness', () => {
  it('loads a page from a loopback https server with the local authority certificate', async () => {
    const page = await browser.newPage();
    const response = await page.goto(`${ours.origin}/`);
    expect(response?.status()).toBe(200);
    await expect(page.locator('#greeting').textContent()).resolves.toBe('Hello from 127.0.0.1');
  });

  it('refuses a server with another self-signed certificate for the same names (no blanket ignoreHTTPSErrors)', async () => {
    const page = await browser.newPage();
    await expect(page.goto(`${other.origin}/`)).rejects.toThrow(/net::ERR_CERT_AUTHORITY_INVALID/);
  });

  it('writes numbered PNG screenshots under test-output/screenshots/<spec>/', async () => {
    const page = await browser.newPage();
    await page.goto(`${ours.origin}/`);
    const first = await browser.screenshot(page, 'greeting page');
    const second = await browser.screenshot(page, 'again');
    expect(first).toBe(`${browser.screenshotDir}/01-greeting-page.png`);
    expect(second).toBe(`${browser.screenshotDir}/02-again.png`);
    expect(browser.screenshotDir).toMatch(/\/test-output\/screenshots\/browser-harness$/);
    // The PNG signature (RFC 2083): a real image file, not an empty one.
    expect(readFileSync(first).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  });

  it('gives each page a fresh context: cookies of one page are not seen by the next', async () => {
    const first = await browser.newPage();
    await first.goto(`${ours.origin}/`);
    await first.context().addCookies([{ name: 'probe', value: '1', url: ours.origin }]);
    const second = await browser.newPage();
    await second.goto(`${ours.origin}/`);
    expect(await first.context().cookies()).toHaveLength(1);
    expect(await second.context().cookies()).toEqual([]);
  });
});
