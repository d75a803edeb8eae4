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
interface DiscoveryFront {
  url: string;
  discoveryGets: () => number;
  /** While true the front answers 503: the API starts without metadata, so its startup check (#102) cannot run and only the run-time path is left. */
  down: boolean;
  close: () => Promise<void>;
}

async function startDiscoveryFront(authority: LocalAuthority): Promise<DiscoveryFront> {
  const tls = certificateFromEnvironment();
  if (!tls) throw new Error('Run through scripts/test.mjs (LOCAL_AUTHORITY_TLS_DIR).');
  let gets = 0;
  const server: Server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const path = new URL(req.url ?? '/', 'https://front/').pathname;
    if (front.down) {
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"temporarily_unavailable"}');
      return;
    }
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
  const front: DiscoveryFront = {
    url: `https://127.0.0.1:${port}/`,
    discoveryGets: () => gets,
    down: false,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return front;
}

/** A chain started after a cold start (see {@link startAfterColdStart}) for the enclosing describe, its logs captured from then on. */
function coldStartedChain(setup: () => { authority: LocalAuthority; front: DiscoveryFront }): { capture: CapturingLogger; current: () => OboChain } {
  const capture = new CapturingLogger();
  let chain: OboChain | undefined;
  beforeAll(async () => {
    const { authority, front } = setup();
    chain = await startAfterColdStart(authority, front);
    chain.original.app.useLogger(capture);
  }, 30_000);
  afterAll(() => chain?.close());
  return { capture, current: () => chain! };
}

/** Starts the chain while the front is down (no startup check possible), then brings the front up. */
async function startAfterColdStart(authority: LocalAuthority, front: DiscoveryFront): Promise<OboChain> {
  front.down = true;
  try {
    return await startOboChain({ authority, original: { instance: front.url, acceptedTokenVersions: ['2.0'] } });
  } finally {
    front.down = false;
  }
}

describe('#102 msal-node cannot resolve the authority (issuer on another host)', () => {
  let authority: LocalAuthority;
  let front: DiscoveryFront;
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

  // With the authority reachable at startup, this misconfiguration stops the app there
  // (test/real-authorities.e2e-spec.ts, #102); these start it while discovery is down.
  describe('without knownAuthorities', () => {
    const { capture, current } = coldStartedChain(() => ({ authority, front }));

    it('answers 503 with Retry-After, logs one line naming the host to add, and sends no discovery or token request per call while it remembers', async () => {
      authority.resetCounters();
      const first = await send(`${current().original.url}/api/profile`, current().userToken());
      expectCleanError(first, 503, 'ERR_OBO_PROVIDER_UNAVAILABLE', current().clientSecret);
      expect(one(first, 'retry-after')).toBe('30');
      const lines = capture.entries.filter((e) => e.level === 'warn' || e.level === 'error' || e.level === 'fatal');
      expect(lines.map((l) => l.text)).toEqual([
        expect.stringMatching(new RegExp(`ERR_OBO_PROVIDER_UNAVAILABLE .*names the issuer https://${issuerHost.replace(/\./g, '\\.')}/.*add "${issuerHost.replace(/\./g, '\\.')}" to the knownAuthorities option`)),
      ]);
      const gets = front.discoveryGets();
      for (let i = 0; i < 3; i++) {
        const again = await send(`${current().original.url}/api/profile`, current().userToken());
        expectCleanError(again, 503, 'ERR_OBO_PROVIDER_UNAVAILABLE', current().clientSecret);
        expect(Number(one(again, 'retry-after'))).toBeGreaterThanOrEqual(1);
        expect(Number(one(again, 'retry-after'))).toBeLessThanOrEqual(30);
      }
      expect(front.discoveryGets()).toBe(gets);
      expect(authority.requests.token).toBe(0);
      expect(capture.entries.filter((e) => e.level === 'warn' || e.level === 'error')).toHaveLength(1);
    });
  });

  describe('without knownAuthorities, a cold burst', () => {
    const { capture, current } = coldStartedChain(() => ({ authority, front }));

    it('answers every concurrent caller 503 and still logs the cause once', async () => {
      const replies = await Promise.all(Array.from({ length: 5 }, () => send(`${current().original.url}/api/profile`, current().userToken())));
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
