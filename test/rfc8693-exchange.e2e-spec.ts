import { randomUUID } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { OboError, RequestContext, TokenAcquisition, type OboModuleOptions } from 'nestjs-obo';
import { generateAuthorityKey } from 'nestjs-obo/testing';
import type { ApiUnderTest } from './support/api-under-test.js';
import { genericUser, servedUser, startExchangeApi } from './support/exchange-api.js';
import { ACCESS_TOKEN_TYPE, Rfc8693Authority, TOKEN_EXCHANGE_GRANT } from './support/rfc8693-authority.js';
import { startStubDownstream, type StubDownstream } from './support/stub-downstream.js';

const clientId = 'middle-tier';
// Characters RFC 6749 §2.3.1 form-encodes before base64: a server that decodes them gets the secret back.
const clientSecret = `s3cret:+/ %${randomUUID()}`;
const ordersAudience = 'https://orders.example/api';

let authority: Rfc8693Authority;
let downstream: StubDownstream;

beforeAll(async () => {
  authority = await Rfc8693Authority.start({ clientId, clientSecret });
  downstream = await startStubDownstream();
});
afterAll(async () => {
  await downstream?.close();
  await authority?.close();
});

function options(overrides: Partial<OboModuleOptions> = {}): OboModuleOptions {
  return {
    issuer: authority.issuer,
    audience: 'https://api.example/original',
    clientId,
    clientSecret,
    tokenProfile: 'rfc9068',
    downstreamApis: {
      orders: { baseUrl: downstream.url, audience: ordersAudience, scopes: ['orders:read', 'orders:write'] },
      billing: { baseUrl: downstream.url, resource: 'https://billing.example/', scopes: [] },
      reports: { baseUrl: downstream.url, audience: 'https://reports.example', scopes: [], tokenKind: 'app' },
    },
    ...overrides,
  };
}

/** Starts an API for the describe block; `servedUser` is who each call is made for. */
function api(overrides: Partial<OboModuleOptions> = {}): { current: ApiUnderTest; tokens: () => TokenAcquisition } {
  const holder = {} as { current: ApiUnderTest; tokens: () => TokenAcquisition };
  beforeAll(async () => {
    holder.current = await startExchangeApi(options(overrides));
  });
  afterAll(async () => {
    await holder.current?.close();
  });
  holder.tokens = () => holder.current.app.get(TokenAcquisition);
  return holder;
}

async function callAs(target: ApiUnderTest, assertion: string, apiName = 'orders'): Promise<Response> {
  servedUser.principal = genericUser(authority.issuer, assertion);
  return fetch(`${target.url}/call/${apiName}`);
}

function rejectionCode(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'no error',
    (error: unknown) => (error instanceof OboError ? error.code : String(error)),
  );
}

beforeEach(() => {
  authority.script.length = 0;
  authority.answerOverrides = {};
});

describe('#118 RFC 8693 request: grant, token types, audience/resource, scope, client authentication', () => {
  const h = api();

  it('exchanges the validated incoming token at the discovered token endpoint with the downstream API’s audience and scopes, client_secret_basic', async () => {
    const before = authority.requests.length;
    const assertion = await authority.mintUserToken();
    const response = await callAs(h.current, assertion);
    expect(response.status).toBe(200);
    expect(authority.requests.length - before).toBe(1);
    const { form, authorization } = authority.requests.at(-1)!;
    expect(Object.fromEntries(form)).toEqual({
      grant_type: TOKEN_EXCHANGE_GRANT,
      subject_token: assertion,
      subject_token_type: ACCESS_TOKEN_TYPE,
      requested_token_type: ACCESS_TOKEN_TYPE,
      audience: ordersAudience,
      scope: 'orders:read orders:write',
    });
    // RFC 6749 §2.3.1: id and secret form-encoded, then base64 (the server decodes and compares).
    const encode = (v: string) => new URLSearchParams([['', v]]).toString().slice(1);
    expect(authorization).toBe(`Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`);
    const issued = decodeJwt(downstream.tokens.at(-1)!);
    expect(issued.aud).toBe(ordersAudience);
    expect(issued.act).toEqual({ sub: clientId });
  });

  it('sends resource (RFC 8707) for an API configured with one, and no scope when it has none', async () => {
    await callAs(h.current, await authority.mintUserToken(), 'billing');
    const form = authority.lastForm;
    expect(form.get('resource')).toBe('https://billing.example/');
    expect(form.has('audience')).toBe(false);
    expect(form.has('scope')).toBe(false);
  });

  it('loads the authority metadata once at startup, shared with inbound validation (no discovery per exchange)', async () => {
    const before = authority.metadataRequests;
    await callAs(h.current, await authority.mintUserToken());
    await callAs(h.current, await authority.mintUserToken());
    expect(authority.metadataRequests - before).toBe(0);
  });

  describe('configured token types', () => {
    const custom = api({ tokenExchange: { subjectTokenType: 'urn:example:token-type:legacy', requestedTokenType: null } });

    it('sends the configured subject_token_type and omits requested_token_type configured as null', async () => {
      authority.answerOverrides = {};
      const token = custom.tokens().getAccessTokenForUser(['orders:read'], { principal: genericUser(authority.issuer, await authority.mintUserToken()), audience: ordersAudience });
      await token;
      const form = authority.lastForm;
      expect(form.get('subject_token_type')).toBe('urn:example:token-type:legacy');
      expect(form.has('requested_token_type')).toBe(false);
    });
  });

  describe('the okta profile', () => {
    const okta = api({ tokenProfile: 'okta' });

    it('omits requested_token_type (Okta documents its exchange without it)', async () => {
      await okta.tokens().getAccessTokenForUser(['orders:read'], { principal: genericUser(authority.issuer, await authority.mintUserToken()), audience: ordersAudience });
      expect(authority.lastForm.has('requested_token_type')).toBe(false);
      expect(authority.lastForm.get('subject_token_type')).toBe(ACCESS_TOKEN_TYPE);
    });
  });

  describe('client_secret_post', () => {
    const post = api({ clientAuthentication: 'client_secret_post' });

    it('puts client_id and client_secret in the body and sends no Authorization header', async () => {
      await post.tokens().getAccessTokenForUser(['orders:read'], { principal: genericUser(authority.issuer, await authority.mintUserToken()), audience: ordersAudience });
      const { form, authorization } = authority.requests.at(-1)!;
      expect(authorization).toBeUndefined();
      expect(form.get('client_id')).toBe(clientId);
      expect(form.get('client_secret')).toBe(clientSecret);
    });
  });
});

describe('#118 private_key_jwt (RFC 7523 §2.2)', () => {
  let keyAuthority: Rfc8693Authority;
  let target: ApiUnderTest;
  let privateKeyPem: string;

  beforeAll(async () => {
    const key = await generateAuthorityKey('RS256', 'client-key-1');
    privateKeyPem = key.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    keyAuthority = await Rfc8693Authority.start({ clientId, clientJwk: key.publicJwk });
    target = await startExchangeApi({
      issuer: keyAuthority.issuer,
      audience: 'https://api.example/original',
      clientId,
      clientPrivateKey: { privateKey: privateKeyPem, keyId: 'client-key-1' },
      downstreamApis: { orders: { baseUrl: downstream.url, audience: ordersAudience, scopes: ['orders:read'] } },
    });
  });
  afterAll(async () => {
    await target?.close();
    await keyAuthority?.close();
  });

  it('signs a client assertion the authority verifies: iss = sub = client id, aud = token endpoint, short exp, kid, a new jti each time', async () => {
    const tokens = target.app.get(TokenAcquisition);
    for (let i = 0; i < 2; i++) {
      const token = await tokens.getAccessTokenForUser(['orders:read'], { principal: genericUser(keyAuthority.issuer, await keyAuthority.mintUserToken()), audience: ordersAudience });
      expect(decodeJwt(token).aud).toBe(ordersAudience);
    }
    const assertions = keyAuthority.requests.map((r) => r.form.get('client_assertion')!);
    expect(keyAuthority.requests.every((r) => r.form.get('client_assertion_type') === 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' && r.authorization === undefined)).toBe(true);
    const [first, second] = assertions.map((a) => decodeJwt(a));
    expect(first).toMatchObject({ iss: clientId, sub: clientId, aud: keyAuthority.tokenEndpoint });
    expect(first!.exp! - first!.iat!).toBeLessThanOrEqual(60);
    expect(first!.jti).not.toBe(second!.jti);
    expect(decodeProtectedHeader(assertions[0]!)).toMatchObject({ alg: 'RS256', kid: 'client-key-1' });
  });
});

describe('#119 RFC 8693 response checks: nothing used or cached on a refusal', () => {
  const h = api({ tokenAcquisition: { timeoutMs: 3_000 } });

  it.each([
    ['token_type DPoP', { token_type: 'DPoP' }],
    ['token_type N_A', { token_type: 'N_A' }],
    ['an issued_token_type that is not an access token', { issued_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' }],
    ['no issued_token_type (the rfc9068 profile requires it)', { issued_token_type: undefined }],
    ['expires_in 0', { expires_in: 0 }],
    ['expires_in over 48 h', { expires_in: 48 * 3600 + 1 }],
    ['expires_in "1e3"', { expires_in: '1e3' }],
  ])('answers 502 for %s and asks again on the next call', async (_name, override) => {
    authority.answerOverrides = override;
    const assertion = await authority.mintUserToken();
    const before = authority.requests.length;
    const first = await callAs(h.current, assertion);
    expect(first.status).toBe(502);
    expect(((await first.json()) as { code: string }).code).toBe('ERR_OBO_PROVIDER_BAD_RESPONSE');
    authority.answerOverrides = {};
    const second = await callAs(h.current, assertion);
    expect(second.status).toBe(200);
    expect(authority.requests.length - before).toBe(2);
  });

  it('under the auth0 profile, an answer without issued_token_type is used (only rfc9068 requires it)', async () => {
    const auth0 = await startExchangeApi(options({ tokenProfile: 'auth0' }));
    try {
      authority.answerOverrides = { issued_token_type: undefined };
      expect((await callAs(auth0, await authority.mintUserToken())).status).toBe(200);
    } finally {
      await auth0.close();
    }
  });

  it('accepts token_type "bearer" in lower case and expires_in as a digit string', async () => {
    authority.answerOverrides = { token_type: 'bearer', expires_in: '3600' };
    expect((await callAs(h.current, await authority.mintUserToken())).status).toBe(200);
  });

  it('refuses a JWT issued for another audience than the one asked', async () => {
    const foreign = await authority.sign({ sub: 'user-1', aud: 'https://elsewhere.example' });
    authority.script.push({ status: 200, body: { access_token: foreign, token_type: 'Bearer', issued_token_type: ACCESS_TOKEN_TYPE, expires_in: 3600 } });
    const response = await callAs(h.current, await authority.mintUserToken());
    expect(response.status).toBe(502);
  });

  it('caches the token until the earlier of request start + expires_in and its own exp', async () => {
    const shortLived = await authority.sign({ sub: 'user-1', aud: ordersAudience }, 'at+jwt', '20m');
    authority.script.push({ status: 200, body: { access_token: shortLived, token_type: 'Bearer', issued_token_type: ACCESS_TOKEN_TYPE, expires_in: 7200 } });
    const result = await h.tokens().getAuthenticationResultForUser(['orders:read'], { principal: genericUser(authority.issuer, await authority.mintUserToken()), audience: ordersAudience });
    expect(result.expiresOn.getTime()).toBe(decodeJwt(shortLived).exp! * 1000);
  });
});

describe('#120 the token endpoint comes from the authority metadata', () => {
  it('while the metadata cannot be loaded, token requests answer 503 and the metadata is not asked again for each one', async () => {
    authority.metadataStatus = 503;
    const down = await startExchangeApi(options()); // startup warm-up fails: a warning, not a startup error
    try {
      const tokens = down.app.get(TokenAcquisition);
      const before = { metadata: authority.metadataRequests, token: authority.requests.length };
      expect(await rejectionCode(tokens.getAccessTokenForApp([], { audience: 'https://reports.example' }))).toBe('ERR_OBO_PROVIDER_UNAVAILABLE');
      expect(authority.metadataRequests - before.metadata).toBe(1);
      authority.metadataStatus = 200;
      expect(await rejectionCode(tokens.getAccessTokenForApp([], { audience: 'https://reports.example' }))).toBe('ERR_OBO_PROVIDER_UNAVAILABLE'); // remembered for 5 s
      expect(authority.metadataRequests - before.metadata).toBe(1);
      expect(authority.requests.length - before.token).toBe(0);
    } finally {
      authority.metadataStatus = 200;
      await down.close();
    }
  });
});

describe('#120 RFC 8693 errors mapped to answers a client can act on', () => {
  const h = api({ tokenAcquisition: { timeoutMs: 1_500 } });

  async function answerFor(reply: { status: number; body?: unknown; headers?: Record<string, string> } | { hang: true }): Promise<Response> {
    authority.script.push(reply);
    return callAs(h.current, await authority.mintUserToken());
  }

  it('invalid_grant: 401 invalid_token', async () => {
    const response = await answerFor({ status: 400, body: { error: 'invalid_grant' } });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
    expect(((await response.json()) as { code: string }).code).toBe('ERR_OBO_TOKEN_INVALID');
  });

  it('invalid_request about the subject token (a token the authority cannot verify): 401 invalid_token', async () => {
    const other = await Rfc8693Authority.start({ clientId });
    try {
      const response = await callAs(h.current, await other.mintUserToken()); // real refusal: signed by another key
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    } finally {
      await other.close();
    }
  });

  it.each([
    ['invalid_target', { error: 'invalid_target' }],
    ['invalid_scope', { error: 'invalid_scope' }],
    ['unauthorized_client', { error: 'unauthorized_client' }],
    ['invalid_client', { error: 'invalid_client' }],
    ['invalid_request about our token type', { error: 'invalid_request', error_description: 'Invalid subject token type' }],
  ])('%s: a generic 500', async (_name, body) => {
    // Its own API: invalid_scope / invalid_target open the breaker for the API's target.
    const own = await startExchangeApi(options());
    try {
      authority.script.push({ status: 400, body });
      const response = await callAs(own, await authority.mintUserToken());
      expect(response.status).toBe(500);
      expect(await response.json()).toEqual({ statusCode: 500, code: 'ERR_OBO_INTERNAL', message: 'The server could not complete the request.' });
    } finally {
      await own.close();
    }
  });

  it('invalid_target feeds the breaker: the same target is not asked again for 30 s', async () => {
    const breaker = await startExchangeApi(options({ downstreamApis: { orders: { baseUrl: downstream.url, audience: 'https://breaker.example', scopes: [] } } }));
    try {
      authority.script.push({ status: 400, body: { error: 'invalid_target' } });
      const before = authority.requests.length;
      expect((await callAs(breaker, await authority.mintUserToken())).status).toBe(500);
      expect((await callAs(breaker, await authority.mintUserToken())).status).toBe(500);
      expect(authority.requests.length - before).toBe(1);
    } finally {
      await breaker.close();
    }
  });

  it.each(['access_denied', 'consent_required'])('%s: 403 insufficient_scope', async (error) => {
    const response = await answerFor({ status: 403, body: { error } });
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer error="insufficient_scope"/);
  });

  it('insufficient_user_authentication with acr_values and max_age: relayed as the RFC 9470 401 step-up challenge', async () => {
    const response = await answerFor({ status: 401, body: { error: 'insufficient_user_authentication', acr_values: 'urn:example:mfa phr', max_age: 300 } });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(
      'Bearer error="insufficient_user_authentication", error_description="The user must authenticate again to meet the authentication requirements.", acr_values="urn:example:mfa phr", max_age="300"',
    );
    expect(((await response.json()) as { code: string }).code).toBe('ERR_OBO_STEP_UP_REQUIRED');
  });

  it('a 5xx is retried once; a second 5xx answers 503 with Retry-After', async () => {
    authority.script.push({ status: 503, body: {} });
    const before = authority.requests.length;
    const response = await answerFor({ status: 502, body: {}, headers: { 'retry-after': '1' } });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('1');
    expect(authority.requests.length - before).toBe(2);
  });

  it('a 5xx then a token: the one retry gets it', async () => {
    const before = authority.requests.length;
    const response = await answerFor({ status: 500, body: {} });
    expect(response.status).toBe(200);
    expect(authority.requests.length - before).toBe(2);
  });

  it('no answer in time: 504 with Retry-After', async () => {
    const response = await answerFor({ hang: true });
    expect(response.status).toBe(504);
    expect(response.headers.get('retry-after')).toBe('5');
  });

  it('429: 503 with its Retry-After, and nothing is sent until it passed', async () => {
    const gated = await startExchangeApi(options());
    try {
      authority.script.push({ status: 429, body: {}, headers: { 'retry-after': '30' } });
      const before = authority.requests.length;
      const first = await callAs(gated, await authority.mintUserToken());
      expect(first.status).toBe(503);
      expect(first.headers.get('retry-after')).toBe('30');
      const second = await callAs(gated, await authority.mintUserToken());
      expect(second.status).toBe(503);
      expect(authority.requests.length - before).toBe(1);
    } finally {
      await gated.close();
    }
  });

  it('a subject token that already has 5 nested act levels is refused before anything is sent; 4 still exchange', async () => {
    const before = authority.requests.length;
    const refused = await callAs(h.current, await authority.mintUserToken({}, 5));
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { code: string }).code).toBe('ERR_OBO_DELEGATION_TOO_DEEP');
    expect(authority.requests.length - before).toBe(0);
    expect((await callAs(h.current, await authority.mintUserToken({}, 4))).status).toBe(200);
    expect(authority.requests.length - before).toBe(1);
  });
});

describe('#121 app-only tokens at a generic authority', () => {
  const h = api();

  it('gets client credentials for the audience, cached per target: two audiences never share a token', async () => {
    const tokens = h.tokens();
    const before = authority.requests.length;
    const reports = await tokens.getAccessTokenForApp([], { audience: 'https://reports.example' });
    expect(authority.lastForm.get('grant_type')).toBe('client_credentials');
    expect(authority.lastForm.get('audience')).toBe('https://reports.example');
    expect(await tokens.getAccessTokenForApp([], { audience: 'https://reports.example' })).toBe(reports);
    const audit = await tokens.getAccessTokenForApp(['audit:read'], { resource: 'https://audit.example/' });
    expect(audit).not.toBe(reports);
    expect(decodeJwt(audit).aud).toBe('https://audit.example/');
    expect(authority.requests.length - before).toBe(2);
  });

  it('needs audience or resource instead of a "/.default" scope', async () => {
    expect(await rejectionCode(h.tokens().getAccessTokenForApp('api://x/.default'))).toBe('ERR_OBO_CONFIG_INVALID');
  });

  it('user tokens for two audiences never share a cache entry', async () => {
    const principal = genericUser(authority.issuer, await authority.mintUserToken());
    const a = await h.tokens().getAccessTokenForUser(['orders:read'], { principal, audience: ordersAudience });
    const b = await h.tokens().getAccessTokenForUser(['orders:read'], { principal, audience: 'https://other.example' });
    expect(decodeJwt(a).aud).toBe(ordersAudience);
    expect(decodeJwt(b).aud).toBe('https://other.example');
  });

  it('refuses an app-only token while serving a user (Zero Trust), unless opted in', async () => {
    // The downstream API "reports" is app-only: DownstreamApi asks for an app token during a user request.
    const assertion = await authority.mintUserToken();
    const before = authority.requests.length;
    const response = await callAs(h.current, assertion, 'reports');
    expect(response.status).toBe(500);
    expect(authority.requests.length - before).toBe(0);
    const context = h.current.app.get(RequestContext);
    const optedIn = await context.run(() => {
      context.setPrincipal(genericUser(authority.issuer, assertion));
      return rejectionCode(h.tokens().getAccessTokenForApp([], { audience: 'https://reports.example', allowInUserContext: true, forceRefresh: true }));
    });
    expect(optedIn).toBe('no error');
  });
});
