// Catalogue #102 (run time): msal-node refuses an authority whose discovery document names an
// issuer on a host it does not trust (External ID/CIAM: the issuer host is <tenant-guid>.ciamlogin.com,
// not the configured one) with an opaque endpoints_resolution_error and sends no token request.
// Here the "instance" is a small https server on 127.0.0.1 that serves the local authority's own
// discovery document verbatim, so its issuer (and token endpoint) are on another host:port.
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { certificateFromEnvironment, LocalAuthority } from 'nestjs-obo/testing';
import { CapturingLogger } from './support/capturing-logger.js';
import { expectCleanError } from './support/expect-clean-error.js';
import { one, send } from './support/http-reply.js';
import { startOboChain, type OboChain } from './support/obo-chain.js';

/** An https front on loopback serving only the v2.0 discovery documents of `authority`, copied byte for byte. */
async function startDiscoveryFront(authority: LocalAuthority): Promise<{ url: string; discoveryGets: () => number; close: () => Promise<void> }> {
  const tls = certificateFromEnvironment();
  if (!tls) throw new Error('Run through scripts/test.mjs (LOCAL_AUTHORITY_TLS_DIR).');
  let gets = 0;
  const server: Server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const path = new URL(req.url ?? '/', 'https://front/').pathname;
    if (req.method !== 'GET' || !/^\/[^/]+\/v2\.0\/\.well-known\/openid-configuration$/.test(path)) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
      return;
    }
    gets++;
    fetch(new URL(path.slice(1), authority.instance)).then(
      async (upstream) => res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(await upstream.text()),
      () => res.destroy(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}/`,
    discoveryGets: () => gets,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('#102 msal-node cannot resolve the authority (issuer on another host)', () => {
  let authority: LocalAuthority;
  let front: Awaited<ReturnType<typeof startDiscoveryFront>>;
  let issuerHost: string;

  beforeAll(async () => {
    authority = await LocalAuthority.start();
    front = await startDiscoveryFront(authority);
    issuerHost = new URL(authority.instance).host;
  }, 30_000);
  afterAll(async () => {
    await front?.close();
    await authority?.close();
  });

  describe('without knownAuthorities', () => {
    let chain: OboChain;
    const capture = new CapturingLogger();
    beforeAll(async () => {
      chain = await startOboChain({ authority, original: { instance: front.url, acceptedTokenVersions: ['2.0'] } });
      chain.original.app.useLogger(capture);
    }, 30_000);
    afterAll(() => chain?.close());

    it('answers 503 with Retry-After, logs one line naming the host to add, and sends no discovery or token request per call while it remembers', async () => {
      authority.resetCounters();
      const first = await send(`${chain.original.url}/api/profile`, chain.userToken());
      expectCleanError(first, 503, 'ERR_OBO_PROVIDER_UNAVAILABLE', chain.clientSecret);
      expect(one(first, 'retry-after')).toBe('30');
      const lines = capture.entries.filter((e) => e.level === 'warn' || e.level === 'error' || e.level === 'fatal');
      expect(lines.map((l) => l.text)).toEqual([
        expect.stringMatching(new RegExp(`ERR_OBO_PROVIDER_UNAVAILABLE .*names the issuer https://${issuerHost.replace(/\./g, '\\.')}/.*add "${issuerHost.replace(/\./g, '\\.')}" to the knownAuthorities option`)),
      ]);
      const gets = front.discoveryGets();
      for (let i = 0; i < 3; i++) {
        const again = await send(`${chain.original.url}/api/profile`, chain.userToken());
        expectCleanError(again, 503, 'ERR_OBO_PROVIDER_UNAVAILABLE', chain.clientSecret);
        expect(Number(one(again, 'retry-after'))).toBeGreaterThanOrEqual(1);
        expect(Number(one(again, 'retry-after'))).toBeLessThanOrEqual(30);
      }
      expect(front.discoveryGets()).toBe(gets);
      expect(authority.requests.token).toBe(0);
      expect(capture.entries.filter((e) => e.level === 'warn' || e.level === 'error')).toHaveLength(1);
    });
  });

  describe('without knownAuthorities, a cold burst', () => {
    let chain: OboChain;
    const capture = new CapturingLogger();
    beforeAll(async () => {
      chain = await startOboChain({ authority, original: { instance: front.url, acceptedTokenVersions: ['2.0'] } });
      chain.original.app.useLogger(capture);
    }, 30_000);
    afterAll(() => chain?.close());

    it('answers every concurrent caller 503 and still logs the cause once', async () => {
      const replies = await Promise.all(Array.from({ length: 5 }, () => send(`${chain.original.url}/api/profile`, chain.userToken())));
      expect(replies.map((r) => r.status)).toEqual([503, 503, 503, 503, 503]);
      const lines = capture.entries.filter((e) => e.level === 'warn' || e.level === 'error' || e.level === 'fatal');
      expect(lines).toHaveLength(1);
      expect(lines[0]!.text).toMatch(/to the knownAuthorities option/);
    });
  });

  describe('with the issuer host in knownAuthorities', () => {
    let chain: OboChain;
    beforeAll(async () => {
      chain = await startOboChain({ authority, original: { instance: front.url, acceptedTokenVersions: ['2.0'], knownAuthorities: [issuerHost.toUpperCase()] } });
    }, 30_000);
    afterAll(() => chain?.close());

    it('resolves the authority and gets the token On-Behalf-Of the user: 200', async () => {
      authority.resetCounters();
      const reply = await send(`${chain.original.url}/api/profile`, chain.userToken());
      expect(reply.status).toBe(200);
      expect(authority.tokenRequests.onBehalfOf).toBe(1);
    });
  });
});
