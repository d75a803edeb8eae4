// A real browser for the web-app tests: Debian's chromium (never a downloaded one) driven by
// playwright-core. It trusts exactly the test certificates it is given, by the SHA-256 of their public
// keys (`--ignore-certificate-errors-spki-list`), not every certificate (no `ignoreHTTPSErrors`): a
// server with any other key is still refused. Screenshots of each step go to
// `test-output/screenshots/<spec>/<nn>-<name>.png` (git-ignored).
import { X509Certificate, createHash } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { certificateFromEnvironment } from 'nestjs-obo/testing';

/** Debian's chromium package (`scripts/test.mjs` and `.ci/run` install it with apt-get when missing). */
export const CHROMIUM_PATH = '/usr/bin/chromium';
/** How long launching the browser may take, ms. */
const LAUNCH_TIMEOUT_MS = 30_000;
/** Every page action and wait (click, fill, waitFor...), ms. */
const ACTION_TIMEOUT_MS = 10_000;
/** Every navigation, ms. */
const NAVIGATION_TIMEOUT_MS = 15_000;

const ROOT = resolve(import.meta.dirname, '..', '..');

/** Options of {@link startBrowser}. */
export interface BrowserOptions {
  /**
   * PEM certificates of the https servers the pages may load, trusted by their public keys only.
   * Default: the local authority's loopback certificate (`LOCAL_AUTHORITY_TLS_DIR`, set by `scripts/test.mjs`).
   */
  readonly trust?: readonly string[];
  /** Folder name under `test-output/screenshots/`. Default: the running spec's file name without `.e2e-spec.ts`. */
  readonly spec?: string;
}

/** A launched chromium with one fresh context per page; `close()` it in `afterAll`. */
export interface BrowserHarness {
  readonly browser: Browser;
  /** A page in a new, empty context (no cookies, no storage shared with any other page). */
  newPage(): Promise<Page>;
  /** Writes a full-page PNG of `page` as `<nn>-<name>.png` (`nn` counts up from 01); returns its path. */
  screenshot(page: Page, name: string): Promise<string>;
  /** The folder the screenshots go to. */
  readonly screenshotDir: string;
  /** Closes every context and the browser. */
  close(): Promise<void>;
}

/** Base64 of the SHA-256 of a certificate's SubjectPublicKeyInfo (DER): what `--ignore-certificate-errors-spki-list` takes. */
export function spkiHash(pem: string): string {
  const spki = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

function defaultTrust(): string[] {
  const local = certificateFromEnvironment();
  if (!local) throw new Error('startBrowser: no LOCAL_AUTHORITY_TLS_DIR; run the tests with `node scripts/test.mjs`, which sets it');
  return [local.cert];
}

function specName(): string {
  const path = expect.getState().testPath;
  if (!path) throw new Error('startBrowser: not inside a jest test file; pass `spec`');
  return basename(path).replace(/\.(e2e-)?spec\.ts$/, '');
}

/**
 * Launches headless chromium ({@link CHROMIUM_PATH}) trusting `options.trust` by public key, with
 * bounded launch, action and navigation timeouts. Clears the spec's screenshot folder first.
 */
export async function startBrowser(options: BrowserOptions = {}): Promise<BrowserHarness> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`startBrowser: ${CHROMIUM_PATH} is missing; install Debian's chromium (apt-get install chromium), as scripts/test.mjs does`);
  }
  const trust = options.trust ?? defaultTrust();
  const screenshotDir = join(ROOT, 'test-output', 'screenshots', options.spec ?? specName());
  rmSync(screenshotDir, { recursive: true, force: true });
  mkdirSync(screenshotDir, { recursive: true });
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    timeout: LAUNCH_TIMEOUT_MS,
    args: [
      `--ignore-certificate-errors-spki-list=${trust.map(spkiHash).join(',')}`,
      // Pages reach only loopback servers: no proxy, and no name but loopback ones resolves.
      '--no-proxy-server',
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE [::1], EXCLUDE localhost',
      '--disable-dev-shm-usage',
    ],
  });
  const contexts = new Set<BrowserContext>();
  let shots = 0;
  return {
    browser,
    screenshotDir,
    async newPage() {
      const context = await browser.newContext({ viewport: { width: 1024, height: 768 } });
      context.setDefaultTimeout(ACTION_TIMEOUT_MS);
      context.setDefaultNavigationTimeout(NAVIGATION_TIMEOUT_MS);
      contexts.add(context);
      context.once('close', () => contexts.delete(context));
      return context.newPage();
    },
    async screenshot(page, name) {
      shots += 1;
      const file = join(screenshotDir, `${String(shots).padStart(2, '0')}-${name.replace(/[^a-z0-9-]+/gi, '-')}.png`);
      await page.screenshot({ path: file, fullPage: true, timeout: ACTION_TIMEOUT_MS });
      return file;
    },
    async close() {
      for (const context of [...contexts]) await context.close();
      await browser.close();
    },
  };
}
