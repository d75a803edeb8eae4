import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { AddressInfo } from 'node:net';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { OboModule, RequiredAppPermissions, TokenAcquisition, type OboModuleOptions } from 'nestjs-obo';
import { LocalAuthority, signCompact, type TokenFault } from 'nestjs-obo/testing';
import { ProfileController } from '../apps/original-api/src/profile.controller.js';
import { CONFIDENTIAL_CLIENT, type ConfidentialClient } from '../libs/obo/src/outbound/token-acquisition/confidential-client.provider.js';
import { CapturingLogger } from './support/capturing-logger.js';
import { sleepUntilMillisecond } from './support/clock.js';
import { rawRequest, type RawResponse } from './support/raw-request.js';
import { startStubDownstream, type StubDownstream } from './support/stub-downstream.js';

// Catalogue 4.9 (#95-#99) for the outbound path: a battery of On-Behalf-Of successes and failures
// against the local authority and a scripted downstream, with every log line of every level captured.
// Then: no log line holds a token, the secret, a client assertion or a refresh token, and no error
// response carries provider text, ids, host names or stack frames.

/** One token-endpoint exchange as it went over the wire (observed, passed through unchanged). */
interface ProviderExchange {
  readonly form: URLSearchParams;
  readonly requestId: string | null;
  readonly status: number;
  readonly body: Record<string, unknown> | undefined;
}

/** A value that must never appear in a log line, with what it is (for the failure message). */
interface Secret {
  readonly kind: string;
  readonly value: string;
}

const originalId = randomUUID();
const assertionClientId = randomUUID();
const downstreamId = randomUUID();
const clientSecret = `secret-${randomUUID()}`;
const downstreamScope = `api://${downstreamId}/Downstream.Read`;
const claimsJson = '{"access_token":{"capolids":{"essential":true,"values":["c1a2b3"]}}}';
const claimsB64 = Buffer.from(claimsJson, 'utf8').toString('base64');
const MARKER = 'HOSTILE-MARKER';

@Controller('api')
class AppOnlyOboController {
  constructor(private readonly tokens: TokenAcquisition) {}

  /** An app-only caller reaching getAccessTokenForUser (the scopes guard lets it through). */
  @Get('app-obo')
  @RequiredAppPermissions('Profile.Read.All')
  async appObo(): Promise<{ ok: true }> {
    await this.tokens.getAccessTokenForUser([downstreamScope]);
    return { ok: true };
  }
}

describe('outbound leakage and error hygiene (#95-#99, On-Behalf-Of path)', () => {
  const logger = new CapturingLogger();
  const exchanges: ProviderExchange[] = [];
  const presented: string[] = [];
  const harvested: Secret[] = [];
  const errorResponses: { step: string; res: RawResponse }[] = [];
  let authority: LocalAuthority;
  let stub: StubDownstream;
  let secretApi: { app: INestApplication; url: string };
  let assertionApi: { app: INestApplication; url: string };
  /** Token-endpoint exchanges still on the wire, by undici request. */
  const onWire = new WeakMap<object, { sent: Buffer[]; requestId: string | null; status: number; received: Buffer[] }>();
  type Observed = { request: { origin?: string; path: string; headers: unknown }; chunk?: Uint8Array; response?: { statusCode: number } };
  const observers: Record<string, (message: unknown) => void> = {
    'undici:request:create': (message) => {
      const { request } = message as Observed;
      if (!request.path.includes('/oauth2/v2.0/token')) return;
      const headers = Array.isArray(request.headers) ? (request.headers as string[]) : [];
      const at = headers.findIndex((h, i) => i % 2 === 0 && h.toLowerCase() === 'client-request-id');
      onWire.set(request, { sent: [], requestId: at >= 0 ? headers[at + 1]! : null, status: 0, received: [] });
    },
    'undici:request:bodyChunkSent': (message) => {
      const { request, chunk } = message as Observed;
      onWire.get(request)?.sent.push(Buffer.from(chunk!));
    },
    'undici:request:headers': (message) => {
      const { request, response } = message as Observed;
      const exchange = onWire.get(request);
      if (exchange) exchange.status = response!.statusCode;
    },
    'undici:request:bodyChunkReceived': (message) => {
      const { request, chunk } = message as Observed;
      onWire.get(request)?.received.push(Buffer.from(chunk!));
    },
    'undici:request:trailers': (message) => {
      const { request } = message as Observed;
      const exchange = onWire.get(request);
      if (!exchange) return;
      onWire.delete(request);
      let body: Record<string, unknown> | undefined;
      try {
        body = JSON.parse(Buffer.concat(exchange.received).toString('utf8')) as Record<string, unknown>;
      } catch {
        body = undefined; // malformed on purpose
      }
      exchanges.push({ form: new URLSearchParams(Buffer.concat(exchange.sent).toString('utf8')), requestId: exchange.requestId, status: exchange.status, body });
    },
  };

  async function boot(options: OboModuleOptions): Promise<{ app: INestApplication; url: string }> {
    @Module({ imports: [OboModule.forRoot(options)], controllers: [ProfileController, AppOnlyOboController] })
    class OriginalModule {}
    const app = await NestFactory.create(OriginalModule, { logger });
    await app.listen(0, '127.0.0.1');
    return { app, url: `http://127.0.0.1:${(app.getHttpServer() as { address(): AddressInfo }).address().port}` };
  }

  beforeAll(async () => {
    // Observe (never alter) the library's token requests: the refresh and id tokens the authority
    // issues exist only in its responses, and the log check must know them. The library calls the
    // token endpoint with undici's fetch on its egress dispatcher; undici's diagnostics channels see it.
    for (const [name, observer] of Object.entries(observers)) subscribe(name, observer);
    authority = await LocalAuthority.start({ clientId: originalId });
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    authority.registerApp({ clientId: originalId, clientSecret, scopes: ['access_as_user'] });
    authority.registerApp({ clientId: assertionClientId, clientAssertionKey: publicKey, scopes: ['access_as_user'] });
    authority.registerApp({ clientId: downstreamId, scopes: ['Downstream.Read', 'Downstream.Write'] });
    stub = await startStubDownstream();
    const common = {
      instance: authority.instance,
      tenantId: authority.tenantId,
      tokenAcquisition: { timeoutMs: 2500 },
      downstreamApis: { downstream: { baseUrl: stub.url, scopes: [downstreamScope], timeoutMs: 1000 } },
    };
    secretApi = await boot({ ...common, clientId: originalId, clientSecret });
    assertionApi = await boot({
      ...common,
      clientId: assertionClientId,
      clientAssertion: async () => {
        const now = Math.floor(Date.now() / 1000);
        const payload = { iss: assertionClientId, sub: assertionClientId, aud: authority.tokenEndpoint(), iat: now, nbf: now, exp: now + 300, jti: randomUUID() };
        return signCompact(JSON.stringify({ alg: 'RS256', typ: 'JWT' }), JSON.stringify(payload), 'RS256', privateKey);
      },
    });
  }, 30_000);

  afterEach(() => {
    authority.clearTokenFaults();
    stub.script.length = 0;
    for (const record of authority.tokenRequestLog) {
      for (const field of ['assertion', 'client_secret', 'client_assertion'] as const) {
        const value = record[field];
        if (value) harvested.push({ kind: `token request ${field}`, value });
      }
    }
  });

  afterAll(async () => {
    for (const [name, observer] of Object.entries(observers)) unsubscribe(name, observer);
    await secretApi?.app.close();
    await assertionApi?.app.close();
    await stub?.close();
    await authority?.close();
  });

  function newUser(audience = originalId): { oid: string; token: string } {
    const oid = randomUUID();
    const token = authority.mintUserToken({ audience, claims: { oid, sub: randomUUID() } });
    presented.push(token);
    return { oid, token };
  }

  function call(token: string, path = '/api/profile', url = secretApi.url): Promise<RawResponse> {
    return rawRequest(url, 'GET', path, [`Authorization: Bearer ${token}`]);
  }

  function requestsOf(oid: string): number {
    return authority.tokenRequests.byUser.get(oid) ?? 0;
  }

  /** Asserts an outbound error response: status, code, exact challenge (or none), Retry-After, and hygiene. */
  function expectOboError(step: string, res: RawResponse, status: number, code: string, challenge: string | RegExp | null, retryAfterAtLeast?: number): void {
    errorResponses.push({ step, res });
    expect({ step, status: res.status }).toEqual({ step, status });
    const body = res.json<{ statusCode: number; code: string; message: string }>();
    expect(Object.keys(body).sort()).toEqual(['code', 'message', 'statusCode']);
    expect(body).toMatchObject({ statusCode: status, code });
    const challenges = res.headerLines.filter((l) => /^www-authenticate:/i.test(l)).map((l) => l.slice(l.indexOf(':') + 1).trim());
    if (challenge === null) expect(challenges).toEqual([]);
    else {
      expect(challenges).toHaveLength(1);
      if (typeof challenge === 'string') expect(challenges[0]).toBe(challenge);
      else expect(challenges[0]).toMatch(challenge);
    }
    if (retryAfterAtLeast !== undefined) expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(retryAfterAtLeast);
    else expect(res.headers['retry-after']).toBeUndefined();
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['set-cookie']).toBeUndefined();
  }

  const hcc = (claims: string) =>
    `Bearer realm="", authorization_uri="${authority.instance}${authority.tenantId}/oauth2/v2.0/authorize", client_id="${originalId}", error="insufficient_claims", claims="${Buffer.from(claims, 'utf8').toString('base64')}"`;
  const invalidToken = 'Bearer error="invalid_token", error_description="The access token is invalid."';

  it('answers 200 and sends the downstream the OBO token issued by the authority, never the incoming token', async () => {
    const u = newUser();
    const res = await call(u.token);
    expect(res.status).toBe(200);
    const forwarded = stub.tokens.at(-1)!;
    expect(forwarded).not.toBe(u.token);
    expect(exchanges.at(-1)?.body?.access_token).toBe(forwarded);
    expect(exchanges.at(-1)?.body?.refresh_token).toEqual(expect.any(String));
  });

  it('answers a second call of the same user from the cache, without a provider request', async () => {
    const u = newUser();
    expect((await call(u.token)).status).toBe(200);
    const obo = authority.tokenRequests.onBehalfOf;
    expect((await call(u.token)).status).toBe(200);
    expect(authority.tokenRequests.onBehalfOf).toBe(obo);
    expect(stub.tokens.at(-1)).toBe(stub.tokens.at(-2));
  });

  it.each([
    ['invalid_grant with suberror basic_action', { error: 'invalid_grant', suberror: 'basic_action' }],
    ['invalid_grant without a suberror', { error: 'invalid_grant' }],
    ['interaction_required', { error: 'interaction_required' }],
  ] as const)('#72/#73 answers a provider claims challenge (%s) with 401 insufficient_claims carrying exactly those claims, after one provider request', async (_name, shape) => {
    const u = newUser();
    authority.injectTokenFault({ kind: 'claims-challenge', claims: claimsJson, ...shape }, { oid: u.oid });
    const downstreamCalls = stub.tokens.length;
    expectOboError('claims challenge', await call(u.token), 401, 'ERR_OBO_CLAIMS_CHALLENGE', hcc(claimsJson));
    expect(requestsOf(u.oid)).toBe(1);
    expect(stub.tokens.length).toBe(downstreamCalls);
  });

  it('#74 answers consent_required (AADSTS65001) with 403 insufficient_scope naming the downstream scope', async () => {
    const u = newUser();
    authority.injectTokenFault({ kind: 'consent-required' }, { oid: u.oid });
    expectOboError(
      'consent',
      await call(u.token),
      403,
      'ERR_OBO_CONSENT_REQUIRED',
      `Bearer error="insufficient_scope", error_description="Consent is required for the downstream API.", scope="${downstreamScope}"`,
    );
    expect(requestsOf(u.oid)).toBe(1);
  });

  it.each([500133, 50013])('#75 answers invalid_grant AADSTS%i with 401 invalid_token', async (code) => {
    const u = newUser();
    authority.injectTokenFault({ kind: 'invalid-grant', code }, { oid: u.oid });
    expectOboError(`invalid_grant ${code}`, await call(u.token), 401, 'ERR_OBO_TOKEN_INVALID', invalidToken);
    expect(requestsOf(u.oid)).toBe(1);
  });

  it.each([
    ['invalid_client (AADSTS7000215)', { kind: 'invalid-client' }],
    [
      'unauthorized_client (AADSTS700016)',
      {
        kind: 'status',
        status: 400,
        body: {
          error: 'unauthorized_client',
          error_description: `AADSTS700016: Application with identifier '${originalId}' was not found in the directory.\r\nTrace ID: ${randomUUID()}\r\nCorrelation ID: ${randomUUID()}\r\nTimestamp: 2030-01-01 00:00:00Z`,
          error_codes: [700016],
          trace_id: randomUUID(),
          correlation_id: randomUUID(),
        },
      },
    ],
  ] as [string, TokenFault][])('#76 answers %s with a generic 500 and logs one error line naming ERR_OBO_CLIENT_CREDENTIALS_INVALID', async (_name, fault) => {
    const u = newUser();
    authority.injectTokenFault(fault, { oid: u.oid });
    const logged = logger.lines.length;
    const res = await call(u.token);
    expectOboError('invalid client', res, 500, 'ERR_OBO_INTERNAL', null);
    expect(res.json()).toEqual({ statusCode: 500, code: 'ERR_OBO_INTERNAL', message: 'The server could not complete the request.' });
    const named = logger.lines.slice(logged).filter((l) => l.includes('ERR_OBO_CLIENT_CREDENTIALS_INVALID'));
    expect(named.filter((l) => /^(error|fatal) /.test(l))).toHaveLength(1);
    expect(requestsOf(u.oid)).toBe(1);
  });

  it('#77 waits out a 429 whose Retry-After fits the deadline and retries once', async () => {
    const u = newUser();
    authority.injectTokenFault({ kind: 'status', status: 429, retryAfter: 1 }, { oid: u.oid, times: 1 });
    expect((await call(u.token)).status).toBe(200);
    expect(requestsOf(u.oid)).toBe(2);
  }, 15_000);

  it.each([
    ['500 without Retry-After', { kind: 'status', status: 500 }, 5],
    ['503 without Retry-After', { kind: 'status', status: 503 }, 5],
    ['503 with Retry-After 7', { kind: 'status', status: 503, retryAfter: 7 }, 7],
  ] as [string, TokenFault, number][])('#78 answers a provider %s with 503 and Retry-After after exactly one retry', async (_name, fault, retryAfter) => {
    const u = newUser();
    authority.injectTokenFault(fault, { oid: u.oid });
    expectOboError('provider 5xx', await call(u.token), 503, 'ERR_OBO_PROVIDER_UNAVAILABLE', null, retryAfter);
    expect(requestsOf(u.oid)).toBe(2);
  }, 15_000);

  it('#79 answers a hung provider with 504 and Retry-After once the deadline passes', async () => {
    const u = newUser();
    authority.injectTokenFault({ kind: 'hang' }, { oid: u.oid });
    expectOboError('provider hang', await call(u.token), 504, 'ERR_OBO_PROVIDER_TIMEOUT', null, 1);
  }, 15_000);

  it.each([
    ['malformed JSON', { kind: 'malformed-json' }],
    ['no access_token', { kind: 'bad-token-response', variant: 'missing-access-token' }],
    ['token_type N_A', { kind: 'bad-token-response', variant: 'token-type-n_a' }],
    ['expires_in 0', { kind: 'bad-token-response', variant: 'expires-in-zero' }],
    ['an absurd expires_in', { kind: 'bad-token-response', variant: 'expires-in-absurd' }],
    ['no expires_in', 'no-expires-in'],
  ] as [string, TokenFault | 'no-expires-in'][])('#80 answers a provider 200 with %s with 502 and caches nothing', async (_name, fault) => {
    const u = newUser();
    const injected: TokenFault =
      fault === 'no-expires-in'
        ? { kind: 'status', status: 200, body: { token_type: 'Bearer', scope: 'Downstream.Read', access_token: authority.mintUserToken({ audience: downstreamId, claims: { oid: u.oid, scp: 'Downstream.Read' } }) } }
        : fault;
    authority.injectTokenFault(injected, { oid: u.oid, times: 1 });
    const downstreamCalls = stub.tokens.length;
    // msal computes expiry from its request time rounded to the nearest second; starting in the second
    // half of a wall-clock second makes that rounding go up, the case where a zero lifetime looks positive.
    await sleepUntilMillisecond(600);
    expectOboError('bad provider response', await call(u.token), 502, 'ERR_OBO_PROVIDER_BAD_RESPONSE', null);
    expect(stub.tokens.length).toBe(downstreamCalls);
    expect(requestsOf(u.oid)).toBe(1);
    expect((await call(u.token)).status).toBe(200); // the next call asks the provider again
    expect(requestsOf(u.oid)).toBe(2);
  });

  it('#82 re-acquires once with the claims of a downstream 401 insufficient_claims challenge and retries once', async () => {
    const u = newUser();
    stub.script.push({ status: 401, headers: { 'www-authenticate': `Bearer realm="", error="insufficient_claims", claims="${claimsB64}"` } });
    const downstreamCalls = stub.tokens.length;
    expect((await call(u.token)).status).toBe(200);
    expect(stub.tokens.length - downstreamCalls).toBe(2);
    expect(stub.tokens.at(-1)).not.toBe(stub.tokens.at(-2));
    expect(requestsOf(u.oid)).toBe(2);
    // msal adds its own id_token members to a claims request; the access_token part must be the downstream's.
    expect((JSON.parse(authority.lastTokenRequest?.claims ?? '{}') as { access_token?: unknown }).access_token).toEqual((JSON.parse(claimsJson) as { access_token: unknown }).access_token);
  });

  it('#82 passes the provider\'s claims challenge to the client when the re-acquisition for a downstream challenge is refused', async () => {
    const u = newUser();
    const providerClaims = '{"access_token":{"acrs":{"essential":true,"value":"c2"}}}';
    stub.script.push({ status: 401, headers: { 'www-authenticate': `Bearer realm="", error="insufficient_claims", claims="${claimsB64}"` } });
    authority.injectTokenFault({ kind: 'claims-challenge', claims: providerClaims, suberror: 'basic_action' }, { oid: u.oid, whenClaimsPresent: true });
    const downstreamCalls = stub.tokens.length;
    expectOboError('downstream claims then provider challenge', await call(u.token), 401, 'ERR_OBO_CLAIMS_CHALLENGE', hcc(providerClaims));
    expect(stub.tokens.length - downstreamCalls).toBe(1);
    expect(requestsOf(u.oid)).toBe(2);
  });

  it('#83 answers 502 after one forced refresh when the downstream refuses with a plain 401 twice', async () => {
    const u = newUser();
    const plain = { status: 401, headers: { 'www-authenticate': `Bearer error="invalid_token", error_description="${MARKER}"` }, body: { error: MARKER } };
    stub.script.push(plain, plain);
    const downstreamCalls = stub.tokens.length;
    expectOboError('downstream plain 401', await call(u.token), 502, 'ERR_OBO_DOWNSTREAM_FAILED', null);
    expect(stub.tokens.length - downstreamCalls).toBe(2);
    expect(requestsOf(u.oid)).toBe(2);
  });

  it.each([
    ['claims that are not base64', `Bearer error="insufficient_claims", claims="${MARKER}!"`],
    ['claims that are not JSON', `Bearer error="insufficient_claims", claims="${Buffer.from(MARKER).toString('base64')}"`],
    ['claims over 4 KB', `Bearer error="insufficient_claims", claims="${Buffer.from(JSON.stringify({ m: MARKER.repeat(400) })).toString('base64')}"`],
    ['two claims parameters', `Bearer error="insufficient_claims", claims="${claimsB64}", claims="${Buffer.from(`{"m":"${MARKER}"}`).toString('base64')}"`],
    ['a quote inside the claims', `Bearer error="insufficient_claims", claims="${claimsB64}\\"${MARKER}"`],
  ])('#84 answers a hostile downstream challenge (%s) with 502, no retry and nothing reflected', async (_name, header) => {
    const u = newUser();
    stub.script.push({ status: 401, headers: { 'www-authenticate': header } });
    const downstreamCalls = stub.tokens.length;
    expectOboError('hostile challenge', await call(u.token), 502, 'ERR_OBO_DOWNSTREAM_FAILED', null);
    expect(stub.tokens.length - downstreamCalls).toBe(1);
    expect(requestsOf(u.oid)).toBe(1);
  });

  it.each([500, 404])('answers a downstream %i with 502 and never echoes its body', async (status) => {
    const u = newUser();
    stub.script.push({ status, body: { error: MARKER, detail: 'AADSTS50076 Trace ID: x', leaked: u.token } });
    expectOboError(`downstream ${status}`, await call(u.token), 502, 'ERR_OBO_DOWNSTREAM_FAILED', null);
  });

  it('answers a hung downstream with 504 ERR_OBO_DOWNSTREAM_TIMEOUT', async () => {
    const u = newUser();
    stub.script.push({ hang: true });
    expectOboError('downstream hang', await call(u.token), 504, 'ERR_OBO_DOWNSTREAM_TIMEOUT', null);
  }, 15_000);

  it('#70 answers an app-only caller of getAccessTokenForUser with 403 ERR_OBO_APP_ONLY_CALLER and no provider request', async () => {
    const token = authority.mintAppToken({ audience: originalId, claims: { roles: ['Profile.Read.All'] } });
    presented.push(token);
    const before = authority.requests.token;
    expectOboError('app-only caller', await call(token, '/api/app-obo'), 403, 'ERR_OBO_APP_ONLY_CALLER', /^Bearer error="insufficient_scope", error_description="[^"]+"$/);
    expect(authority.requests.token).toBe(before);
  });

  it('authenticates with a client assertion (private key JWT) and answers 200', async () => {
    const u = newUser(assertionClientId);
    expect((await call(u.token, '/api/profile', assertionApi.url)).status).toBe(200);
    expect(authority.lastTokenRequest?.client_assertion).toEqual(expect.stringMatching(/^eyJ/));
  });

  it('#76 answers invalid_client for the client-assertion API with the generic 500', async () => {
    const u = newUser(assertionClientId);
    authority.injectTokenFault({ kind: 'invalid-client' }, { oid: u.oid });
    const res = await call(u.token, '/api/profile', assertionApi.url);
    expectOboError('invalid client (assertion)', res, 500, 'ERR_OBO_INTERNAL', null);
  });

  it('#77 answers a 429 whose Retry-After exceeds the deadline with 503 at once, and keeps every other call off the provider until it passes', async () => {
    const u = newUser();
    authority.injectTokenFault({ kind: 'status', status: 429, retryAfter: 30 }, { oid: u.oid });
    expectOboError('429 long', await call(u.token), 503, 'ERR_OBO_PROVIDER_UNAVAILABLE', null, 30);
    expect(requestsOf(u.oid)).toBe(1);
    const other = newUser();
    const before = authority.requests.token;
    expectOboError('throttled gate', await call(other.token), 503, 'ERR_OBO_PROVIDER_UNAVAILABLE', null, 1);
    expect(authority.requests.token).toBe(before);
  }, 15_000);

  it('bridges msal logs at warning and error level only, with PII logging off', () => {
    const msal = secretApi.app.get<symbol, ConfidentialClient>(CONFIDENTIAL_CLIENT).application;
    const msalLogger = msal.getLogger();
    expect(msalLogger.isPiiLoggingEnabled()).toBe(false);
    const logged = logger.lines.length;
    msalLogger.verbose('probe-verbose', '');
    msalLogger.info('probe-info', '');
    msalLogger.warning('probe-warning', '');
    msalLogger.error('probe-error', '');
    msalLogger.warningPii('probe-warning-pii', '');
    msalLogger.errorPii('probe-error-pii', '');
    const lines = logger.lines.slice(logged);
    expect(lines.filter((l) => l.includes('probe-'))).toEqual([expect.stringMatching(/^warn .*probe-warning.*MsalNode/), expect.stringMatching(/^error .*probe-error.*MsalNode/)]);
  });

  it('#96 #99 every outbound error response is generic: no-store, no provider text or ids, no host names, no stack frames, no tokens', () => {
    expect(errorResponses.length).toBeGreaterThan(20);
    const providerText = exchanges.flatMap((e) => {
      const values: string[] = [];
      if (e.requestId) values.push(e.requestId);
      for (const field of ['trace_id', 'correlation_id'] as const) if (typeof e.body?.[field] === 'string') values.push(e.body[field]);
      const description = e.body?.error_description;
      if (typeof description === 'string') values.push(description.split('\r\n')[0]!.replace(/^AADSTS\d+: /, '').slice(0, 40));
      return values;
    });
    const hosts = [new URL(authority.instance).host, new URL(stub.url).host, new URL(secretApi.url).host];
    const tokens = [...presented, ...stub.tokens.filter(Boolean)];
    const problems: string[] = [];
    for (const { step, res } of errorResponses) {
      // The claims challenge must name the authority's authorize endpoint and carry base64 JSON (which
      // starts with eyJ); both were checked exactly per step, so they are left out here.
      const headerText = res.headerLines.map((l) => l.replace(/authorization_uri="[^"]*"/, 'authorization_uri=""').replace(/claims="[^"]*"/, 'claims=""')).join('\n');
      const text = `${res.body}\n${headerText}`;
      const bad = [
        ...[/AADSTS/, /trace.?id/i, /correlation/i, /127\.0\.0\.1|localhost|::1/, /\bat [\w.<>]+ \(/, /\.[jt]s:\d+/, /eyJ[A-Za-z0-9_-]{10,}/, new RegExp(MARKER)].filter((p) => p.test(text)).map(String),
        ...providerText.filter((v) => text.includes(v)),
        ...hosts.filter((h) => text.includes(h)),
        ...tokens.filter((t) => text.includes(t)).map(() => 'a token'),
        ...(clientSecret && text.includes(clientSecret) ? ['the client secret'] : []),
      ];
      if (bad.length > 0) problems.push(`${step}: ${bad.join(', ')}`);
    }
    expect(problems).toEqual([]);
    expect(providerText.length).toBeGreaterThan(10); // the provider really sent ids and descriptions that could have leaked
  });

  it('#95 writes no token, secret, client assertion or refresh token to any log line, at every level', () => {
    expect(logger.lines.length).toBeGreaterThan(0);
    const logs = logger.lines.join('\n');
    const secrets: Secret[] = [{ kind: 'client secret', value: clientSecret }, ...harvested];
    for (const token of presented) secrets.push({ kind: 'incoming token', value: token });
    for (const token of stub.tokens.filter(Boolean)) secrets.push({ kind: 'token received downstream', value: token });
    for (const e of exchanges) {
      for (const field of ['access_token', 'refresh_token', 'id_token'] as const) {
        const value = e.body?.[field];
        if (typeof value === 'string') secrets.push({ kind: `issued ${field}`, value });
      }
      for (const field of ['assertion', 'client_secret', 'client_assertion'] as const) {
        const value = e.form.get(field);
        if (value) secrets.push({ kind: `sent ${field}`, value });
      }
    }
    expect(secrets.filter((s) => s.kind === 'issued refresh_token').length).toBeGreaterThan(0);
    expect(secrets.filter((s) => s.kind.endsWith('client_assertion')).length).toBeGreaterThan(0);
    const leaks = new Set<string>();
    for (const secret of secrets) {
      // A JWT leaks if any of its parts does; other secrets only whole.
      const parts = secret.value.split('.').length === 3 ? secret.value.split('.').filter((p) => p.length >= 16) : [secret.value];
      if (parts.some((p) => logs.includes(p))) leaks.add(secret.kind);
    }
    expect([...leaks]).toEqual([]);
    expect(logs).not.toMatch(/eyJ[A-Za-z0-9_-]*\.eyJ/);
    expect(logs).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
    expect(logs).not.toMatch(/Bearer [A-Za-z0-9._~+/-]{20,}/);
    expect(logs).not.toMatch(/(access_token|refresh_token|client_secret|client_assertion|assertion)=/);
  });
});
