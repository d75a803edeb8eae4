import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Controller, Get } from '@nestjs/common';
import { RequiredScopes, TokenAcquisition } from 'nestjs-obo';
import { LocalAuthority, type MintOptions } from 'nestjs-obo/testing';
import { CONFIDENTIAL_CLIENT, type ConfidentialClient } from '../libs/obo/src/outbound/token-acquisition/confidential-client.provider.js';
import { MsalTokenExchanger } from '../libs/obo/src/outbound/token-acquisition/msal-token-exchanger.js';
import { get } from './support/expect-rejection.js';
import { jwtPayload } from './support/jwt-payload.js';
import { startOboChain, type OboChain, type OboChainOptions } from './support/obo-chain.js';
import { pool } from './support/pool.js';

// Catalogue 4.8, in-memory cases #86-#89, and the token-cache guarantees of the On-Behalf-Of issue
// (single flight, cold-start discovery, refresh margin, LRU bound, msal's own cache kept empty).
// The Redis cases #90-#94 belong to a later issue and are not covered here.

/** The claims of a JWT payload the downstream stub looks at (decoded, not verified: it is a stub). */
interface TokenClaims {
  readonly oid?: string;
  readonly tid?: string;
  readonly sub?: string;
  readonly uti?: string;
  readonly scp?: string;
  readonly exp?: number;
}

/** One request the echo downstream received. */
interface Received {
  readonly token: string;
  /** Epoch ms when the request arrived. */
  readonly at: number;
  readonly claims: TokenClaims;
}

/** A downstream API that records every bearer token with its arrival time and answers the token's own claims. */
interface EchoDownstream {
  readonly url: string;
  readonly received: Received[];
  close(): Promise<void>;
}

function claimsOf(token: string): TokenClaims {
  try {
    const value: unknown = jwtPayload(token);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as TokenClaims) : {};
  } catch {
    return {};
  }
}

async function startEchoDownstream(): Promise<EchoDownstream> {
  const received: Received[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    const claims = claimsOf(token);
    received.push({ token, at: Date.now(), claims });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ oid: claims.oid, tid: claims.tid, sub: claims.sub, uti: claims.uti, scp: claims.scp, exp: claims.exp }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * For the enclosing describe: an echo downstream and a chain calling it, started in beforeAll
 * (echo first) and closed in afterAll (chain first); `use` receives both once started.
 */
function echoChainForDescribe(use: (chain: OboChain, echo: EchoDownstream) => void, options: Omit<OboChainOptions, 'downstreamUrl'> = {}): void {
  let chain: OboChain | undefined;
  let echo: EchoDownstream | undefined;
  beforeAll(async () => {
    echo = await startEchoDownstream();
    chain = await startOboChain({ ...options, downstreamUrl: echo.url });
    use(chain, echo);
  });
  afterAll(async () => {
    await chain?.close();
    await echo?.close();
  });
}

/** What GET /api/profile answers (the sample ProfileController): the caller and the downstream's view. */
interface Profile {
  readonly caller: { readonly objectId: string; readonly tenantId: string };
  readonly downstream: Record<string, unknown>;
}

async function profile(chain: OboChain, token: string): Promise<{ status: number; body: Profile | undefined }> {
  const res = await get(`${chain.original.url}/api/profile`, token);
  let body: Profile | undefined;
  try {
    body = JSON.parse(res.body) as Profile;
  } catch {
    body = undefined;
  }
  return { status: res.status, body };
}

/** A user: a fixed oid (and sub) so several tokens can be minted for the same person. */
function user(chain: OboChain, mint: MintOptions = {}): { oid: string; token: string } {
  const oid = randomUUID();
  return { oid, token: chain.userToken({ ...mint, claims: { oid, sub: randomUUID(), ...mint.claims } }) };
}

function counters(chain: OboChain) {
  return {
    obo: chain.authority.tokenRequests.onBehalfOf,
    token: chain.authority.requests.token,
    providerCalls: chain.original.app.get(MsalTokenExchanger).providerCalls,
  };
}

/** Measured numbers, printed once at the end for the report. */
const measured: Record<string, unknown> = {};
afterAll(() => {
  console.log(`token-cache measurements: ${JSON.stringify(measured)}`);
});

describe('#86 cache isolation under load: two users, same tenant, sample Downstream API', () => {
  let chain: OboChain;
  beforeAll(async () => {
    chain = await startOboChain();
  });
  afterAll(async () => {
    await chain?.close();
  });

  it('#86 gives every one of 1,000 interleaved calls (concurrency 50) the downstream identity of its own caller, with one provider request per user', async () => {
    const a = user(chain);
    const b = user(chain);
    // The authority answers each user's OBO request after a different delay, so the two acquisitions overlap.
    chain.authority.injectTokenFault({ kind: 'delay', ms: 120 + Math.floor(Math.random() * 80) }, { oid: a.oid });
    chain.authority.injectTokenFault({ kind: 'delay', ms: 40 + Math.floor(Math.random() * 80) }, { oid: b.oid });
    const before = counters(chain);
    const results = await pool(1000, 50, async (i) => {
      const caller = i % 2 === 0 ? a : b;
      return { caller: caller.oid, ...(await profile(chain, caller.token)) };
    });
    chain.authority.clearTokenFaults();

    const failures = results.filter((r) => r.status !== 200).length;
    const crossovers = results.filter((r) => r.body?.downstream.objectId !== r.caller).length;
    const oboRequests = chain.authority.tokenRequests.onBehalfOf - before.obo;
    measured['#86'] = { calls: results.length, failures, crossovers, oboRequests, perUser: [chain.authority.tokenRequests.byUser.get(a.oid), chain.authority.tokenRequests.byUser.get(b.oid)] };
    expect(failures).toBe(0);
    expect(crossovers).toBe(0);
    expect(results.every((r) => r.body?.caller.objectId === r.caller && r.body.downstream.tenantId === chain.authority.tenantId)).toBe(true);
    expect(oboRequests).toBe(2);
    expect(chain.authority.tokenRequests.byUser.get(a.oid)).toBe(1);
    expect(chain.authority.tokenRequests.byUser.get(b.oid)).toBe(1);
  }, 180_000);

  it('makes exactly one provider request for 50 concurrent first calls of one user, and answers all of them', async () => {
    const u = user(chain);
    // A slow answer keeps the first acquisition in flight while the other 49 arrive.
    chain.authority.injectTokenFault({ kind: 'delay', ms: 400 }, { oid: u.oid });
    const before = counters(chain);
    const results = await Promise.all(Array.from({ length: 50 }, () => profile(chain, u.token)));
    chain.authority.clearTokenFaults();
    const oboRequests = chain.authority.tokenRequests.onBehalfOf - before.obo;
    measured['single-flight'] = { calls: 50, oboRequests, providerCalls: chain.original.app.get(MsalTokenExchanger).providerCalls - before.providerCalls };
    expect(results.map((r) => r.status)).toEqual(Array<number>(50).fill(200));
    expect(results.every((r) => r.body?.downstream.objectId === u.oid)).toBe(true);
    expect(oboRequests).toBe(1);
    expect(chain.authority.tokenRequests.byUser.get(u.oid)).toBe(1);
  }, 60_000);
});

@Controller('api')
class WarmController {
  /** Needs a valid user token and does nothing else: warms the inbound guard (discovery, JWKS) without any OBO call. */
  @Get('warm')
  @RequiredScopes('access_as_user')
  warm(): { ok: true } {
    return { ok: true };
  }
}

describe('cold start: a burst of 20 users on a fresh Original API', () => {
  let chain: OboChain;
  echoChainForDescribe((started) => (chain = started), { controllers: [WarmController] });

  it('makes at most 2 discovery requests for msal when 20 different users call at once, and none for a second burst', async () => {
    // The inbound guard discovers first (one call to a route without OBO); whatever discovery
    // requests follow while users call /api/profile are msal's.
    expect((await get(`${chain.original.url}/api/warm`, user(chain).token)).status).toBe(200);
    const guardDiscovery = chain.authority.requests.discovery;
    const baseline = { discovery: chain.authority.requests.discovery, other: chain.authority.requests.other, obo: chain.authority.tokenRequests.onBehalfOf };

    const first = await Promise.all(Array.from({ length: 20 }, () => user(chain)).map(async (u) => ({ u, ...(await profile(chain, u.token)) })));
    const msalDiscovery = chain.authority.requests.discovery - baseline.discovery;
    const firstObo = chain.authority.tokenRequests.onBehalfOf - baseline.obo;

    const second = await Promise.all(Array.from({ length: 20 }, () => user(chain)).map(async (u) => ({ u, ...(await profile(chain, u.token)) })));
    const secondDiscovery = chain.authority.requests.discovery - baseline.discovery - msalDiscovery;
    measured['cold-start'] = { guardDiscovery, msalDiscoveryFirstBurst: msalDiscovery, msalDiscoverySecondBurst: secondDiscovery, oboFirstBurst: firstObo, otherRequests: chain.authority.requests.other - baseline.other };

    expect([...first, ...second].map((r) => r.status)).toEqual(Array<number>(40).fill(200));
    expect([...first, ...second].every((r) => r.body?.downstream.oid === r.u.oid)).toBe(true);
    expect(firstObo).toBe(20);
    expect(msalDiscovery).toBeLessThanOrEqual(2);
    expect(secondDiscovery).toBe(0);
    expect(chain.authority.requests.other - baseline.other).toBe(0);
  }, 60_000);
});

describe('#87 multi-tenant Original API: the same oid and sub in two tenants', () => {
  let chain: OboChain;
  let echo: EchoDownstream;
  let authority: LocalAuthority;
  const t1 = randomUUID();
  const t2 = randomUUID();
  beforeAll(async () => {
    echo = await startEchoDownstream();
    authority = await LocalAuthority.start({ tenantId: t1 });
    chain = await startOboChain({ authority, downstreamUrl: echo.url, original: { tenantId: 'organizations', allowedTenants: [t1, t2] } });
  });
  afterAll(async () => {
    await chain?.close();
    await authority?.close();
    await echo?.close();
  });

  it('#87 keeps one cache entry per tenant: each caller reaches the downstream with a token of its own tenant', async () => {
    const oid = randomUUID();
    const sub = randomUUID();
    const home = chain.userToken({ tenantId: t1, claims: { oid, sub } });
    const guest = chain.userToken({ tenantId: t2, claims: { oid, sub } });
    const before = chain.authority.tokenRequests.onBehalfOf;

    const rounds: { tenant: string; status: number; body: Profile | undefined }[] = [];
    for (let round = 0; round < 3; round++) {
      rounds.push({ tenant: t1, ...(await profile(chain, home)) });
      rounds.push({ tenant: t2, ...(await profile(chain, guest)) });
    }
    measured['#87'] = { calls: rounds.length, oboRequests: chain.authority.tokenRequests.onBehalfOf - before };
    expect(rounds.map((r) => r.status)).toEqual(Array<number>(6).fill(200));
    for (const r of rounds) {
      expect(r.body?.caller).toEqual({ objectId: oid, tenantId: r.tenant });
      expect(r.body?.downstream).toMatchObject({ oid, tid: r.tenant });
    }
    expect(chain.authority.tokenRequests.onBehalfOf - before).toBe(2);
    const utiOf = (tenant: string) => new Set(rounds.filter((r) => r.tenant === tenant).map((r) => r.body?.downstream.uti));
    expect(utiOf(t1).size).toBe(1);
    expect(utiOf(t2).size).toBe(1);
    expect([...utiOf(t1)][0]).not.toBe([...utiOf(t2)][0]);
  }, 60_000);
});

describe('#88 #89 cache keys: display claims and grants', () => {
  let chain: OboChain;
  let echo: EchoDownstream;
  echoChainForDescribe((started, downstream) => {
    chain = started;
    echo = downstream;
  });

  it('#88 shares nothing between two users with identical preferred_username, name and email but different oid', async () => {
    const same = { preferred_username: 'twin@example.test', name: 'Twin', email: 'twin@example.test', upn: 'twin@example.test' };
    const a = user(chain, { claims: same });
    const b = user(chain, { claims: same });
    const before = chain.authority.tokenRequests.onBehalfOf;
    const results: { oid: string; status: number; body: Profile | undefined }[] = [];
    for (let round = 0; round < 3; round++) {
      results.push({ oid: a.oid, ...(await profile(chain, a.token)) });
      results.push({ oid: b.oid, ...(await profile(chain, b.token)) });
    }
    measured['#88'] = { calls: results.length, oboRequests: chain.authority.tokenRequests.onBehalfOf - before };
    expect(results.map((r) => r.status)).toEqual(Array<number>(6).fill(200));
    for (const r of results) expect(r.body?.downstream.oid).toBe(r.oid);
    expect(chain.authority.tokenRequests.onBehalfOf - before).toBe(2);
    expect(chain.authority.tokenRequests.byUser.get(a.oid)).toBe(1);
    expect(chain.authority.tokenRequests.byUser.get(b.oid)).toBe(1);
  }, 60_000);

  it.each([
    ['a different scp', { scp: 'access_as_user Profile.Read' }],
    ['a different client application (azp)', { azp: randomUUID() }],
  ])('#89 keeps separate entries for two tokens of the same user with %s, each caller getting the token minted for its own assertion', async (_variant, difference) => {
    const oid = randomUUID();
    const sub = randomUUID();
    const t1 = chain.userToken({ claims: { oid, sub } });
    const t2 = chain.userToken({ claims: { oid, sub, ...difference } });
    const before = chain.authority.tokenRequests.onBehalfOf;
    const seen = echo.received.length;

    // Sequential calls: each miss is one provider request immediately followed by one downstream call,
    // so the i-th new token the stub receives is the answer to the i-th OBO request in the log.
    const first1 = await profile(chain, t1);
    const first2 = await profile(chain, t2);
    const again1 = await profile(chain, t1);
    const again2 = await profile(chain, t2);
    expect([first1, first2, again1, again2].map((r) => r.status)).toEqual([200, 200, 200, 200]);

    expect(chain.authority.tokenRequests.onBehalfOf - before).toBe(2);
    const oboLog = chain.authority.tokenRequestLog.filter((r) => r.requested_token_use === 'on_behalf_of').slice(-2);
    expect(oboLog.map((r) => r.assertion)).toEqual([t1, t2]);
    const tokens = echo.received.slice(seen).map((r) => r.token);
    expect(tokens).toHaveLength(4);
    const [minted1, minted2] = tokens;
    expect(minted1).not.toBe(minted2);
    expect(tokens).toEqual([minted1, minted2, minted1, minted2]); // T1 always gets T1's token, T2 always T2's
    for (const token of tokens) expect(claimsOf(token).oid).toBe(oid);
  }, 60_000);

  it('keeps msal\'s own cache empty and bounded after 200 distinct users, and a cache hit never reaches msal or the authority', async () => {
    const msal = chain.original.app.get<symbol, ConfidentialClient>(CONFIDENTIAL_CLIENT).application;
    expect((await profile(chain, user(chain).token)).status).toBe(200);
    const sizeAfterOne = msal.getTokenCache().serialize().length;

    const users = Array.from({ length: 200 }, () => user(chain));
    const results = await pool(users.length, 20, async (i) => ({ u: users[i]!, ...(await profile(chain, users[i]!.token)) }));
    expect(results.every((r) => r.status === 200 && r.body?.downstream.oid === r.u.oid)).toBe(true);

    const serialized = msal.getTokenCache().serialize();
    const cache = JSON.parse(serialized) as Record<string, Record<string, unknown> | undefined>;
    const entries = Object.fromEntries(['Account', 'IdToken', 'AccessToken', 'RefreshToken'].map((kind) => [kind, Object.keys(cache[kind] ?? {}).length]));
    measured['msal-cache'] = { users: 200, serializedLengthAfterOne: sizeAfterOne, serializedLengthAfter200: serialized.length, entries, kinds: Object.keys(cache) };
    expect(entries).toEqual({ Account: 0, IdToken: 0, AccessToken: 0, RefreshToken: 0 });
    expect(serialized.length).toBe(sizeAfterOne);

    // Hits: 20 more calls of an already cached user move no counter.
    const cached = users[0]!;
    const before = counters(chain);
    for (let i = 0; i < 20; i++) expect((await profile(chain, cached.token)).body?.downstream.oid).toBe(cached.oid);
    expect(counters(chain)).toEqual(before);
    expect(msal.getTokenCache().serialize().length).toBe(sizeAfterOne);
  }, 120_000);
});

describe('refresh margin: tokens are re-acquired before they come within refreshMarginSeconds of expiry', () => {
  let chain: OboChain;
  let echo: EchoDownstream;
  let downstreamId = '';
  const marginSeconds = 5;

  @Controller('api')
  class ExpiryController {
    constructor(private readonly tokens: TokenAcquisition) {}

    /** How long the token handed out right now still lives, by the library's own expiry. */
    @Get('expiry')
    @RequiredScopes('access_as_user')
    async expiry(): Promise<{ remainingMs: number; fromCache: boolean }> {
      // Measured from before the call: the token was handed out no earlier, so this never overstates its life.
      const asked = Date.now();
      const result = await this.tokens.getAuthenticationResultForUser([`api://${downstreamId}/Downstream.Read`]);
      return { remainingMs: result.expiresOn.getTime() - asked, fromCache: result.fromCache };
    }
  }

  echoChainForDescribe(
    (started, downstream) => {
      chain = started;
      echo = downstream;
      downstreamId = chain.downstreamId;
      chain.authority.tokenLifetimeSeconds = 8;
    },
    { controllers: [ExpiryController], original: { tokenAcquisition: { refreshMarginSeconds: marginSeconds, refreshAheadSeconds: 0 } } },
  );

  it('re-acquires a token once it is within the margin and never sends the downstream a token that expires within it', async () => {
    const u = user(chain);
    const before = chain.authority.tokenRequests.onBehalfOf;
    const seen = echo.received.length;
    // About 12 s of calls, every 400 ms: an 8 s token is usable for 3 s, so several renewals happen.
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      statuses.push((await profile(chain, u.token)).status);
      await sleep(400);
    }
    const received = echo.received.slice(seen);
    const distinct = new Set(received.map((r) => r.token));
    const oboRequests = chain.authority.tokenRequests.onBehalfOf - before;
    // Remaining life of each token when the downstream got it, by its `exp` claim.
    const remaining = received.map((r) => r.claims.exp! * 1000 - r.at);
    measured['refresh-margin'] = { calls: received.length, distinctTokens: distinct.size, oboRequests, minRemainingMs: Math.min(...remaining) };

    expect(statuses).toEqual(Array<number>(30).fill(200));
    expect(distinct.size).toBeGreaterThanOrEqual(3);
    expect(oboRequests).toBe(distinct.size); // every renewal is one provider request, and each gave a new token
    // `exp` and `expires_in` are whole seconds and msal rounds its request time to the nearest second, so a
    // token's `exp` may lie up to 1 s before the expiry the library computes; beyond that, nothing inside the margin.
    for (const ms of remaining) expect(ms).toBeGreaterThanOrEqual((marginSeconds - 1) * 1000);
  }, 60_000);

  it('never hands out a token within the margin of the expiry it knows (TokenAcquisition result)', async () => {
    const u = user(chain);
    const answers: { remainingMs: number; fromCache: boolean }[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await get(`${chain.original.url}/api/expiry`, u.token);
      expect(res.status).toBe(200);
      answers.push(JSON.parse(res.body) as { remainingMs: number; fromCache: boolean });
      await sleep(400);
    }
    measured['refresh-margin-library'] = { calls: answers.length, acquisitions: answers.filter((a) => !a.fromCache).length, minRemainingMs: Math.min(...answers.map((a) => a.remainingMs)) };
    expect(answers.filter((a) => !a.fromCache).length).toBeGreaterThanOrEqual(2);
    for (const a of answers) expect(a.remainingMs).toBeGreaterThanOrEqual(marginSeconds * 1000);
  }, 60_000);
});

describe('LRU bound: tokenAcquisition.cacheMaxEntries 10', () => {
  let chain: OboChain;
  echoChainForDescribe((started) => (chain = started), { original: { tokenAcquisition: { cacheMaxEntries: 10 } } });

  it('evicts the least recently used user: after 30 users the 30th still hits, the 1st needs a new provider request', async () => {
    const users = Array.from({ length: 30 }, () => user(chain));
    const before = chain.authority.tokenRequests.onBehalfOf;
    for (const u of users) expect((await profile(chain, u.token)).body?.downstream.oid).toBe(u.oid);
    expect(chain.authority.tokenRequests.onBehalfOf - before).toBe(30);

    const beforeLast = chain.authority.tokenRequests.onBehalfOf;
    expect((await profile(chain, users[29]!.token)).body?.downstream.oid).toBe(users[29]!.oid);
    const lastAgain = chain.authority.tokenRequests.onBehalfOf - beforeLast;

    const beforeFirst = chain.authority.tokenRequests.onBehalfOf;
    expect((await profile(chain, users[0]!.token)).body?.downstream.oid).toBe(users[0]!.oid);
    const firstAgain = chain.authority.tokenRequests.onBehalfOf - beforeFirst;
    measured['lru'] = { users: 30, cacheMaxEntries: 10, thirtiethAgain: lastAgain, firstAgain };
    expect(lastAgain).toBe(0);
    expect(firstAgain).toBe(1);
    expect(chain.authority.tokenRequests.byUser.get(users[0]!.oid)).toBe(2);
  }, 60_000);
});
