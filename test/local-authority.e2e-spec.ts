// The local authority's token endpoint (POST /{tenant}/oauth2/v2.0/token), driven by real
// @azure/msal-node 7 ConfidentialClientApplication (OBO, client credentials) and by plain fetch
// (RFC 8693 token exchange, raw response shapes). Catalogue section 4.7 (#70-#85) relies on it.
import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import {
  ConfidentialClientApplication,
  InteractionRequiredAuthError,
  ServerError,
  type AuthenticationResult,
} from '@azure/msal-node';
import { compactVerify, createLocalJWKSet, decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import {
  ABSURD_EXPIRES_IN,
  JWT_BEARER_ASSERTION_TYPE,
  LocalAuthority,
  pairwiseSubject,
  servicePrincipalId,
  type AppRegistration,
} from 'nestjs-obo/testing';

const MIDDLE_SECRET = 'middle-tier-secret';
const DOWNSTREAM_URI = 'api://downstream.test';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

let authority: LocalAuthority;
let middleTier: AppRegistration;
let downstream: AppRegistration;
let daemon: AppRegistration;

beforeAll(async () => {
  authority = await LocalAuthority.start();
  middleTier = authority.registerApp({ clientId: randomUUID(), clientSecret: MIDDLE_SECRET, scopes: ['access_as_user'] });
  downstream = authority.registerApp({ clientId: randomUUID(), identifierUri: DOWNSTREAM_URI, scopes: ['Files.Read', 'Files.Write'] });
  daemon = authority.registerApp({ clientId: randomUUID(), clientSecret: 'daemon-secret', appRoles: { [downstream.clientId]: ['Files.Read.All'] } });
});

afterAll(async () => {
  await authority?.close();
});

afterEach(() => {
  authority.clearTokenFaults();
  authority.tokenLifetimeSeconds = 3600;
});

/** A fresh CCA per test: msal's throttling entries and cache never leak between tests. */
function cca(auth: { clientId?: string; clientSecret?: string; clientCertificate?: { thumbprintSha256: string; privateKey: string } } = {}) {
  const credential = auth.clientCertificate ? { clientCertificate: auth.clientCertificate } : { clientSecret: auth.clientSecret ?? MIDDLE_SECRET };
  return new ConfidentialClientApplication({
    auth: {
      clientId: auth.clientId ?? middleTier.clientId,
      authority: authority.instance + authority.tenantId,
      knownAuthorities: [authority.authorityHost],
      ...credential,
    },
  });
}

/** A user token for the middle tier, with a known `oid`. */
function userToken(oid: string = randomUUID(), claims: Record<string, unknown> = {}, lifetimeSeconds?: number): string {
  return authority.mintUserToken({
    audience: middleTier.clientId,
    claims: { oid, name: 'Ada Lovelace', preferred_username: 'ada@example.test', ...claims },
    ...(lifetimeSeconds === undefined ? {} : { lifetimeSeconds }),
  });
}

function obo(app: ConfidentialClientApplication, assertion: string, scopes = [`${DOWNSTREAM_URI}/Files.Read`], claims?: string) {
  return app.acquireTokenOnBehalfOf({ oboAssertion: assertion, scopes, ...(claims ? { claims } : {}) }) as Promise<AuthenticationResult>;
}

async function rejectionOf(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected a rejection');
}

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/** POSTs a form to the token endpoint with fetch. */
async function post(form: Record<string, string>, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(authority.tokenEndpoint(), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: JSON.parse(text) as Record<string, unknown> };
}

function exchangeForm(subjectToken: string, target: Record<string, string>): Record<string, string> {
  return {
    grant_type: TOKEN_EXCHANGE,
    client_id: middleTier.clientId,
    client_secret: MIDDLE_SECRET,
    subject_token: subjectToken,
    subject_token_type: ACCESS_TOKEN_TYPE,
    ...target,
  };
}

function oboForm(assertion: string, scope = `${DOWNSTREAM_URI}/Files.Read`): Record<string, string> {
  return {
    grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
    requested_token_use: 'on_behalf_of',
    client_id: middleTier.clientId,
    client_secret: MIDDLE_SECRET,
    assertion,
    scope,
  };
}

describe('On-Behalf-Of through msal-node', () => {
  it('issues a token for the downstream API naming the caller as azp, the granted scopes, the same user and a pairwise subject', async () => {
    const oid = randomUUID();
    const incoming = userToken(oid);
    const result = await obo(cca(), incoming);
    const claims = decodeJwt(result.accessToken);
    expect(claims).toMatchObject({
      aud: downstream.clientId,
      iss: authority.issuerV2(),
      azp: middleTier.clientId,
      azpacr: '1',
      scp: 'Files.Read',
      oid,
      tid: authority.tenantId,
      name: 'Ada Lovelace',
      preferred_username: 'ada@example.test',
      sub: pairwiseSubject(oid, downstream.clientId),
      ver: '2.0',
    });
    expect(claims.sub).not.toBe(decodeJwt(incoming).sub);
    expect(decodeProtectedHeader(result.accessToken)).toEqual({ typ: 'JWT', alg: 'RS256', kid: authority.activeKey.kid });
    expect(result.scopes).toEqual([`${DOWNSTREAM_URI}/Files.Read`]);
    expect(result.account?.homeAccountId).toBe(`${oid}.${authority.tenantId}`);
  });

  it('signs the id token with a published key and addresses it to the calling client', async () => {
    const oid = randomUUID();
    const result = await obo(cca(), userToken(oid));
    const jwks = createLocalJWKSet((await (await fetch(`${authority.instance}${authority.tenantId}/discovery/v2.0/keys`)).json()) as never);
    await expect(compactVerify(result.idToken, jwks)).resolves.toBeDefined();
    expect(decodeJwt(result.idToken)).toMatchObject({ aud: middleTier.clientId, oid, tid: authority.tenantId, sub: pairwiseSubject(oid, middleTier.clientId) });
  });

  it('lets msal serve repeated requests of two users from its cache without further token requests', async () => {
    const app = cca();
    const [alice, bob] = [userToken(), userToken()];
    const first = [await obo(app, alice), await obo(app, bob)];
    const before = { ...authority.tokenRequests, token: authority.requests.token };
    const again = [await obo(app, alice), await obo(app, bob)];
    expect(first.map((r) => r.fromCache)).toEqual([false, false]);
    expect(again.map((r) => r.fromCache)).toEqual([true, true]);
    expect(again.map((r) => r.accessToken)).toEqual(first.map((r) => r.accessToken));
    expect({ ...authority.tokenRequests, token: authority.requests.token }).toEqual(before);
  });

  it('expands <resource>/.default to every scope the resource exposes, and msal can serve it again from cache', async () => {
    const [app, incoming] = [cca(), userToken()];
    const result = await obo(app, incoming, [`${DOWNSTREAM_URI}/.default`]);
    expect(decodeJwt(result.accessToken).scp).toBe('Files.Read Files.Write');
    expect((await obo(app, incoming, [`${DOWNSTREAM_URI}/.default`])).fromCache).toBe(true);
  });

  it('accepts scopes named by the resource client id as well as by its identifier URI', async () => {
    const result = await obo(cca(), userToken(), [`${downstream.clientId}/Files.Write`]);
    expect(decodeJwt(result.accessToken)).toMatchObject({ aud: downstream.clientId, scp: 'Files.Write' });
  });

  it('records the request form: jwt-bearer grant, on_behalf_of, the exact assertion, the scope and the client secret', async () => {
    const incoming = userToken();
    await obo(cca(), incoming);
    expect(authority.lastTokenRequest).toMatchObject({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      requested_token_use: 'on_behalf_of',
      assertion: incoming,
      client_id: middleTier.clientId,
      client_secret: MIDDLE_SECRET,
    });
    expect(authority.lastTokenRequest?.scope?.split(' ')).toEqual(expect.arrayContaining([`${DOWNSTREAM_URI}/Files.Read`]));
    expect(authority.tokenRequestLog.at(-1)).toBe(authority.lastTokenRequest);
  });

  it('counts token requests per grant and per user, and resetCounters zeroes them', async () => {
    authority.resetCounters();
    const oid = randomUUID();
    await obo(cca(), userToken(oid));
    await obo(cca(), userToken(oid));
    await cca({ clientId: daemon.clientId, clientSecret: 'daemon-secret' }).acquireTokenByClientCredential({ scopes: [`${DOWNSTREAM_URI}/.default`] });
    await post(exchangeForm(userToken(oid), { audience: DOWNSTREAM_URI }));
    expect(authority.tokenRequests).toMatchObject({ onBehalfOf: 2, clientCredentials: 1, tokenExchange: 1 });
    expect(authority.tokenRequests.byUser.get(oid)).toBe(3);
    expect(authority.requests.token).toBe(4);
    authority.resetCounters();
    expect(authority.tokenRequests).toEqual({ onBehalfOf: 0, clientCredentials: 0, tokenExchange: 0, authorizationCode: 0, refreshToken: 0, byUser: new Map() });
    expect(authority.tokenRequestLog).toHaveLength(0);
  });

  it('authenticates a client by a PS256 certificate assertion and marks the token azpacr 2', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const clientId = randomUUID();
    authority.registerApp({ clientId, clientAssertionKey: publicKey });
    const app = cca({
      clientId,
      clientCertificate: { thumbprintSha256: createHash('sha256').update(clientId).digest('hex'), privateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() },
    });
    const result = await obo(app, authority.mintUserToken({ audience: `api://${clientId}` }));
    expect(decodeJwt(result.accessToken)).toMatchObject({ azp: clientId, azpacr: '2' });
    expect(authority.lastTokenRequest).toMatchObject({ client_assertion_type: JWT_BEARER_ASSERTION_TYPE });
  });

  it('rejects a wrong client secret with invalid_client AADSTS7000215', async () => {
    const error = await rejectionOf(obo(cca({ clientSecret: 'wrong' }), userToken()));
    expect(error).toBeInstanceOf(ServerError);
    expect(error).toMatchObject({ errorCode: 'invalid_client', errorNo: 7000215 });
  });

  it('rejects an expired assertion with invalid_grant AADSTS500133', async () => {
    const error = await rejectionOf(obo(cca(), userToken(randomUUID(), {}, -60)));
    expect(error).toMatchObject({ errorCode: 'invalid_grant', errorNo: 500133 });
  });

  it('rejects an assertion addressed to another application with invalid_grant AADSTS50013', async () => {
    const error = await rejectionOf(obo(cca(), authority.mintUserToken({ audience: downstream.clientId })));
    expect(error).toMatchObject({ errorCode: 'invalid_grant', errorNo: 50013 });
  });

  it('rejects an app-only assertion with invalid_grant', async () => {
    const error = await rejectionOf(obo(cca(), authority.mintAppToken({ audience: middleTier.clientId })));
    expect(error).toMatchObject({ errorCode: 'invalid_grant' });
  });

  it('rejects an assertion signed by a key it does not publish with invalid_grant', async () => {
    const forged = authority.mintUserToken({ audience: middleTier.clientId, key: await authority.foreignKey() });
    expect(await rejectionOf(obo(cca(), forged))).toMatchObject({ errorCode: 'invalid_grant', errorNo: 50013 });
  });

  it('rejects an assertion of another tenant on a tenant path but accepts it on organizations', async () => {
    const foreignTenant = authority.mintUserToken({ audience: middleTier.clientId, tenantId: randomUUID() });
    expect((await post(oboForm(foreignTenant))).body).toMatchObject({ error: 'invalid_grant' });
    const res = await fetch(authority.tokenEndpoint('organizations'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(oboForm(foreignTenant)).toString(),
    });
    expect(res.status).toBe(200);
  });

  it('answers invalid_scope for an unknown scope name or resource', async () => {
    expect(await rejectionOf(obo(cca(), userToken(), [`${DOWNSTREAM_URI}/Nope`]))).toMatchObject({ errorCode: 'invalid_scope' });
    expect(await rejectionOf(obo(cca(), userToken(), ['api://unknown.test/Files.Read']))).toMatchObject({ errorCode: 'invalid_scope' });
  });

  it('puts the acrs of a claims request into the issued token and records the claims', async () => {
    const claims = JSON.stringify({ access_token: { acrs: { essential: true, value: 'c1' } } });
    const result = await obo(cca(), userToken(), undefined, claims);
    expect(decodeJwt(result.accessToken).acrs).toEqual(['c1']);
    expect(JSON.parse(authority.lastTokenRequest?.claims ?? '{}')).toMatchObject(JSON.parse(claims) as object);
  });
});

describe('client credentials through msal-node', () => {
  it("issues an app-only token carrying the caller's app roles on the resource", async () => {
    const app = cca({ clientId: daemon.clientId, clientSecret: 'daemon-secret' });
    const result = (await app.acquireTokenByClientCredential({ scopes: [`${DOWNSTREAM_URI}/.default`] }))!;
    const principal = servicePrincipalId(daemon.clientId);
    expect(decodeJwt(result.accessToken)).toMatchObject({
      aud: downstream.clientId,
      idtyp: 'app',
      oid: principal,
      sub: principal,
      azp: daemon.clientId,
      roles: ['Files.Read.All'],
      tid: authority.tenantId,
      ver: '2.0',
    });
  });

  it('omits the roles claim when the caller holds no role on the resource, and sends no refresh token', async () => {
    const answer = await post({ grant_type: 'client_credentials', client_id: middleTier.clientId, client_secret: MIDDLE_SECRET, scope: `${DOWNSTREAM_URI}/.default` });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    expect(answer.body).not.toHaveProperty('refresh_token');
    expect(decodeJwt(String(answer.body.access_token))).not.toHaveProperty('roles');
  });

  it('requires exactly one <resource>/.default scope', async () => {
    const answer = await post({ grant_type: 'client_credentials', client_id: daemon.clientId, client_secret: 'daemon-secret', scope: `${DOWNSTREAM_URI}/Files.Read` });
    expect(answer).toMatchObject({ status: 400, body: { error: 'invalid_scope' } });
  });
});

describe('RFC 8693 token exchange', () => {
  it('exchanges a subject token for an access token to the requested audience', async () => {
    const oid = randomUUID();
    const answer = await post(exchangeForm(userToken(oid), { audience: DOWNSTREAM_URI }));
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      issued_token_type: ACCESS_TOKEN_TYPE,
      token_type: 'Bearer',
      expires_in: 3600,
      scope: `${DOWNSTREAM_URI}/Files.Read ${DOWNSTREAM_URI}/Files.Write`,
    });
    expect(decodeJwt(String(answer.body.access_token))).toMatchObject({ aud: downstream.clientId, azp: middleTier.clientId, oid, scp: 'Files.Read Files.Write' });
  });

  it('accepts HTTP Basic client authentication and a scope instead of an audience', async () => {
    const basic = Buffer.from(`${encodeURIComponent(middleTier.clientId)}:${encodeURIComponent(MIDDLE_SECRET)}`).toString('base64');
    const { client_secret: _secret, ...form } = exchangeForm(userToken(), { scope: `${DOWNSTREAM_URI}/Files.Read` });
    const answer = await post(form, { authorization: `Basic ${basic}` });
    expect(answer.status).toBe(200);
    expect(decodeJwt(String(answer.body.access_token)).scp).toBe('Files.Read');
    expect(authority.lastTokenRequest).toMatchObject({ client_secret_basic: 'present' });
  });

  it('answers invalid_target for an unknown audience', async () => {
    const answer = await post(exchangeForm(userToken(), { audience: 'api://nobody.test' }));
    expect(answer).toMatchObject({ status: 400, body: { error: 'invalid_target' } });
  });

  it('answers invalid_grant for an expired subject token and invalid_request for another subject token type', async () => {
    expect((await post(exchangeForm(userToken(randomUUID(), {}, -60), { audience: DOWNSTREAM_URI }))).body).toMatchObject({ error: 'invalid_grant', error_codes: [500133] });
    const wrongType = { ...exchangeForm(userToken(), { audience: DOWNSTREAM_URI }), subject_token_type: 'urn:ietf:params:oauth:token-type:id_token' };
    expect(await post(wrongType)).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
  });
});

describe('token endpoint protocol', () => {
  it('answers a bad client secret with an Entra-shaped 401 invalid_client body', async () => {
    const answer = await post({ ...oboForm(userToken()), client_secret: 'wrong' }, { 'client-request-id': 'corr-123' });
    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({ error: 'invalid_client', error_codes: [7000215], correlation_id: 'corr-123' });
    expect(String(answer.body.error_description)).toMatch(/^AADSTS7000215: Invalid client secret provided\./);
    expect(answer.body.trace_id).toEqual(expect.any(String));
    expect(answer.body.timestamp).toEqual(expect.any(String));
  });

  it('rejects a client assertion whose audience is not the token endpoint', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const clientId = randomUUID();
    authority.registerApp({ clientId, clientAssertionKey: publicKey });
    const sign = (aud: string) =>
      new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).setIssuer(clientId).setSubject(clientId).setAudience(aud).setExpirationTime('5m').setJti(randomUUID()).sign(privateKey);
    const form = (assertion: string) => ({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
      client_assertion: assertion,
      scope: `${DOWNSTREAM_URI}/.default`,
    });
    expect(await post(form(await sign('https://elsewhere.test/token')))).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    expect((await post(form(await sign(authority.tokenEndpoint())))).status).toBe(200);
  });

  it('answers unsupported_grant_type for grants it does not implement', async () => {
    const answer = await post({ grant_type: 'password', client_id: middleTier.clientId, client_secret: MIDDLE_SECRET });
    expect(answer).toMatchObject({ status: 400, body: { error: 'unsupported_grant_type' } });
  });

  it('refuses a request body over 64 KiB with 413', async () => {
    const answer = await post({ ...oboForm(userToken()), padding: 'x'.repeat(70 * 1024) });
    expect(answer).toMatchObject({ status: 413, body: { error: 'invalid_request' } });
  });

  it('issues tokens with the configured lifetime', async () => {
    authority.tokenLifetimeSeconds = 900;
    const answer = await post(oboForm(userToken()));
    const claims = decodeJwt(String(answer.body.access_token));
    expect(answer.body).toMatchObject({ expires_in: 900, ext_expires_in: 900 });
    expect(claims.exp! - claims.iat!).toBe(900);
  });
});

describe('token fault injection', () => {
  it('answers a status fault with that status, Retry-After and an Entra-like body, and msal throws a ServerError', async () => {
    authority.injectTokenFault({ kind: 'status', status: 429, retryAfter: 30 });
    const answer = await post(oboForm(userToken()));
    expect(answer.status).toBe(429);
    expect(answer.headers.get('retry-after')).toBe('30');
    expect(answer.body).toMatchObject({ error: 'temporarily_unavailable' });
    expect(await rejectionOf(obo(cca(), userToken()))).toBeInstanceOf(ServerError);
  });

  it('answers a status fault with a given body', async () => {
    authority.injectTokenFault({ kind: 'status', status: 503, body: { error: 'server_busy' } });
    expect(await post(oboForm(userToken()))).toMatchObject({ status: 503, body: { error: 'server_busy' } });
  });

  it('answers a delay fault normally once the delay is over', async () => {
    authority.injectTokenFault({ kind: 'delay', ms: 50 });
    const result = await obo(cca(), userToken());
    expect(decodeJwt(result.accessToken).aud).toBe(downstream.clientId);
  });

  it('never answers a hang fault, and close() drops the waiting connection', async () => {
    const hung = await LocalAuthority.start();
    hung.registerApp(middleTier);
    hung.injectTokenFault({ kind: 'hang' });
    const pending = fetch(hung.tokenEndpoint(), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...oboForm('x.y.z') }).toString(),
    });
    for (let i = 0; i < 500 && hung.lastTokenRequest === undefined; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(hung.lastTokenRequest).toBeDefined();
    await hung.close();
    await expect(pending).rejects.toThrow();
  });

  it('answers a malformed-json fault with a 200 body that is not JSON, which msal cannot use', async () => {
    authority.injectTokenFault({ kind: 'malformed-json' }, { times: 1 });
    const res = await fetch(authority.tokenEndpoint(), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(oboForm(userToken())).toString() });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(() => JSON.parse(text)).toThrow();
    authority.injectTokenFault({ kind: 'malformed-json' });
    const error = await rejectionOf(obo(cca(), userToken()));
    expect(error).toMatchObject({ errorCode: 'token_parsing_error' });
  });

  it.each([
    ['missing-access-token', (body: Record<string, unknown>) => expect(body).not.toHaveProperty('access_token')],
    ['token-type-n_a', (body: Record<string, unknown>) => expect(body.token_type).toBe('N_A')],
    ['expires-in-zero', (body: Record<string, unknown>) => expect(body.expires_in).toBe(0)],
    ['expires-in-absurd', (body: Record<string, unknown>) => expect(body.expires_in).toBe(ABSURD_EXPIRES_IN)],
  ] as const)('spoils an otherwise valid token response for bad-token-response %s', async (variant, check) => {
    authority.injectTokenFault({ kind: 'bad-token-response', variant });
    const answer = await post(oboForm(userToken()));
    expect(answer.status).toBe(200);
    check(answer.body);
  });

  it('answers a claims challenge with suberror basic_action, which msal raises as InteractionRequiredAuthError with the claims', async () => {
    const claims = '{"access_token":{"capolids":{"essential":true,"values":["c1"]}}}';
    authority.injectTokenFault({ kind: 'claims-challenge', claims, suberror: 'basic_action' });
    const error = await rejectionOf(obo(cca(), userToken()));
    expect(error).toBeInstanceOf(InteractionRequiredAuthError);
    expect(error).toMatchObject({ errorCode: 'invalid_grant', subError: 'basic_action', claims, errorNo: 50076 });
  });

  it('answers a claims challenge without suberror, which msal raises as a ServerError without claims', async () => {
    authority.injectTokenFault({ kind: 'claims-challenge', claims: '{"access_token":{}}' });
    const answer = await post(oboForm(userToken()));
    expect(answer).toMatchObject({ status: 400, body: { error: 'invalid_grant', error_codes: [50076], claims: '{"access_token":{}}' } });
    expect(String(answer.body.error_description)).toMatch(/^AADSTS50076:/);
    const error = await rejectionOf(obo(cca(), userToken()));
    expect(error).toBeInstanceOf(ServerError);
    expect(error).not.toBeInstanceOf(InteractionRequiredAuthError);
    expect(error).toMatchObject({ errorCode: 'invalid_grant', errorNo: 50076 });
  });

  it('answers an interaction_required claims challenge with the given codes', async () => {
    authority.injectTokenFault({ kind: 'claims-challenge', claims: '{"access_token":{}}', error: 'interaction_required', errorCodes: [50079] });
    const error = await rejectionOf(obo(cca(), userToken()));
    expect(error).toBeInstanceOf(InteractionRequiredAuthError);
    expect(error).toMatchObject({ errorCode: 'interaction_required', errorNo: 50079 });
  });

  it('lets a claims-bearing retry through when the challenge only applies without claims', async () => {
    const claims = '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}';
    authority.injectTokenFault({ kind: 'claims-challenge', claims, suberror: 'basic_action' }, { whenClaimsAbsent: true });
    const incoming = userToken();
    await expect(obo(cca(), incoming)).rejects.toBeInstanceOf(InteractionRequiredAuthError);
    const retried = await obo(cca(), incoming, undefined, claims);
    expect(decodeJwt(retried.accessToken).acrs).toEqual(['c1']);
  });

  it('answers consent-required with invalid_grant, suberror consent_required and AADSTS65001', async () => {
    authority.injectTokenFault({ kind: 'consent-required' });
    const error = await rejectionOf(obo(cca(), userToken()));
    expect(error).toBeInstanceOf(InteractionRequiredAuthError);
    expect(error).toMatchObject({ errorCode: 'invalid_grant', subError: 'consent_required', errorNo: 65001 });
  });

  it('answers invalid-client and invalid-grant faults as the real errors would be answered', async () => {
    authority.injectTokenFault({ kind: 'invalid-client' }, { times: 1 });
    expect(await rejectionOf(obo(cca(), userToken()))).toMatchObject({ errorCode: 'invalid_client', errorNo: 7000215 });
    authority.injectTokenFault({ kind: 'invalid-grant', code: 500133 }, { times: 1 });
    expect(await rejectionOf(obo(cca(), userToken()))).toMatchObject({ errorCode: 'invalid_grant', errorNo: 500133 });
  });

  it('applies a fault only to the next N matching requests and only to the matching user, grant and scope', async () => {
    const victim = randomUUID();
    const handle = authority.injectTokenFault({ kind: 'invalid-grant', code: 50013 }, { oid: victim, grant: 'on_behalf_of', scope: 'Files.Read', times: 2 });
    expect((await post(oboForm(userToken()))).status).toBe(200);
    expect((await post(oboForm(userToken(victim), `${DOWNSTREAM_URI}/Files.Write`))).status).toBe(200);
    expect((await post(exchangeForm(userToken(victim), { audience: DOWNSTREAM_URI }))).status).toBe(200);
    expect((await post(oboForm(userToken(victim)))).status).toBe(400);
    expect((await post(oboForm(userToken(victim)))).status).toBe(400);
    expect((await post(oboForm(userToken(victim)))).status).toBe(200);
    expect(handle.applied).toBe(2);
  });

  it('stops applying a fault once removed or cleared, and the first matching fault wins', async () => {
    const first = authority.injectTokenFault({ kind: 'status', status: 500 });
    authority.injectTokenFault({ kind: 'status', status: 503 });
    expect((await post(oboForm(userToken()))).status).toBe(500);
    first.remove();
    expect((await post(oboForm(userToken()))).status).toBe(503);
    authority.clearTokenFaults();
    expect((await post(oboForm(userToken()))).status).toBe(200);
  });

  it('matches whenClaimsPresent faults only on requests carrying claims', async () => {
    authority.injectTokenFault({ kind: 'status', status: 500 }, { whenClaimsPresent: true });
    expect((await post(oboForm(userToken()))).status).toBe(200);
    expect((await post({ ...oboForm(userToken()), claims: '{"access_token":{}}' })).status).toBe(500);
  });
});

describe('signing keys in the JWKS', () => {
  async function jwks(): Promise<Array<Record<string, unknown>>> {
    const res = await fetch(`${authority.instance}${authority.tenantId}/discovery/v2.0/keys`);
    return ((await res.json()) as { keys: Array<Record<string, unknown>> }).keys;
  }

  it('publishes a key with its own issuer next to keys carrying the {tenantid} template', async () => {
    const extra = await authority.foreignKey();
    authority.publishKey(extra, { issuer: 'https://issuer.example.test/v2.0' });
    const keys = await jwks();
    expect(keys.find((k) => k.kid === extra.kid)).toMatchObject({ issuer: 'https://issuer.example.test/v2.0' });
    expect(keys.find((k) => k.kid === authority.activeKey.kid)).toMatchObject({ issuer: authority.issuerV2('{tenantid}') });
    authority.unpublishKey(extra.kid);
  });

  it('rotates to a key with its own issuer and signs issued tokens with it', async () => {
    const previous = authority.activeKey;
    const rotated = await authority.rotateKey('RS256', { issuer: authority.issuerV2() });
    expect((await jwks()).find((k) => k.kid === rotated.kid)).toMatchObject({ issuer: authority.issuerV2() });
    const answer = await post(oboForm(authority.mintUserToken({ audience: middleTier.clientId, key: previous })));
    expect(decodeProtectedHeader(String(answer.body.access_token)).kid).toBe(rotated.kid);
  });
});
