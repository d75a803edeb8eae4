// Catalogue #112: one egress dispatcher for every outbound path (discovery and JWKS, msal-node's
// token requests, DownstreamApi); the proxy from the environment; extra certificate authorities.
//
// The proxy is a real CONNECT proxy (`proxy`, the one undici's own tests use) on 127.0.0.1. It opens
// its connections to the targets from 127.0.0.2, so every server here can tell, request by request,
// whether a request came through the proxy or direct (Node's `http.server.request.start` channel
// gives each request's socket). Only loopback addresses are ever used.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { dirname } from 'node:path';
import { createProxy, type ProxyServer } from 'proxy';
import { Agent, interceptors, ProxyAgent, request, type Dispatcher } from 'undici';
import { ensureDevCertificate, LocalAuthority, type DevCertificate } from 'nestjs-obo/testing';
import { MAX_DOWNSTREAM_RESPONSE_BYTES } from '../libs/obo/src/outbound/downstream-api/downstream-client.js';
import { RESOLVED_OBO_OPTIONS } from '../libs/obo/src/options/obo-options.constants.js';
import type { ResolvedOboOptions } from '../libs/obo/src/options/resolve-obo-options.js';
import { expectCleanError } from './support/expect-clean-error.js';
import { expectRejection, get } from './support/expect-rejection.js';
import { send } from './support/http-reply.js';
import { startOboChain, type OboChain } from './support/obo-chain.js';
import { startStubDownstream, type StubDownstream } from './support/stub-downstream.js';

/** Address the proxy connects to its targets from; nothing else on the machine uses it. */
const PROXY_SOURCE = '127.0.0.2';

/** One request a server of this file received, and whether it came through the proxy. */
interface Arrival {
  readonly port: number;
  readonly path: string;
  readonly via: 'proxy' | 'direct';
}

/** Every request any server in this process receives, recorded from Node's diagnostics channel. */
const arrivals: Arrival[] = [];
function onRequestStart(message: unknown): void {
  const { request } = message as { request: IncomingMessage };
  const socket = request.socket;
  arrivals.push({ port: socket.localPort ?? 0, path: request.url ?? '', via: socket.remoteAddress === PROXY_SOURCE ? 'proxy' : 'direct' });
}
beforeAll(() => subscribe('http.server.request.start', onRequestStart));
afterAll(() => unsubscribe('http.server.request.start', onRequestStart));

/** What the authority at `port` was asked for, by endpoint, with the route each request took. */
function authorityArrivals(port: number): Array<{ endpoint: string; via: string }> {
  return arrivals
    .filter((a) => a.port === port)
    .map((a) => ({ endpoint: endpointOf(a.path), via: a.via }));
}

function endpointOf(url: string): string {
  const path = url.replace(/\?.*$/, '');
  return path.endsWith('/openid-configuration') ? 'discovery' : path.endsWith('/keys') ? 'jwks' : path.endsWith('/oauth2/v2.0/token') ? 'token' : path;
}

function portOf(url: string): number {
  return Number(new URL(url).port);
}

/** A CONNECT proxy that counts the tunnels it was asked for by target `host:port`. */
interface CountingProxy {
  readonly url: string;
  /** CONNECT requests received per target `host:port` (refused ones included). */
  readonly connects: Map<string, number>;
  /** When true the proxy answers every CONNECT with 407 (it refuses to tunnel). */
  refuse: boolean;
  /** Drops every open tunnel, so the next request needs a new CONNECT. */
  dropTunnels(): void;
  close(): Promise<void>;
}

async function startCountingProxy(): Promise<CountingProxy> {
  const sockets = new Set<Socket>();
  const connects = new Map<string, number>();
  const server: ProxyServer = createProxy(createHttpServer());
  server.localAddress = PROXY_SOURCE;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.prependListener('connect', (req: IncomingMessage) => connects.set(req.url ?? '', (connects.get(req.url ?? '') ?? 0) + 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxy: CountingProxy = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connects,
    refuse: false,
    dropTunnels: () => {
      for (const socket of sockets) socket.destroy();
    },
    close: async () => {
      proxy.dropTunnels();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  server.authenticate = () => !proxy.refuse;
  return proxy;
}

/** An https server with `certificate` that answers every request 200 `{ ok: true }`. */
async function startHttpsStub(certificate: DevCertificate): Promise<{ url: string; close(): Promise<void> }> {
  const server = createHttpsServer({ key: certificate.key, cert: certificate.cert }, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A self-signed certificate made now in a fresh temporary folder (deleted at the end): unlike the
 * local authority's usual one, which `scripts/test.mjs` puts in NODE_EXTRA_CA_CERTS, nothing on the
 * machine trusts it, so only `egress.ca` can make a connection to it succeed.
 */
function untrustedCertificate(): DevCertificate {
  const certificate = ensureDevCertificate();
  cleanups.push(async () => rmSync(dirname(certificate.certPath), { recursive: true, force: true }));
  return certificate;
}

// The proxy variables (both spellings) are saved before each test and restored after it, once
// everything the test started is closed; the lower-case ones win in undici, so they are cleared.
const PROXY_VARIABLES = ['HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY', 'https_proxy', 'http_proxy', 'no_proxy'] as const;
let savedEnvironment: Record<string, string | undefined> = {};
let cleanups: Array<() => Promise<void>> = [];

function setProxyEnvironment(values: Partial<Record<'HTTPS_PROXY' | 'HTTP_PROXY' | 'NO_PROXY', string>>): void {
  for (const name of PROXY_VARIABLES) delete process.env[name];
  Object.assign(process.env, values);
}

beforeEach(() => {
  savedEnvironment = Object.fromEntries(PROXY_VARIABLES.map((name) => [name, process.env[name]]));
  for (const name of PROXY_VARIABLES) delete process.env[name];
  arrivals.length = 0;
  cleanups = [];
});

afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  for (const name of PROXY_VARIABLES) {
    const value = savedEnvironment[name];
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

async function proxy(): Promise<CountingProxy> {
  const started = await startCountingProxy();
  cleanups.push(() => started.close());
  return started;
}

async function stub(): Promise<StubDownstream> {
  const started = await startStubDownstream();
  cleanups.push(() => started.close());
  return started;
}

async function chain(options: Parameters<typeof startOboChain>[0]): Promise<OboChain> {
  const started = await startOboChain(options);
  cleanups.push(() => started.close());
  return started;
}

describe('#112 one egress dispatcher for every outbound path: the proxy from the environment', () => {
  it('sends discovery, JWKS, the On-Behalf-Of token request and the downstream call through HTTPS_PROXY / HTTP_PROXY, none direct', async () => {
    const through = await proxy();
    const downstream = await stub();
    setProxyEnvironment({ HTTPS_PROXY: through.url, HTTP_PROXY: through.url });
    const obo = await chain({ downstreamUrl: downstream.url, original: { egress: { proxyFromEnvironment: true } } });

    const reply = await send(`${obo.original.url}/api/profile`, obo.userToken());

    expect(reply.status).toBe(200);
    const authority = obo.authority.authorityHost;
    const seen = authorityArrivals(portOf(obo.authority.instance));
    expect(new Set(seen.map((a) => a.endpoint))).toEqual(new Set(['discovery', 'jwks', 'token']));
    expect(seen.filter((a) => a.via !== 'proxy')).toEqual([]);
    expect(arrivals.filter((a) => a.port === portOf(downstream.url))).toEqual([{ port: portOf(downstream.url), path: '/api/whoami', via: 'proxy' }]);
    expect(through.connects.get(authority)).toBeGreaterThanOrEqual(1);
    expect(through.connects.get(new URL(downstream.url).host)).toBe(1);
  });

  it('sends a host listed in NO_PROXY direct, and the others still through the proxy', async () => {
    const through = await proxy();
    const downstream = await stub();
    const downstreamHost = new URL(downstream.url).host;
    setProxyEnvironment({ HTTPS_PROXY: through.url, HTTP_PROXY: through.url, NO_PROXY: `example.invalid, ${downstreamHost}` });
    const obo = await chain({ downstreamUrl: downstream.url, original: { egress: { proxyFromEnvironment: true } } });

    const reply = await send(`${obo.original.url}/api/profile`, obo.userToken());

    expect(reply.status).toBe(200);
    expect(arrivals.filter((a) => a.port === portOf(downstream.url))).toEqual([{ port: portOf(downstream.url), path: '/api/whoami', via: 'direct' }]);
    expect(through.connects.has(downstreamHost)).toBe(false);
    const seen = authorityArrivals(portOf(obo.authority.instance));
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen.filter((a) => a.via !== 'proxy')).toEqual([]);
    expect(through.connects.get(obo.authority.authorityHost)).toBeGreaterThanOrEqual(1);
  });
  it('keeps the downstream body cap through the proxy: a body over 10 MiB is a 502', async () => {
    const through = await proxy();
    const downstream = await stub();
    setProxyEnvironment({ HTTPS_PROXY: through.url, HTTP_PROXY: through.url });
    const obo = await chain({ downstreamUrl: downstream.url, original: { egress: { proxyFromEnvironment: true } } });
    downstream.script.push({ status: 200, body: 'x'.repeat(MAX_DOWNSTREAM_RESPONSE_BYTES) }); // plus the two quotes of JSON

    const reply = await send(`${obo.original.url}/api/profile`, obo.userToken());

    expectCleanError(reply, 502, 'ERR_OBO_DOWNSTREAM_FAILED', obo.clientSecret);
    expect(through.connects.get(new URL(downstream.url).host)).toBe(1);
  });
});

describe('#112 one egress dispatcher for every outbound path: the module\u2019s own', () => {
  it('closes its own dispatcher when the application shuts down', async () => {
    const downstream = await stub();
    const obo = await startOboChain({ downstreamUrl: downstream.url, original: { egress: { proxyFromEnvironment: true } } });
    let closed = false;
    cleanups.push(async () => void (closed || (await obo.close())));
    const egress = obo.original.app.get<symbol, ResolvedOboOptions>(RESOLVED_OBO_OPTIONS).egress;
    expect((await send(`${obo.original.url}/api/profile`, obo.userToken())).status).toBe(200);
    expect(egress).toMatchObject({ owned: true, dispatcher: { closed: false } });

    await obo.close();
    closed = true;

    expect(egress.dispatcher).toMatchObject({ closed: true });
  });
});

describe('#112 one egress dispatcher for every outbound path: a dispatcher of the user\u2019s', () => {
  it('carries discovery, JWKS, the token request and the downstream call, and is left open at shutdown', async () => {
    const through = await proxy();
    const downstream = await stub();
    const dispatched: string[] = [];
    const proxyAgent = new ProxyAgent(through.url);
    cleanups.push(() => proxyAgent.close());
    const recording: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (options, handler) => {
      dispatched.push(`${String(options.method)} ${String(options.origin)}${options.path}`);
      return dispatch(options, handler);
    };
    const dispatcher = proxyAgent.compose(recording);
    const obo = await startOboChain({ downstreamUrl: downstream.url, original: { egress: { dispatcher } } });
    let closed = false;
    cleanups.push(async () => void (closed || (await obo.close())));

    const reply = await send(`${obo.original.url}/api/profile`, obo.userToken());

    expect(reply.status).toBe(200);
    const instance = obo.authority.instance.replace(/\/$/, '');
    expect(dispatched).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^GET ${instance}/.*openid-configuration$`)),
        expect.stringMatching(new RegExp(`^GET ${instance}/.*/keys$`)),
        expect.stringMatching(new RegExp(`^POST ${instance}/.*/oauth2/v2.0/token\\?`)),
        `GET ${downstream.url}/api/whoami`,
      ]),
    );
    expect(arrivals.filter((a) => a.via === 'direct' && a.port !== portOf(obo.original.url))).toEqual([]);

    await obo.close();
    closed = true;
    const after = await request(`${downstream.url}/after-shutdown`, { dispatcher });
    expect(after.statusCode).toBe(200);
    await after.body.dump();
  });
});

describe('#112 a dispatcher of the user\u2019s keeps DownstreamApi\u2019s guarantees', () => {
  it('does not follow a downstream redirect even when the dispatcher has undici\u2019s redirect interceptor (502)', async () => {
    const downstream = await stub();
    const elsewhere = await stub();
    const agent = new Agent();
    cleanups.push(() => agent.close());
    const obo = await chain({ downstreamUrl: downstream.url, original: { egress: { dispatcher: agent.compose(interceptors.redirect({ maxRedirections: 3 })) } } });
    downstream.script.push({ status: 302, headers: { location: `${elsewhere.url}/api/whoami` } });

    const reply = await send(`${obo.original.url}/api/profile`, obo.userToken());

    expectCleanError(reply, 502, 'ERR_OBO_DOWNSTREAM_FAILED', obo.clientSecret);
    expect(elsewhere.tokens).toEqual([]);
  });

  it('refuses a downstream body over the 10 MiB cap (502), which the user\u2019s dispatcher does not enforce', async () => {
    const downstream = await stub();
    const agent = new Agent();
    cleanups.push(() => agent.close());
    const obo = await chain({ downstreamUrl: downstream.url, original: { egress: { dispatcher: agent } } });
    downstream.script.push({ status: 200, body: 'x'.repeat(MAX_DOWNSTREAM_RESPONSE_BYTES) }); // plus the two quotes of JSON

    const reply = await send(`${obo.original.url}/api/profile`, obo.userToken());

    expectCleanError(reply, 502, 'ERR_OBO_DOWNSTREAM_FAILED', obo.clientSecret);
  });
});

describe('#112 extra certificate authorities (egress.ca)', () => {
  it('trusts an authority and a downstream API whose certificates only egress.ca names, on every path', async () => {
    const authorityCertificate = untrustedCertificate();
    const downstreamCertificate = untrustedCertificate();
    const authority = await LocalAuthority.start({ tls: authorityCertificate });
    cleanups.push(() => authority.close());
    const downstream = await startHttpsStub(downstreamCertificate);
    cleanups.push(() => downstream.close());
    const obo = await chain({ authority, downstreamUrl: downstream.url, original: { egress: { ca: [authorityCertificate.cert, downstreamCertificate.cert] } } });

    const reply = await send(`${obo.original.url}/api/profile`, obo.userToken());

    expect(reply.status).toBe(200);
    expect(new Set(authorityArrivals(portOf(authority.instance)).map((a) => a.endpoint))).toEqual(new Set(['discovery', 'jwks', 'token']));
    expect(arrivals.filter((a) => a.port === portOf(downstream.url))).toHaveLength(1);
  });

  it('applies through the proxy too: proxyFromEnvironment with egress.ca reaches that authority through the tunnel', async () => {
    const through = await proxy();
    const authorityCertificate = untrustedCertificate();
    const authority = await LocalAuthority.start({ tls: authorityCertificate });
    cleanups.push(() => authority.close());
    const downstream = await stub();
    setProxyEnvironment({ HTTPS_PROXY: through.url, HTTP_PROXY: through.url });
    const obo = await chain({ authority, downstreamUrl: downstream.url, original: { egress: { proxyFromEnvironment: true, ca: authorityCertificate.cert } } });

    const reply = await send(`${obo.original.url}/api/profile`, obo.userToken());

    expect(reply.status).toBe(200);
    const seen = authorityArrivals(portOf(authority.instance));
    expect(new Set(seen.map((a) => a.endpoint))).toEqual(new Set(['discovery', 'jwks', 'token']));
    expect(seen.filter((a) => a.via !== 'proxy')).toEqual([]);
  });

  it('without egress.ca the same authority is not trusted: 503 with Retry-After, never 401 (the certificate is really outside the machine\u2019s trust)', async () => {
    const authority = await LocalAuthority.start({ tls: untrustedCertificate() });
    cleanups.push(() => authority.close());
    const downstream = await stub();
    const obo = await chain({ authority, downstreamUrl: downstream.url });

    expectRejection(await get(`${obo.original.url}/api/profile`, obo.userToken()), 'H503');
  });

  it('adds to the machine\u2019s trust, never replacing it: the authority trusted through NODE_EXTRA_CA_CERTS still answers', async () => {
    // The local authority's usual certificate is trusted only through NODE_EXTRA_CA_CERTS (set by
    // scripts/test.mjs); the downstream API's is trusted only through egress.ca. Both must work.
    const downstreamCertificate = untrustedCertificate();
    const downstream = await startHttpsStub(downstreamCertificate);
    cleanups.push(() => downstream.close());
    const obo = await chain({ downstreamUrl: downstream.url, original: { egress: { ca: downstreamCertificate.cert } } });

    const reply = await send(`${obo.original.url}/api/profile`, obo.userToken());

    expect(reply.status).toBe(200);
    expect(arrivals.filter((a) => a.port === portOf(downstream.url))).toHaveLength(1);
  });
});

describe.each([
  ['refuses to tunnel (407 to CONNECT)', async (p: CountingProxy) => ((p.refuse = true), p.dropTunnels())],
  ['is down (connection refused)', (p: CountingProxy) => p.close()],
] as const)('#112 a proxy that %s is a 503 or 502, never a 401', (_name, breakProxy) => {
  async function proxiedChain(
    options: { authorityDirect?: boolean; beforeStart?: (p: CountingProxy) => Promise<unknown> } = {},
  ): Promise<{ obo: OboChain; through: CountingProxy; downstream: StubDownstream }> {
    const through = await proxy();
    await options.beforeStart?.(through);
    const downstream = await stub();
    const authority = await LocalAuthority.start();
    cleanups.push(() => authority.close());
    setProxyEnvironment({ HTTPS_PROXY: through.url, HTTP_PROXY: through.url, ...(options.authorityDirect && { NO_PROXY: authority.authorityHost }) });
    const obo = await chain({ authority, downstreamUrl: downstream.url, original: { egress: { proxyFromEnvironment: true } } });
    return { obo, through, downstream };
  }

  it('inbound: signing keys unavailable, 503 with Retry-After and no challenge', async () => {
    // Broken before the API starts: it loads the keys at startup (#106), so this is a cold outage.
    const { obo } = await proxiedChain({ beforeStart: breakProxy });

    const reply = await get(`${obo.original.url}/api/profile`, obo.userToken());

    expectRejection(reply, 'H503');
    expect(authorityArrivals(portOf(obo.authority.instance))).toEqual([]);
  });

  it('token request: 503 ERR_OBO_PROVIDER_UNAVAILABLE with Retry-After, the keys already known', async () => {
    const { obo, through, downstream } = await proxiedChain();
    expect((await send(`${obo.original.url}/api/profile`, obo.userToken())).status).toBe(200); // keys cached, tunnels open
    await breakProxy(through);
    const tokensBefore = obo.authority.tokenRequests.onBehalfOf;

    // Another user: their token is not cached, so an On-Behalf-Of request is needed.
    const reply = await send(`${obo.original.url}/api/profile`, obo.userToken({ claims: { oid: '0a1b2c3d-0000-4000-8000-0000000000ee' } }));

    expectCleanError(reply, 503, 'ERR_OBO_PROVIDER_UNAVAILABLE', obo.clientSecret);
    expect(Number(reply.headers.get('retry-after')?.[0])).toBeGreaterThanOrEqual(1);
    expect(obo.authority.tokenRequests.onBehalfOf).toBe(tokensBefore);
    expect(downstream.tokens).toHaveLength(1);
  });

  it('downstream call: 502 ERR_OBO_DOWNSTREAM_FAILED (the authority reached direct through NO_PROXY)', async () => {
    const { obo, through, downstream } = await proxiedChain({ authorityDirect: true });
    await breakProxy(through);

    const reply = await send(`${obo.original.url}/api/profile`, obo.userToken());

    expectCleanError(reply, 502, 'ERR_OBO_DOWNSTREAM_FAILED', obo.clientSecret);
    expect(reply.headers.has('www-authenticate')).toBe(false);
    expect(downstream.tokens).toHaveLength(0);
    expect(obo.authority.tokenRequests.onBehalfOf).toBeGreaterThanOrEqual(1);
  });
});
