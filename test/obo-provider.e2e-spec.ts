// Catalogue section 4.7, #70-#80 and #85: the identity-provider side of On-Behalf-Of, through the
// sample Original API (GET /api/profile) over real HTTP, with the local authority as provider.
// #81 (RFC 8693 token exchange) is not a feature of the library: only the local authority speaks it.
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Controller, Get } from '@nestjs/common';
import { DownstreamApi, RequiredAppPermissions, RequiredScopes, TokenAcquisition } from 'nestjs-obo';
import { certificateFromEnvironment, LocalAuthority, type TokenFault } from 'nestjs-obo/testing';
import { MsalTokenExchanger } from '../libs/obo/src/outbound/token-acquisition/msal-token-exchanger.js';
import { CONFIDENTIAL_CLIENT, type ConfidentialClient } from '../libs/obo/src/outbound/token-acquisition/confidential-client.provider.js';
import { CapturingLogger } from './support/capturing-logger.js';
import { sleep, sleepUntilMillisecond } from './support/clock.js';
import { expectCleanError, type ErrorBody } from './support/expect-clean-error.js';
import { one, send, type Reply } from './support/http-reply.js';
import { jwtPayload } from './support/jwt-payload.js';
import { startOboChain, type OboChain, type OboChainOptions } from './support/obo-chain.js';
import { startStubDownstream, type StubDownstream } from './support/stub-downstream.js';

// ---------------------------------------------------------------------------------------------
// Helpers (local to this file)
// ---------------------------------------------------------------------------------------------

/** expectCleanError that also forbids the provider's error_codes and suberror fields. */
function expectCleanProviderError(reply: Reply, status: number, code: string, secret: string): ErrorBody {
  return expectCleanError(reply, status, code, secret, [/error_codes/i, /suberror/i]);
}

/** msal's own cache must be empty after every call (our TokenCache is the only cache). */
function expectMsalCacheEmpty(chain: OboChain): void {
  const client = chain.original.app.get<symbol, ConfidentialClient>(CONFIDENTIAL_CLIENT);
  const cache = JSON.parse(client.application.getTokenCache().serialize()) as Record<string, Record<string, unknown>>;
  for (const section of ['AccessToken', 'RefreshToken', 'IdToken', 'Account']) expect({ section, entries: Object.keys(cache[section] ?? {}) }).toEqual({ section, entries: [] });
}

/** Scopes the probe controller asks for; set by each describe once its chain has started. */
const probe = { readScope: '', writeScope: '' };

/** Extra routes on the Original API: OBO for an app caller, and OBO for another scope. */
@Controller('probe')
class ProbeController {
  constructor(
    private readonly tokens: TokenAcquisition,
    private readonly downstream: DownstreamApi,
  ) {}

  /** An app-only caller reaching TokenAcquisition.getAccessTokenForUser. */
  @Get('obo-as-app')
  @RequiredAppPermissions('Profile.Read.All')
  async oboAsApp(): Promise<{ ok: boolean }> {
    await this.tokens.getAccessTokenForUser([probe.readScope]);
    return { ok: true };
  }

  /** An app-only caller reaching DownstreamApi with the user (OBO) downstream API. */
  @Get('downstream-as-app')
  @RequiredAppPermissions('Profile.Read.All')
  downstreamAsApp(): Promise<unknown> {
    return this.downstream.get('downstream', '/api/whoami');
  }

  /** A user asking for another delegated scope of the downstream API. */
  @Get('write-scope')
  @RequiredScopes('access_as_user')
  async writeScope(): Promise<{ ok: boolean }> {
    await this.tokens.getAccessTokenForUser([probe.writeScope]);
    return { ok: true };
  }
}

async function startChain(options: OboChainOptions = {}): Promise<OboChain> {
  const chain = await startOboChain({ controllers: [ProbeController], ...options });
  probe.readScope = chain.downstreamScope;
  probe.writeScope = `api://${chain.downstreamId}/Downstream.Write`;
  return chain;
}

/** Starts a chain for the enclosing describe (beforeAll, 30 s allowed), hands it to `use`, and closes it in afterAll. */
function chainForDescribe(use: (chain: OboChain) => void, options: OboChainOptions = {}): void {
  let chain: OboChain | undefined;
  beforeAll(async () => {
    chain = await startChain(options);
    use(chain);
  }, 30_000);
  afterAll(async () => {
    await chain?.close();
  });
}

/** Clears the authority's injected faults and its request counters. */
function resetAuthority(chain: OboChain): void {
  chain.authority.clearTokenFaults();
  chain.authority.resetCounters();
}

function providerCalls(chain: OboChain): number {
  return chain.original.app.get(MsalTokenExchanger).providerCalls;
}

function appToken(chain: OboChain, roles: string[] = ['Profile.Read.All']): string {
  return chain.authority.mintAppToken({ audience: chain.originalId, claims: { roles } });
}

const profile = (chain: OboChain) => `${chain.original.url}/api/profile`;

// ---------------------------------------------------------------------------------------------
// #70, #71, #85 and the provider error classes (#72-#76): one chain
// ---------------------------------------------------------------------------------------------

describe('OBO against the identity provider (catalogue 4.7)', () => {
  let chain: OboChain;
  const capture = new CapturingLogger();
  chainForDescribe((started) => {
    chain = started;
    chain.original.app.useLogger(capture);
  });
  beforeEach(() => {
    resetAuthority(chain);
    capture.clear();
  });

  describe('#70 app-only callers never reach the token endpoint', () => {
    it('answers 403 insufficient_scope naming access_as_user when an app token calls /api/profile, with zero token requests', async () => {
      const before = providerCalls(chain);
      const reply = await send(profile(chain), appToken(chain));
      const body = expectCleanProviderError(reply, 403, 'ERR_OBO_INSUFFICIENT_SCOPE', chain.clientSecret);
      expect(body.code).toBe('ERR_OBO_INSUFFICIENT_SCOPE');
      expect(one(reply, 'www-authenticate')).toMatch(/^Bearer error="insufficient_scope", error_description="[^"]+", scope="access_as_user"$/);
      expect(chain.authority.requests.token).toBe(0);
      expect(chain.authority.tokenRequests.onBehalfOf + chain.authority.tokenRequests.clientCredentials).toBe(0);
      expect(providerCalls(chain) - before).toBe(0);
    });

    it.each([
      ['TokenAcquisition.getAccessTokenForUser', '/probe/obo-as-app'],
      ['DownstreamApi with a user (OBO) downstream API', '/probe/downstream-as-app'],
    ])('answers 403 ERR_OBO_APP_ONLY_CALLER without a scope parameter when an app caller reaches %s, with zero token requests', async (_via, path) => {
      const before = providerCalls(chain);
      const reply = await send(`${chain.original.url}${path}`, appToken(chain));
      expectCleanProviderError(reply, 403, 'ERR_OBO_APP_ONLY_CALLER', chain.clientSecret);
      expect(one(reply, 'www-authenticate')).toMatch(/^Bearer error="insufficient_scope", error_description="[^"]+"$/);
      expect(chain.authority.requests.token).toBe(0);
      expect(providerCalls(chain) - before).toBe(0);
    });
  });

  describe('#71 the On-Behalf-Of request and what the downstream API receives', () => {
    it('sends one jwt-bearer request with requested_token_use=on_behalf_of, the exact incoming token, the downstream scope and the client secret', async () => {
      const oid = randomUUID();
      const incoming = chain.userToken({ claims: { oid } });
      const reply = await send(profile(chain), incoming);
      expect({ status: reply.status, body: reply.body }).toEqual({ status: 200, body: expect.any(String) });
      expect(chain.authority.tokenRequests.onBehalfOf).toBe(1);
      expect(chain.authority.tokenRequests.clientCredentials).toBe(0);
      expect(chain.authority.tokenRequestLog).toHaveLength(1);
      const request = chain.authority.lastTokenRequest!;
      expect(request.grant_type).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
      expect(request.requested_token_use).toBe('on_behalf_of');
      expect(request.assertion).toBe(incoming);
      expect(request.client_id).toBe(chain.originalId);
      expect(request.client_secret).toBe(chain.clientSecret);
      expect(request.client_assertion).toBeUndefined();
      expect(request.claims).toBeUndefined();
      const scopes = (request.scope ?? '').split(' ');
      expect(scopes).toContain(chain.downstreamScope);
      expect(scopes.filter((s) => !['openid', 'profile', 'offline_access'].includes(s))).toEqual([chain.downstreamScope]);
      expect(chain.authority.tokenRequests.byUser.get(oid)).toBe(1);
      expectMsalCacheEmpty(chain);
    });

    it('calls the downstream API with a token for the downstream audience, issued to the Original API for the same user', async () => {
      const oid = randomUUID();
      const reply = await send(profile(chain), chain.userToken({ claims: { oid } }));
      expect(reply.status).toBe(200);
      const result = JSON.parse(reply.body) as { caller: Record<string, unknown>; downstream: Record<string, unknown> };
      expect(result.caller).toEqual({ objectId: oid, tenantId: chain.authority.tenantId });
      // The Downstream API validated the token against its own client id (aud) and reports azp.
      expect(result.downstream).toEqual({
        objectId: oid,
        subject: expect.any(String),
        tenantId: chain.authority.tenantId,
        clientAppId: chain.originalId,
        scopes: ['Downstream.Read'],
        roles: [],
        tokenKind: 'user',
      });
    });

    it('reuses the cached OBO token for the same incoming token (one provider request for two calls)', async () => {
      const incoming = chain.userToken();
      expect((await send(profile(chain), incoming)).status).toBe(200);
      expect((await send(profile(chain), incoming)).status).toBe(200);
      expect(chain.authority.tokenRequests.onBehalfOf).toBe(1);
    });
  });

  describe('#72 #73 claims challenges from the provider become one 401 insufficient_claims challenge', () => {
    const capolids = `{"access_token":{"capolids":{"essential":true,"values":["${'c1a9e0f4-7d7f-4a35-9d3a-2f4b1c7e9a10'}"]}}}`;
    const acrs = '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}';
    const unicode = '{"access_token":{"capolids":{"essential":true,"values":["…", "ünïcødé"]}}}';
    it.each<[string, TokenFault]>([
      ['#72 invalid_grant + suberror basic_action + AADSTS50076', { kind: 'claims-challenge', claims: capolids, suberror: 'basic_action', errorCodes: [50076] }],
      ['#72 invalid_grant + claims with non-ASCII text', { kind: 'claims-challenge', claims: unicode, suberror: 'basic_action' }],
      ['#73 invalid_grant + claims without a suberror', { kind: 'claims-challenge', claims: acrs }],
      ['#73 invalid_grant + claims with an unknown suberror', { kind: 'claims-challenge', claims: acrs, suberror: 'something_new' }],
      ['#73 interaction_required + claims', { kind: 'claims-challenge', claims: capolids, error: 'interaction_required' }],
      ['#73 interaction_required + claims + suberror', { kind: 'claims-challenge', claims: acrs, error: 'interaction_required', suberror: 'basic_action', errorCodes: [50079] }],
    ])('%s: 401 ERR_OBO_CLAIMS_CHALLENGE, one WWW-Authenticate carrying base64 of exactly that JSON, one provider request', async (_name, fault) => {
      chain.authority.injectTokenFault(fault, { grant: 'on_behalf_of' });
      const before = providerCalls(chain);
      const reply = await send(profile(chain), chain.userToken());
      expectCleanProviderError(reply, 401, 'ERR_OBO_CLAIMS_CHALLENGE', chain.clientSecret);
      const claims = (fault as { claims: string }).claims;
      const b64 = Buffer.from(claims, 'utf8').toString('base64');
      const challenge = one(reply, 'www-authenticate');
      expect(challenge).toBe(
        `Bearer realm="", authorization_uri="${chain.authority.instance}${chain.authority.tenantId}/oauth2/v2.0/authorize", ` +
          `client_id="${chain.originalId}", error="insufficient_claims", claims="${b64}"`,
      );
      const sent = /claims="([^"]*)"/.exec(challenge ?? '')?.[1] ?? '';
      expect(Buffer.from(sent, 'base64').toString('utf8')).toBe(claims);
      expect(chain.authority.tokenRequests.onBehalfOf).toBe(1);
      expect(providerCalls(chain) - before).toBe(1);
      expectMsalCacheEmpty(chain);
    });

    it('caches nothing after a claims challenge: the next call with the same token asks the provider again', async () => {
      const incoming = chain.userToken();
      chain.authority.injectTokenFault({ kind: 'claims-challenge', claims: acrs }, { times: 1 });
      expect((await send(profile(chain), incoming)).status).toBe(401);
      expect((await send(profile(chain), incoming)).status).toBe(200);
      expect(chain.authority.tokenRequests.onBehalfOf).toBe(2);
    });

    it.each<[string, TokenFault]>([
      ['invalid_grant without claims', { kind: 'status', status: 400, body: { error: 'invalid_grant', error_description: 'AADSTS50076: MFA. Trace ID: x', error_codes: [50076] } }],
      ['interaction_required without claims', { kind: 'status', status: 400, body: { error: 'interaction_required', error_description: 'AADSTS50079: enrol. Trace ID: x', error_codes: [50079] } }],
    ])('#73 %s: 401 invalid_token (H401), one provider request', async (_name, fault) => {
      chain.authority.injectTokenFault(fault, { grant: 'on_behalf_of' });
      const reply = await send(profile(chain), chain.userToken());
      expectCleanProviderError(reply, 401, 'ERR_OBO_TOKEN_INVALID', chain.clientSecret);
      expect(one(reply, 'www-authenticate')).toBe('Bearer error="invalid_token", error_description="The access token is invalid."');
      expect(chain.authority.tokenRequests.onBehalfOf).toBe(1);
    });
  });

  describe('#74 consent required', () => {
    it.each<[string, TokenFault]>([
      ['invalid_grant + suberror consent_required + AADSTS65001', { kind: 'consent-required' }],
      ['error consent_required', { kind: 'status', status: 400, body: { error: 'consent_required', error_description: 'AADSTS65001: consent. Trace ID: x', error_codes: [65001] } }],
      ['invalid_grant with only AADSTS65001 in error_codes', { kind: 'status', status: 400, body: { error: 'invalid_grant', error_description: 'AADSTS65001: consent', error_codes: [65001] } }],
    ])('%s: 403 ERR_OBO_CONSENT_REQUIRED with insufficient_scope naming the downstream scope, one provider request', async (_name, fault) => {
      chain.authority.injectTokenFault(fault, { grant: 'on_behalf_of' });
      const reply = await send(profile(chain), chain.userToken());
      expectCleanProviderError(reply, 403, 'ERR_OBO_CONSENT_REQUIRED', chain.clientSecret);
      expect(one(reply, 'www-authenticate')).toBe(
        `Bearer error="insufficient_scope", error_description="Consent is required for the downstream API.", scope="${chain.downstreamScope}"`,
      );
      expect(chain.authority.tokenRequests.onBehalfOf).toBe(1);
    });
  });

  describe('#75 the provider refuses the assertion', () => {
    it.each([500133, 50013])('invalid_grant AADSTS%i: 401 invalid_token ERR_OBO_TOKEN_INVALID, one provider request, no retry', async (code) => {
      chain.authority.injectTokenFault({ kind: 'invalid-grant', code }, { grant: 'on_behalf_of' });
      const before = providerCalls(chain);
      const reply = await send(profile(chain), chain.userToken());
      expectCleanProviderError(reply, 401, 'ERR_OBO_TOKEN_INVALID', chain.clientSecret);
      expect(one(reply, 'www-authenticate')).toBe('Bearer error="invalid_token", error_description="The access token is invalid."');
      expect(chain.authority.tokenRequests.onBehalfOf).toBe(1);
      expect(providerCalls(chain) - before).toBe(1);
    });
  });

  describe('#85 the incoming token expires between the guard and the OBO request', () => {
    it('answers 401 H401 when the provider, after a delay, finds the assertion expired (AADSTS500133)', async () => {
      // exp = now + 1 s: the guard accepts it (clock tolerance); the provider answers after 2.5 s,
      // when it has expired, and refuses it with invalid_grant AADSTS500133.
      const incoming = chain.userToken({ lifetimeSeconds: 1 });
      chain.authority.injectTokenFault({ kind: 'delay', ms: 2_500 }, { grant: 'on_behalf_of', times: 1 });
      const before = providerCalls(chain);
      const reply = await send(profile(chain), incoming);
      expectCleanProviderError(reply, 401, 'ERR_OBO_TOKEN_INVALID', chain.clientSecret);
      expect(one(reply, 'www-authenticate')).toBe('Bearer error="invalid_token", error_description="The access token is invalid."');
      expect(chain.authority.tokenRequests.onBehalfOf).toBe(1);
      expect(providerCalls(chain) - before).toBe(1);
    }, 20_000);
  });

  describe('#76 the provider refuses the Original API\u2019s own credentials', () => {
    it.each<[string, TokenFault]>([
      ['invalid_client AADSTS7000215 (bad secret)', { kind: 'invalid-client' }],
      ['invalid_client AADSTS7000222 (expired secret)', { kind: 'status', status: 401, body: { error: 'invalid_client', error_description: 'AADSTS7000222: expired. Trace ID: x', error_codes: [7000222] } }],
      ['unauthorized_client', { kind: 'status', status: 400, body: { error: 'unauthorized_client', error_description: 'AADSTS700016: nope', error_codes: [700016] } }],
    ])('%s: 500 with the generic ERR_OBO_INTERNAL body, no challenge, one error log line naming ERR_OBO_CLIENT_CREDENTIALS_INVALID', async (_name, fault) => {
      chain.authority.injectTokenFault(fault, { grant: 'on_behalf_of' });
      const reply = await send(profile(chain), chain.userToken());
      expectCleanProviderError(reply, 500, 'ERR_OBO_INTERNAL', chain.clientSecret);
      expect(JSON.parse(reply.body)).toEqual({ statusCode: 500, code: 'ERR_OBO_INTERNAL', message: 'The server could not complete the request.' });
      expect(reply.headers.has('www-authenticate')).toBe(false);
      expect(chain.authority.tokenRequests.onBehalfOf).toBe(1);
      // Exactly one error-level line names the cause (lower levels may trace it too).
      const errors = capture.entries.filter((l) => l.level === 'error' && l.text.includes('ERR_OBO_CLIENT_CREDENTIALS_INVALID'));
      expect(errors).toHaveLength(1);
      for (const line of capture.entries) {
        expect(line.text).not.toContain(chain.clientSecret);
        expect(line.text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
      }
    });
  });
});

describe('#71 the bearer token the downstream API receives (recorded by a stub downstream)', () => {
  let stub: StubDownstream;
  let chain: OboChain;
  beforeAll(async () => {
    stub = await startStubDownstream();
    chain = await startChain({ downstreamUrl: stub.url });
  }, 30_000);
  afterAll(async () => {
    await chain?.close();
    await stub?.close();
  });

  it('is the OBO token (aud = the downstream API, azp = the Original API, same user), never the incoming token', async () => {
    const oid = randomUUID();
    const incoming = chain.userToken({ claims: { oid } });
    const reply = await send(profile(chain), incoming);
    expect(reply.status).toBe(200);
    expect(stub.tokens).toHaveLength(1);
    const received = stub.tokens[0]!;
    expect(received).not.toBe(incoming);
    expect(jwtPayload(received)).toMatchObject({
      aud: chain.downstreamId,
      azp: chain.originalId,
      oid,
      tid: chain.authority.tenantId,
      scp: 'Downstream.Read',
    });
    expect(jwtPayload(incoming).aud).toBe(chain.originalId);
    expect(chain.authority.tokenRequests.onBehalfOf).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------
// #77 throttling (each scenario needs its own exchanger: the 429 gate is per module instance)
// ---------------------------------------------------------------------------------------------

describe('#77 a 429 whose Retry-After exceeds the deadline (30 s, default 10 s deadline)', () => {
  let chain: OboChain;
  chainForDescribe((started) => (chain = started));

  it('answers 503 ERR_OBO_PROVIDER_UNAVAILABLE at once with Retry-After >= 30 after one provider request', async () => {
    chain.authority.injectTokenFault({ kind: 'status', status: 429, retryAfter: 30 }, { times: 1 });
    const reply = await send(profile(chain), chain.userToken());
    expectCleanProviderError(reply, 503, 'ERR_OBO_PROVIDER_UNAVAILABLE', chain.clientSecret);
    expect(Number(one(reply, 'retry-after'))).toBeGreaterThanOrEqual(30);
    expect(reply.headers.has('www-authenticate')).toBe(false);
    expect(chain.authority.tokenRequests.onBehalfOf).toBe(1);
  });

  it('then answers 503 with Retry-After to other users, other scopes and app-token calls without any provider request', async () => {
    chain.authority.resetCounters();
    const before = providerCalls(chain);
    const replies = [
      await send(profile(chain), chain.userToken()),
      await send(`${chain.original.url}/probe/write-scope`, chain.userToken()),
      await send(`${chain.original.url}/api/app-profile`, appToken(chain)),
    ];
    for (const reply of replies) {
      expectCleanProviderError(reply, 503, 'ERR_OBO_PROVIDER_UNAVAILABLE', chain.clientSecret);
      const retryAfter = Number(one(reply, 'retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(30);
    }
    expect(chain.authority.requests.token).toBe(0);
    expect(providerCalls(chain) - before).toBe(0);
  });
});

describe('#77 a 429 whose Retry-After is an HTTP date 30 s ahead', () => {
  let chain: OboChain;
  chainForDescribe((started) => (chain = started));

  it('answers 503 with Retry-After of about 30 seconds after one provider request', async () => {
    chain.authority.injectTokenFault({ kind: 'status', status: 429, retryAfter: new Date(Date.now() + 31_000).toUTCString() }, { times: 1 });
    const reply = await send(profile(chain), chain.userToken());
    expectCleanProviderError(reply, 503, 'ERR_OBO_PROVIDER_UNAVAILABLE', chain.clientSecret);
    expect(Number(one(reply, 'retry-after'))).toBeGreaterThanOrEqual(29);
    expect(chain.authority.tokenRequests.onBehalfOf).toBe(1);
  });
});

describe('#77 a 429 whose Retry-After (2 s) exceeds a 1.5 s deadline, then passes', () => {
  let chain: OboChain;
  chainForDescribe((started) => (chain = started), { original: { tokenAcquisition: { timeoutMs: 1_500 } } });

  it('answers 503 with Retry-After >= 2, refuses other calls without provider requests, and calls the provider again once Retry-After passed', async () => {
    chain.authority.injectTokenFault({ kind: 'status', status: 429, retryAfter: 2 }, { times: 1 });
    const first = await send(profile(chain), chain.userToken());
    expectCleanProviderError(first, 503, 'ERR_OBO_PROVIDER_UNAVAILABLE', chain.clientSecret);
    expect(Number(one(first, 'retry-after'))).toBeGreaterThanOrEqual(2);
    expect(chain.authority.tokenRequests.onBehalfOf).toBe(1);

    const gated = await send(profile(chain), chain.userToken());
    expectCleanProviderError(gated, 503, 'ERR_OBO_PROVIDER_UNAVAILABLE', chain.clientSecret);
    expect(chain.authority.tokenRequests.onBehalfOf).toBe(1);

    await sleep(2_300);
    const after = await send(profile(chain), chain.userToken());
    expect(after.status).toBe(200);
    expect(chain.authority.tokenRequests.onBehalfOf).toBe(2);
  }, 20_000);
});

describe('#77 a 429 whose Retry-After (1 s) fits the deadline', () => {
  let chain: OboChain;
  chainForDescribe((started) => (chain = started));
  beforeEach(() => resetAuthority(chain));

  it('waits Retry-After, retries once and answers 200 (two provider requests)', async () => {
    chain.authority.injectTokenFault({ kind: 'status', status: 429, retryAfter: 1 }, { times: 1 });
    const reply = await send(profile(chain), chain.userToken());
    expect(reply.status).toBe(200);
    expect(chain.authority.tokenRequests.onBehalfOf).toBe(2);
  }, 20_000);

  it('answers 503 with Retry-After after the single retry is throttled too (two provider requests, no more)', async () => {
    await sleep(1_100); // let the previous test's Retry-After window pass
    chain.authority.injectTokenFault({ kind: 'status', status: 429, retryAfter: 1 });
    const reply = await send(profile(chain), chain.userToken());
    expectCleanProviderError(reply, 503, 'ERR_OBO_PROVIDER_UNAVAILABLE', chain.clientSecret);
    expect(Number(one(reply, 'retry-after'))).toBeGreaterThanOrEqual(1);
    expect(chain.authority.tokenRequests.onBehalfOf).toBe(2);
  }, 20_000);
});

// ---------------------------------------------------------------------------------------------
// #78 5xx and connection refused, #79 hang and slow answers, #80 malformed answers
// ---------------------------------------------------------------------------------------------

describe('#78 #79 #80 provider outages and unusable answers', () => {
  let chain: OboChain;
  chainForDescribe((started) => (chain = started), { original: { tokenAcquisition: { timeoutMs: 1_500 } } });
  beforeEach(() => resetAuthority(chain));

  it.each([500, 502, 503, 504])('#78 provider %i on every attempt: 503 ERR_OBO_PROVIDER_UNAVAILABLE with Retry-After 5 after exactly one retry', async (status) => {
    chain.authority.injectTokenFault({ kind: 'status', status });
    const before = providerCalls(chain);
    const reply = await send(profile(chain), chain.userToken());
    expectCleanProviderError(reply, 503, 'ERR_OBO_PROVIDER_UNAVAILABLE', chain.clientSecret);
    expect(one(reply, 'retry-after')).toBe('5');
    expect(reply.headers.has('www-authenticate')).toBe(false);
    expect(chain.authority.tokenRequests.onBehalfOf).toBe(2);
    expect(providerCalls(chain) - before).toBe(2);
  });

  it('#78 provider 503 with Retry-After 7: 503 carrying Retry-After >= 7 after exactly one retry', async () => {
    chain.authority.injectTokenFault({ kind: 'status', status: 503, retryAfter: 7 });
    const reply = await send(profile(chain), chain.userToken());
    expectCleanProviderError(reply, 503, 'ERR_OBO_PROVIDER_UNAVAILABLE', chain.clientSecret);
    expect(Number(one(reply, 'retry-after'))).toBeGreaterThanOrEqual(7);
    expect(chain.authority.tokenRequests.onBehalfOf).toBe(2);
  });

  it('#78 provider 500 once: the single retry succeeds and the caller gets 200 (two provider requests)', async () => {
    chain.authority.injectTokenFault({ kind: 'status', status: 500 }, { times: 1 });
    const reply = await send(profile(chain), chain.userToken());
    expect(reply.status).toBe(200);
    expect(chain.authority.tokenRequests.onBehalfOf).toBe(2);
  });

  it('#79 provider accepts the request and never answers: 504 ERR_OBO_PROVIDER_TIMEOUT with Retry-After, one provider request', async () => {
    chain.authority.injectTokenFault({ kind: 'hang' });
    const before = providerCalls(chain);
    const reply = await send(profile(chain), chain.userToken());
    expectCleanProviderError(reply, 504, 'ERR_OBO_PROVIDER_TIMEOUT', chain.clientSecret);
    expect(Number(one(reply, 'retry-after'))).toBeGreaterThanOrEqual(1);
    expect(reply.headers.has('www-authenticate')).toBe(false);
    expect(chain.authority.tokenRequests.onBehalfOf).toBe(1);
    expect(providerCalls(chain) - before).toBe(1);
  }, 20_000);

  it('#79 provider answers only after the deadline (5 s delay, 1.5 s deadline): 504 ERR_OBO_PROVIDER_TIMEOUT, one provider request', async () => {
    chain.authority.injectTokenFault({ kind: 'delay', ms: 5_000 });
    const reply = await send(profile(chain), chain.userToken());
    expectCleanProviderError(reply, 504, 'ERR_OBO_PROVIDER_TIMEOUT', chain.clientSecret);
    expect(Number(one(reply, 'retry-after'))).toBeGreaterThanOrEqual(1);
    expect(chain.authority.tokenRequests.onBehalfOf).toBe(1);
  }, 20_000);

  it('#79 the next call after a timeout is served normally (nothing stuck)', async () => {
    const reply = await send(profile(chain), chain.userToken());
    expect(reply.status).toBe(200);
    expect(chain.authority.tokenRequests.onBehalfOf).toBe(1);
  });

  const expiresIn = (value: unknown): TokenFault => ({ kind: 'status', status: 200, body: { token_type: 'Bearer', expires_in: value, access_token: 'eyJhbGciOiJub25lIn0.eyJ4IjoxfQ.' } });
  it.each<[string, TokenFault]>([
    ['malformed JSON', { kind: 'malformed-json' }],
    ['no access_token', { kind: 'bad-token-response', variant: 'missing-access-token' }],
    ['token_type N_A', { kind: 'bad-token-response', variant: 'token-type-n_a' }],
    ['expires_in 0', { kind: 'bad-token-response', variant: 'expires-in-zero' }],
    ['expires_in about 100 years', { kind: 'bad-token-response', variant: 'expires-in-absurd' }],
    ['expires_in -60', expiresIn(-60)],
    ['expires_in 49 h', expiresIn(49 * 3600)],
    ['an empty access_token', { kind: 'status', status: 200, body: { token_type: 'Bearer', expires_in: 3600, access_token: '' } }],
    ['access_token that is not a string', { kind: 'status', status: 200, body: { token_type: 'Bearer', expires_in: 3600, access_token: 42 } }],
    ['a body over 256 KiB', { kind: 'status', status: 200, body: { token_type: 'Bearer', expires_in: 3600, access_token: 'x.y.z', pad: 'x'.repeat(300 * 1024) } }],
  ])('#80 provider 200 with %s: 502 ERR_OBO_PROVIDER_BAD_RESPONSE, one provider request, nothing cached', async (_name, fault) => {
    chain.authority.injectTokenFault(fault, { grant: 'on_behalf_of', times: 1 });
    const incoming = chain.userToken();
    const before = providerCalls(chain);
    const reply = await send(profile(chain), incoming);
    expectCleanProviderError(reply, 502, 'ERR_OBO_PROVIDER_BAD_RESPONSE', chain.clientSecret);
    expect(reply.headers.has('www-authenticate')).toBe(false);
    expect(chain.authority.tokenRequests.onBehalfOf).toBe(1);
    expect(providerCalls(chain) - before).toBe(1);
    expectMsalCacheEmpty(chain);
    // Nothing was cached: the same incoming token makes a new provider request, which succeeds.
    const again = await send(profile(chain), incoming);
    expect(again.status).toBe(200);
    expect(chain.authority.tokenRequests.onBehalfOf).toBe(2);
  });

  // msal derives expiresOn from a request time rounded to the nearest second (Math.round), so a
  // lifetime check made on expiresOn alone can see "expires_in 0" as up to 0.5 s of life. Sending
  // the request at .600 of a wall-clock second makes that case happen every time.
  it.each<[string, TokenFault]>([
    ['expires_in 0', { kind: 'bad-token-response', variant: 'expires-in-zero' }],
    ['no expires_in at all', { kind: 'status', status: 200, body: { token_type: 'Bearer', access_token: 'eyJhbGciOiJub25lIn0.eyJ4IjoxfQ.' } }],
  ])('#80 provider 200 with %s, requested in the second half of a second: still 502 ERR_OBO_PROVIDER_BAD_RESPONSE, one provider request', async (_name, fault) => {
    chain.authority.injectTokenFault(fault, { grant: 'on_behalf_of', times: 1 });
    const incoming = chain.userToken();
    await sleepUntilMillisecond(600);
    const reply = await send(profile(chain), incoming);
    expectCleanProviderError(reply, 502, 'ERR_OBO_PROVIDER_BAD_RESPONSE', chain.clientSecret);
    expect(chain.authority.tokenRequests.onBehalfOf).toBe(1);
  });
});

describe('#78 the token endpoint refuses connections', () => {
  let authority: LocalAuthority;
  let chain: OboChain;
  beforeAll(async () => {
    authority = await LocalAuthority.start();
    chain = await startChain({ authority });
    // Warm up: signing keys and metadata are cached, so only the token endpoint is missed below.
    expect((await send(profile(chain), chain.userToken())).status).toBe(200);
    await authority.close();
  }, 30_000);
  afterAll(async () => {
    await chain?.close();
  });

  it('answers 503 ERR_OBO_PROVIDER_UNAVAILABLE with Retry-After 5 after exactly one retry', async () => {
    const before = providerCalls(chain);
    const reply = await send(profile(chain), chain.userToken());
    expectCleanProviderError(reply, 503, 'ERR_OBO_PROVIDER_UNAVAILABLE', chain.clientSecret);
    expect(one(reply, 'retry-after')).toBe('5');
    expect(providerCalls(chain) - before).toBe(2);
  }, 20_000);
});

// ---------------------------------------------------------------------------------------------
// #79 slow-drip: an https front for the authority that answers the token endpoint byte by byte
// ---------------------------------------------------------------------------------------------

interface DripFront {
  readonly instance: string;
  readonly tokenRequests: number;
  close(): Promise<void>;
}

/**
 * Serves the authority's discovery and JWKS under its own origin (URLs rewritten) and answers
 * token requests with a 200 whose JSON body arrives one byte every 100 ms (at most 150 bytes).
 */
async function startDripFront(authority: LocalAuthority): Promise<DripFront> {
  const tls = certificateFromEnvironment();
  if (!tls) throw new Error('Run through scripts/test.mjs (LOCAL_AUTHORITY_TLS_DIR).');
  const timers = new Set<NodeJS.Timeout>();
  let tokenRequests = 0;
  let instance = '';
  const server: HttpsServer = createHttpsServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const path = req.url ?? '/';
    if (req.method === 'POST' && new URL(path, 'https://front/').pathname.endsWith('/oauth2/v2.0/token')) {
      tokenRequests++;
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"token_type":"Bearer",');
      let left = 150;
      const timer = setInterval(() => {
        if (--left <= 0 || res.destroyed) {
          clearInterval(timer);
          timers.delete(timer);
          res.end('"expires_in":3599}');
          return;
        }
        res.write(' ');
      }, 100);
      timers.add(timer);
      return;
    }
    fetch(new URL(path.slice(1), authority.instance))
      .then(async (upstream) => {
        const text = (await upstream.text()).replaceAll(authority.instance, instance);
        res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(text);
      })
      .catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  instance = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    instance,
    get tokenRequests() {
      return tokenRequests;
    },
    close: async () => {
      for (const timer of timers) clearInterval(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('#79 the provider sends headers and then drips the body', () => {
  let authority: LocalAuthority;
  let front: DripFront;
  let chain: OboChain;
  beforeAll(async () => {
    authority = await LocalAuthority.start();
    front = await startDripFront(authority);
    chain = await startChain({ authority, original: { instance: front.instance, tokenAcquisition: { timeoutMs: 1_500 } } });
  }, 30_000);
  afterAll(async () => {
    await chain?.close();
    await front?.close();
    await authority?.close();
  });

  it('answers 504 ERR_OBO_PROVIDER_TIMEOUT with Retry-After within the deadline, after one token request', async () => {
    const tenantId = authority.tenantId;
    const incoming = chain.userToken({ claims: { iss: `${front.instance}${tenantId}/v2.0` } });
    const before = providerCalls(chain);
    const reply = await send(profile(chain), incoming);
    expectCleanProviderError(reply, 504, 'ERR_OBO_PROVIDER_TIMEOUT', chain.clientSecret);
    expect(Number(one(reply, 'retry-after'))).toBeGreaterThanOrEqual(1);
    expect(front.tokenRequests).toBe(1);
    expect(providerCalls(chain) - before).toBe(1);
  }, 20_000);
});
