// The local generic authority (LocalOidcAuthority): Auth0-, Okta-, Keycloak- and RFC 9068-shaped
// issuers, discovery, JWKS, tokens in each dialect and an RFC 8693 / client-credentials token
// endpoint. Proved against code we did not write: openid-client v6 discovers it and runs the grants
// with each client authentication method; jose verifies every minted and issued token through the
// published JWKS. Catalogue section 4.11 ("Beyond Entra") relies on it.
import { randomUUID } from 'node:crypto';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import * as client from 'openid-client';
import type { webcrypto } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;
import {
  actChain,
  JWT_BEARER_ASSERTION_TYPE,
  LocalOidcAuthority,
  OIDC_DIALECTS,
  serviceAccountId,
  type LocalOidcAuthorityOptions,
  type OidcClientRegistration,
  type OidcDialect,
  type OidcIssuerShape,
} from 'nestjs-obo/testing';
import { rejectionOf } from './support/rejection-of.js';
import { until } from './support/until.js';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const MIDDLE_SECRET = 'middle-tier-secret';
const MIDDLE_API = 'https://middle.example.test/';
const DOWNSTREAM_API = 'https://downstream.example.test/';
const DOWNSTREAM_RESOURCE = 'https://downstream.example.test/resource';

/** The RFC 9068 `typ` (or none) each dialect puts in the protected header. */
const HEADER_TYP: Readonly<Record<OidcDialect, string | undefined>> = {
  rfc9068: 'at+jwt',
  auth0: 'JWT',
  'auth0-rfc9068': 'at+jwt',
  okta: undefined,
  keycloak: 'JWT',
};

/** A started authority with a middle tier (an API that is also a client) and a downstream API. */
interface Setup {
  authority: LocalOidcAuthority;
  middle: OidcClientRegistration;
  /** The middle tier's private key for private_key_jwt. */
  middleKey: CryptoKey;
}

async function setUp(options: LocalOidcAuthorityOptions = {}): Promise<Setup> {
  const authority = await LocalOidcAuthority.start(options);
  authority.registerApi({ audience: MIDDLE_API, scopes: ['access_as_user'] });
  authority.registerApi({ audience: DOWNSTREAM_API, resource: DOWNSTREAM_RESOURCE, scopes: ['Downstream.Read', 'Downstream.Write', 'Downstream.Admin'] });
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const middle = authority.registerClient({
    clientId: randomUUID(),
    clientSecret: MIDDLE_SECRET,
    publicKey: await exportJWK(publicKey),
    apis: [MIDDLE_API],
    delegatedScopes: { [DOWNSTREAM_API]: ['Downstream.Read', 'Downstream.Write'] },
    appScopes: { [DOWNSTREAM_API]: ['Downstream.Read'] },
    appRoles: { [DOWNSTREAM_API]: ['Reader'] },
  });
  return { authority, middle, middleKey: privateKey };
}

type AuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';

function clientAuth(setup: Setup, method: AuthMethod): client.ClientAuth {
  if (method === 'client_secret_basic') return client.ClientSecretBasic(MIDDLE_SECRET);
  if (method === 'client_secret_post') return client.ClientSecretPost(MIDDLE_SECRET);
  return client.PrivateKeyJwt(setup.middleKey);
}

/** openid-client's view of the authority, discovered the OpenID way (or RFC 8414 with `oauth2`). */
function discover(setup: Setup, method: AuthMethod = 'client_secret_basic', algorithm: 'oidc' | 'oauth2' = 'oidc'): Promise<client.Configuration> {
  return client.discovery(new URL(setup.authority.issuer), setup.middle.clientId, undefined, clientAuth(setup, method), { algorithm });
}

/** A user token for the middle tier in the authority's dialect. */
function incoming(authority: LocalOidcAuthority, options: Parameters<LocalOidcAuthority['mintUserToken']>[0] = {}): string {
  return authority.mintUserToken({ audience: MIDDLE_API, ...options });
}

function exchange(config: client.Configuration, subjectToken: string, target: Record<string, string> = { audience: DOWNSTREAM_API }) {
  return client.genericGrantRequest(config, TOKEN_EXCHANGE, {
    subject_token: subjectToken,
    subject_token_type: ACCESS_TOKEN_TYPE,
    requested_token_type: ACCESS_TOKEN_TYPE,
    ...target,
  });
}

/** Verifies `token` through the published JWKS the way a resource server would. */
async function verify(authority: LocalOidcAuthority, token: string, audience: string, typ?: string): Promise<JWTPayload> {
  const jwks = createRemoteJWKSet(new URL(authority.jwksUri));
  const { payload } = await jwtVerify(token, jwks, { issuer: authority.issuer, audience, algorithms: ['RS256'], ...(typ ? { typ } : {}) });
  return payload;
}

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: Record<string, unknown>;
}

/** POSTs a form to the token endpoint with fetch (raw response shapes). */
async function post(authority: LocalOidcAuthority, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(authority.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // malformed-json fault: the text is what the test looks at
  }
  return { status: res.status, headers: res.headers, text, body };
}

function exchangeForm(setup: Setup, subjectToken: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    grant_type: TOKEN_EXCHANGE,
    client_id: setup.middle.clientId,
    client_secret: MIDDLE_SECRET,
    subject_token: subjectToken,
    subject_token_type: ACCESS_TOKEN_TYPE,
    audience: DOWNSTREAM_API,
    ...extra,
  };
}

/** A private_key_jwt assertion signed by `key` (iss = sub = the client, aud the token endpoint, 2 minutes), claims overridable. */
function assertion(setup: Setup, key: CryptoKey, claims: Record<string, unknown> = {}): Promise<string> {
  const id = setup.middle.clientId;
  const now = Math.floor(Date.now() / 1000);
  const payload = { iss: id, sub: id, aud: setup.authority.tokenEndpoint, iat: now, exp: now + 120, jti: randomUUID(), ...claims };
  for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name as keyof typeof payload];
  return new SignJWT(payload).setProtectedHeader({ alg: 'RS256' }).sign(key);
}

describe('#115 LocalOidcAuthority metadata for each issuer shape, found by openid-client', () => {
  const shapes: Array<[OidcIssuerShape, (origin: string) => { issuer: string; token: string; jwks: string }]> = [
    ['auth0', (o) => ({ issuer: `${o}/`, token: `${o}/oauth/token`, jwks: `${o}/.well-known/jwks.json` })],
    ['okta', (o) => ({ issuer: `${o}/oauth2/default`, token: `${o}/oauth2/default/v1/token`, jwks: `${o}/oauth2/default/v1/keys` })],
    ['keycloak', (o) => ({ issuer: `${o}/realms/test`, token: `${o}/realms/test/protocol/openid-connect/token`, jwks: `${o}/realms/test/protocol/openid-connect/certs` })],
    ['generic', (o) => ({ issuer: `${o}/as`, token: `${o}/as/token`, jwks: `${o}/as/jwks` })],
  ];

  describe.each(shapes)('%s shape', (shape, expected) => {
    let setup: Setup;
    beforeAll(async () => {
      setup = await setUp({ issuerShape: shape });
    });
    afterAll(() => setup.authority.close());

    it('serves OpenID discovery whose issuer, token_endpoint and jwks_uri follow the shape byte for byte', async () => {
      const origin = new URL(setup.authority.issuer).origin;
      const config = await discover(setup);
      const metadata = config.serverMetadata();
      expect(metadata.issuer).toBe(expected(origin).issuer);
      expect(setup.authority.issuer).toBe(expected(origin).issuer);
      expect(metadata.token_endpoint).toBe(expected(origin).token);
      expect(metadata.jwks_uri).toBe(expected(origin).jwks);
      expect(metadata.token_endpoint_auth_methods_supported).toEqual(['client_secret_basic', 'client_secret_post', 'private_key_jwt']);
      expect(metadata.grant_types_supported).toEqual(expect.arrayContaining(['client_credentials', TOKEN_EXCHANGE]));
    });

    it('serves the same document at the RFC 8414 address (well-known inserted between host and path)', async () => {
      const before = setup.authority.requests.authorizationServerMetadata;
      const config = await discover(setup, 'client_secret_basic', 'oauth2');
      expect(config.serverMetadata().issuer).toBe(setup.authority.issuer);
      expect(setup.authority.requests.authorizationServerMetadata).toBe(before + 1);
    });

    it('publishes a JWKS at jwks_uri that verifies a minted token', async () => {
      const token = setup.authority.mintUserToken();
      await expect(verify(setup.authority, token, setup.authority.audience)).resolves.toMatchObject({ iss: setup.authority.issuer });
    });
  });

  it('misbehaves at discovery and JWKS as told, counting every request per endpoint', async () => {
    const setup = await setUp();
    try {
      setup.authority.discoveryFault = 'status-500';
      expect(await rejectionOf(discover(setup))).toBeInstanceOf(Error);
      setup.authority.discoveryFault = 'none';
      setup.authority.jwksFault = 'empty-keys';
      await expect(verify(setup.authority, setup.authority.mintUserToken(), setup.authority.audience)).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });
      expect(setup.authority.requests).toMatchObject({ openidConfiguration: 1, jwks: 1, token: 0 });
      setup.authority.jwksFault = 'none';
      const unknown = await fetch(`${setup.authority.issuer}/nothing-here`);
      expect(unknown.status).toBe(404);
      expect(setup.authority.requests.other).toBe(1);
      setup.authority.resetCounters();
      expect(setup.authority.requests).toEqual({ openidConfiguration: 0, authorizationServerMetadata: 0, jwks: 0, token: 0, other: 0 });
    } finally {
      await setup.authority.close();
    }
  });

  it('serves only the RFC 8414 document when asked, answering the OpenID address with 404', async () => {
    const setup = await setUp({ issuerShape: 'okta', metadata: 'rfc8414-only' });
    try {
      const refused = await rejectionOf(discover(setup));
      expect(refused.message).toMatch(/404|unexpected HTTP response status code/i);
      expect(setup.authority.requests.openidConfiguration).toBe(1);
      const config = await discover(setup, 'client_secret_basic', 'oauth2');
      expect(config.serverMetadata().token_endpoint).toBe(`${setup.authority.issuer}/v1/token`);
      expect(setup.authority.requests.authorizationServerMetadata).toBe(1);
    } finally {
      await setup.authority.close();
    }
  });

  it('advertises only the client authentication methods it accepts, and refuses the others with invalid_client', async () => {
    const setup = await setUp({ clientAuthMethods: ['private_key_jwt'] });
    try {
      const config = await discover(setup, 'private_key_jwt');
      expect(config.serverMetadata().token_endpoint_auth_methods_supported).toEqual(['private_key_jwt']);
      const answer = await post(setup.authority, { grant_type: 'client_credentials', client_id: setup.middle.clientId, client_secret: MIDDLE_SECRET, audience: DOWNSTREAM_API });
      expect(answer).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
      await expect(client.clientCredentialsGrant(config, { audience: DOWNSTREAM_API })).resolves.toMatchObject({ token_type: 'bearer' });
    } finally {
      await setup.authority.close();
    }
  });
});

describe('#116 LocalOidcAuthority mints access tokens in each dialect', () => {
  describe.each(OIDC_DIALECTS)('%s', (dialect) => {
    let authority: LocalOidcAuthority;
    beforeAll(async () => {
      authority = await LocalOidcAuthority.start({ dialect });
    });
    afterAll(() => authority.close());

    it('mints a user token that jose verifies through the JWKS, with the dialect header typ', async () => {
      const token = authority.mintUserToken({ scopes: ['access_as_user', 'profile.read'] });
      const typ = HEADER_TYP[dialect];
      expect(decodeProtectedHeader(token).typ).toBe(typ);
      const claims = await verify(authority, token, authority.audience, typ);
      expect(claims).toMatchObject({ iss: authority.issuer, aud: authority.audience });
      expect(typeof claims.exp).toBe('number');
      expect(typeof claims.iat).toBe('number');
      if (typ !== undefined) {
        const wrongTyp = typ === 'JWT' ? 'at+jwt' : 'JWT';
        await expect(verify(authority, token, authority.audience, wrongTyp)).rejects.toMatchObject({ code: 'ERR_JWT_CLAIM_VALIDATION_FAILED' });
      }
    });

    it('puts the scopes, the client and the user where the dialect keeps them', () => {
      const claims = decodeJwt(authority.mintUserToken({ scopes: ['a', 'b'], subject: 'the-user', clientId: 'the-client', userId: '00uTheUser' }));
      switch (dialect) {
        case 'rfc9068':
          expect(claims).toMatchObject({ scope: 'a b', client_id: 'the-client', sub: 'the-user' });
          expect(typeof claims.jti).toBe('string');
          break;
        case 'auth0':
          expect(claims).toMatchObject({ scope: 'a b', permissions: ['a', 'b'], azp: 'the-client', sub: 'the-user' });
          expect(claims).not.toHaveProperty('jti');
          expect(claims).not.toHaveProperty('gty');
          break;
        case 'auth0-rfc9068':
          expect(claims).toMatchObject({ scope: 'a b', permissions: ['a', 'b'], client_id: 'the-client', sub: 'the-user' });
          expect(typeof claims.jti).toBe('string');
          break;
        case 'okta':
          expect(claims).toMatchObject({ scp: ['a', 'b'], cid: 'the-client', uid: '00uTheUser', sub: 'the-user', ver: 1 });
          expect(claims.jti).toMatch(/^AT\./);
          expect(claims).not.toHaveProperty('scope');
          break;
        case 'keycloak':
          expect(claims).toMatchObject({ scope: 'a b', azp: 'the-client', sub: 'the-user', typ: 'Bearer', realm_access: { roles: [] } });
          break;
      }
    });

    it('mints an app-only token the way the dialect marks machine tokens', async () => {
      const token = authority.mintAppToken({ clientId: 'daemon', scopes: ['Downstream.Read'], roles: ['Reader'], clientRoles: { [authority.audience]: ['Reader'] } });
      const claims = await verify(authority, token, authority.audience, HEADER_TYP[dialect]);
      const expected: Record<OidcDialect, Record<string, unknown>> = {
        rfc9068: { sub: 'daemon', client_id: 'daemon', scope: 'Downstream.Read', roles: ['Reader'] },
        auth0: { sub: 'daemon@clients', azp: 'daemon', gty: 'client-credentials', scope: 'Downstream.Read', permissions: ['Downstream.Read'] },
        'auth0-rfc9068': { sub: 'daemon@clients', client_id: 'daemon', scope: 'Downstream.Read' },
        okta: { sub: 'daemon', cid: 'daemon', scp: ['Downstream.Read'] },
        keycloak: {
          sub: serviceAccountId('daemon'),
          azp: 'daemon',
          client_id: 'daemon',
          preferred_username: 'service-account-daemon',
          resource_access: { [authority.audience]: { roles: ['Reader'] } },
        },
      };
      expect(claims).toMatchObject(expected[dialect]);
      if (dialect === 'okta') expect(claims).not.toHaveProperty('uid');
      if (dialect === 'auth0-rfc9068') expect(claims).not.toHaveProperty('gty');
    });

    it('overrides or removes any claim or header member, and nests act outermost first', () => {
      const token = authority.mintUserToken({
        claims: { sub: 'override', iat: undefined, custom: 7 },
        header: { kid: 'other-kid', typ: 'application/at+jwt' },
        act: actChain('current', 'earlier', 'first'),
      });
      expect(decodeProtectedHeader(token)).toMatchObject({ kid: 'other-kid', typ: 'application/at+jwt' });
      const claims = decodeJwt(token);
      expect(claims).toMatchObject({ sub: 'override', custom: 7, act: { sub: 'current', act: { sub: 'earlier', act: { sub: 'first' } } } });
      expect(claims).not.toHaveProperty('iat');
    });
  });

  it('signs with a foreign key when asked, which the JWKS does not verify', async () => {
    const authority = await LocalOidcAuthority.start();
    try {
      const forged = authority.mintUserToken({ key: await authority.foreignKey() });
      await expect(verify(authority, forged, authority.audience, 'at+jwt')).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });
    } finally {
      await authority.close();
    }
  });
});

describe('#118 RFC 8693 token exchange and client credentials through openid-client', () => {
  describe.each<AuthMethod>(['client_secret_basic', 'client_secret_post', 'private_key_jwt'])('with %s', (method) => {
    let setup: Setup;
    beforeAll(async () => {
      setup = await setUp({ dialect: 'auth0', subjectTokenError: 'invalid_request' });
    });
    afterAll(() => setup.authority.close());

    it('exchanges a user token for the downstream API: same user, act naming the caller, requested scope', async () => {
      const user = incoming(setup.authority, { subject: 'auth0|ada' });
      const config = await discover(setup, method);
      const response = await exchange(config, user, { audience: DOWNSTREAM_API, scope: 'Downstream.Read' });
      expect(response).toMatchObject({ issued_token_type: ACCESS_TOKEN_TYPE, token_type: 'bearer', expires_in: 3600, scope: 'Downstream.Read' });
      const claims = await verify(setup.authority, response.access_token, DOWNSTREAM_API, 'JWT');
      expect(claims).toMatchObject({ sub: 'auth0|ada', azp: setup.middle.clientId, scope: 'Downstream.Read', permissions: ['Downstream.Read'], act: { sub: setup.middle.clientId } });
      const logged = setup.authority.lastTokenRequest!;
      expect(logged).toMatchObject({ grant_type: TOKEN_EXCHANGE, subject_token: user, audience: DOWNSTREAM_API });
      if (method === 'client_secret_post') expect(logged.client_secret).toBe('present');
      if (method === 'client_secret_basic') expect(logged.client_secret_basic).toBe('present');
      if (method === 'private_key_jwt') expect(logged.client_assertion_type).toBe(JWT_BEARER_ASSERTION_TYPE);
      expect(JSON.stringify(setup.authority.tokenRequestLog)).not.toContain(MIDDLE_SECRET);
    });

    it('issues an app-only token by client credentials with the scopes granted to the client', async () => {
      const config = await discover(setup, method);
      const response = await client.clientCredentialsGrant(config, { audience: DOWNSTREAM_API });
      expect(response).toMatchObject({ token_type: 'bearer', expires_in: 3600, scope: 'Downstream.Read' });
      const claims = await verify(setup.authority, response.access_token, DOWNSTREAM_API, 'JWT');
      expect(claims).toMatchObject({ sub: `${setup.middle.clientId}@clients`, azp: setup.middle.clientId, gty: 'client-credentials', scope: 'Downstream.Read' });
    });
  });

  describe.each(OIDC_DIALECTS)('issued in the %s dialect', (dialect) => {
    let setup: Setup;
    beforeAll(async () => {
      setup = await setUp({ dialect });
    });
    afterAll(() => setup.authority.close());

    it('keeps the user, names the caller where the dialect keeps the client, and nests the subject token act', async () => {
      const user = incoming(setup.authority, { subject: 'user-1', userId: '00uUser1', act: actChain('front-end') });
      const config = await discover(setup, 'client_secret_post');
      const response = await exchange(config, user, { resource: DOWNSTREAM_RESOURCE, scope: 'Downstream.Read Downstream.Write' });
      const claims = await verify(setup.authority, response.access_token, DOWNSTREAM_API, HEADER_TYP[dialect]);
      expect(claims).toMatchObject({ sub: 'user-1', act: { sub: setup.middle.clientId, act: { sub: 'front-end' } } });
      const client = { rfc9068: 'client_id', auth0: 'azp', 'auth0-rfc9068': 'client_id', okta: 'cid', keycloak: 'azp' }[dialect];
      expect(claims[client]).toBe(setup.middle.clientId);
      if (dialect === 'okta') expect(claims).toMatchObject({ uid: '00uUser1', scp: ['Downstream.Read', 'Downstream.Write'] });
      else expect(claims.scope).toBe('Downstream.Read Downstream.Write');
    });
  });

  it('grants every scope the client may request and the user holds when scope is left out', async () => {
    const setup = await setUp();
    try {
      setup.authority.grantUserScopes('limited-user', DOWNSTREAM_API, ['Downstream.Read']);
      const config = await discover(setup);
      const response = await exchange(config, incoming(setup.authority, { subject: 'limited-user' }));
      expect(response.scope).toBe('Downstream.Read');
      const other = await exchange(config, incoming(setup.authority));
      expect(other.scope).toBe('Downstream.Read Downstream.Write');
    } finally {
      await setup.authority.close();
    }
  });
});

describe('#118 #120 token endpoint refusals', () => {
  let setup: Setup;
  let config: client.Configuration;
  beforeAll(async () => {
    setup = await setUp({ dialect: 'rfc9068' });
    config = await discover(setup, 'client_secret_basic');
  });
  afterAll(() => setup.authority.close());

  async function refusal(subjectToken: string, target?: Record<string, string>) {
    const error = await rejectionOf(exchange(config, subjectToken, target));
    expect(error).toBeInstanceOf(client.ResponseBodyError);
    return error as unknown as client.ResponseBodyError;
  }

  it('answers a subject token signed by a key it does not publish with 400 invalid_request', async () => {
    const error = await refusal(incoming(setup.authority, { key: await setup.authority.foreignKey() }));
    expect(error).toMatchObject({ status: 400, error: 'invalid_request' });
  });

  it('answers an expired subject token with 400 invalid_request', async () => {
    const error = await refusal(incoming(setup.authority, { lifetimeSeconds: -60 }));
    expect(error).toMatchObject({ status: 400, error: 'invalid_request' });
  });

  it('answers a subject token from another issuer, an ID token, or an app-only token with 400 invalid_request', async () => {
    for (const token of [
      incoming(setup.authority, { claims: { iss: 'https://elsewhere.example.test/' } }),
      incoming(setup.authority, { header: { typ: 'JWT' }, claims: { nonce: 'n-1' } }),
      setup.authority.mintAppToken({ audience: MIDDLE_API, clientId: 'daemon' }),
    ]) {
      expect(await refusal(token)).toMatchObject({ status: 400, error: 'invalid_request' });
    }
  });

  it('answers a subject token whose audience is not an API of the caller with 400 invalid_request', async () => {
    const error = await refusal(setup.authority.mintUserToken({ audience: DOWNSTREAM_API }));
    expect(error).toMatchObject({ status: 400, error: 'invalid_request', error_description: expect.stringContaining('audience') });
  });

  it('answers a wrong subject_token_type or an unsupported requested_token_type with 400 invalid_request', async () => {
    const token = incoming(setup.authority);
    const wrongSubject = await post(setup.authority, exchangeForm(setup, token, { subject_token_type: 'urn:ietf:params:oauth:token-type:id_token' }));
    expect(wrongSubject).toMatchObject({ status: 400, body: { error: 'invalid_request', error_description: expect.stringContaining('subject_token_type') } });
    const wrongRequested = await post(setup.authority, exchangeForm(setup, token, { requested_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' }));
    expect(wrongRequested).toMatchObject({ status: 400, body: { error: 'invalid_request', error_description: expect.stringContaining('requested_token_type') } });
    expect(await post(setup.authority, exchangeForm(setup, token))).toMatchObject({ status: 200 });
  });

  it('answers an unknown audience or resource with 400 invalid_target', async () => {
    const token = incoming(setup.authority);
    expect(await refusal(token, { audience: 'https://unknown.example.test/' })).toMatchObject({ status: 400, error: 'invalid_target' });
    expect(await refusal(token, { resource: 'https://unknown.example.test/r' })).toMatchObject({ status: 400, error: 'invalid_target' });
  });

  it('answers a scope the API does not define, the client may not request, or the user does not hold with 400 invalid_scope', async () => {
    setup.authority.grantUserScopes('reader-only', DOWNSTREAM_API, ['Downstream.Read']);
    const token = incoming(setup.authority);
    expect(await refusal(token, { audience: DOWNSTREAM_API, scope: 'Downstream.Delete' })).toMatchObject({ status: 400, error: 'invalid_scope' });
    expect(await refusal(token, { audience: DOWNSTREAM_API, scope: 'Downstream.Admin' })).toMatchObject({ status: 400, error: 'invalid_scope' });
    const reader = incoming(setup.authority, { subject: 'reader-only' });
    expect(await refusal(reader, { audience: DOWNSTREAM_API, scope: 'Downstream.Write' })).toMatchObject({ status: 400, error: 'invalid_scope' });
  });

  it('refuses a subject token that already has five nested act levels with 400 invalid_request, and accepts four', async () => {
    const five = incoming(setup.authority, { act: actChain('e', 'd', 'c', 'b', 'a') });
    const error = await refusal(five);
    expect(error).toMatchObject({ status: 400, error: 'invalid_request', error_description: expect.stringContaining('Delegation chain') });
    const four = await exchange(config, incoming(setup.authority, { act: actChain('d', 'c', 'b', 'a') }));
    expect(decodeJwt(four.access_token).act).toEqual(actChain(setup.middle.clientId, 'd', 'c', 'b', 'a'));
  });

  it('answers a wrong client secret with 401 invalid_client and a Basic challenge', async () => {
    const wrong = await client.discovery(new URL(setup.authority.issuer), setup.middle.clientId, undefined, client.ClientSecretBasic('wrong'));
    // A 401 with a WWW-Authenticate challenge is surfaced by openid-client as the challenge, body unread.
    const error = await rejectionOf(exchange(wrong, incoming(setup.authority)));
    expect(error).toBeInstanceOf(client.WWWAuthenticateChallengeError);
    const challenge = error as unknown as client.WWWAuthenticateChallengeError;
    expect(challenge.status).toBe(401);
    expect(challenge.cause[0]?.scheme).toBe('basic');
    await expect(challenge.response.json()).resolves.toMatchObject({ error: 'invalid_client' });
    const posted = await post(setup.authority, exchangeForm(setup, incoming(setup.authority), { client_secret: 'wrong' }));
    expect(posted).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
  });

  it('answers a private_key_jwt assertion signed by an unregistered key with 401 invalid_client', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const wrong = await client.discovery(new URL(setup.authority.issuer), setup.middle.clientId, undefined, client.PrivateKeyJwt(privateKey));
    const error = await rejectionOf(client.clientCredentialsGrant(wrong, { audience: DOWNSTREAM_API }));
    expect(error).toMatchObject({ status: 401, error: 'invalid_client' });
  });

  it('answers a private_key_jwt assertion for another audience, without exp, expired, or whose jti was used before with 401 invalid_client', async () => {
    const form = (clientAssertion: string) => ({
      grant_type: 'client_credentials',
      client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
      client_assertion: clientAssertion,
      audience: DOWNSTREAM_API,
    });
    const wrongAudience = await assertion(setup, setup.middleKey, { aud: 'https://elsewhere.example.test/token' });
    expect(await post(setup.authority, form(wrongAudience))).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    const noExp = await assertion(setup, setup.middleKey, { exp: undefined });
    expect(await post(setup.authority, form(noExp))).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    const expired = await assertion(setup, setup.middleKey, { exp: Math.floor(Date.now() / 1000) - 120 });
    expect(await post(setup.authority, form(expired))).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    const toIssuer = await assertion(setup, setup.middleKey, { aud: setup.authority.issuer });
    expect(await post(setup.authority, form(toIssuer))).toMatchObject({ status: 200 });
    const once = await assertion(setup, setup.middleKey);
    expect(await post(setup.authority, form(once))).toMatchObject({ status: 200 });
    expect(await post(setup.authority, form(once))).toMatchObject({ status: 401, body: { error: 'invalid_client', error_description: expect.stringContaining('jti') } });
  });

  it('answers client credentials for an API the client holds no grant on with 403 access_denied', async () => {
    const error = await rejectionOf(client.clientCredentialsGrant(config, { audience: MIDDLE_API }));
    expect(error).toMatchObject({ status: 403, error: 'access_denied' });
  });

  it('answers a grant the client may not use with 400 unauthorized_client, and an unknown grant with unsupported_grant_type', async () => {
    const limited = setup.authority.registerClient({ clientId: randomUUID(), clientSecret: 's', apis: [MIDDLE_API], grants: ['client_credentials'] });
    const answer = await post(setup.authority, exchangeForm(setup, incoming(setup.authority), { client_id: limited.clientId, client_secret: 's' }));
    expect(answer).toMatchObject({ status: 400, body: { error: 'unauthorized_client' } });
    const unknown = await post(setup.authority, { grant_type: 'password', client_id: setup.middle.clientId, client_secret: MIDDLE_SECRET });
    expect(unknown).toMatchObject({ status: 400, body: { error: 'unsupported_grant_type' } });
  });

  it('answers a bad subject token with invalid_grant when configured like servers that do', async () => {
    const strict = await setUp({ subjectTokenError: 'invalid_grant', requestedTokenType: 'required' });
    try {
      const answer = await post(strict.authority, exchangeForm(strict, incoming(strict.authority, { lifetimeSeconds: -60 }), { requested_token_type: ACCESS_TOKEN_TYPE }));
      expect(answer).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
      const missingType = await post(strict.authority, exchangeForm(strict, incoming(strict.authority)));
      expect(missingType).toMatchObject({ status: 400, body: { error: 'invalid_request', error_description: expect.stringContaining('requested_token_type') } });
    } finally {
      await strict.authority.close();
    }
  });
});

describe('#119 #120 injected token faults', () => {
  let setup: Setup;
  beforeAll(async () => {
    setup = await setUp({ dialect: 'auth0' });
  });
  afterAll(() => setup.authority.close());
  afterEach(() => setup.authority.clearTokenFaults());

  const exchangeOnce = () => post(setup.authority, exchangeForm(setup, incoming(setup.authority)));

  it('answers 429 with Retry-After and an RFC 6749 body, then serves normally once the fault is used up', async () => {
    setup.authority.injectTokenFault({ kind: 'status', status: 429, retryAfter: 7 }, { times: 1 });
    const throttled = await exchangeOnce();
    expect(throttled).toMatchObject({ status: 429, body: { error: 'temporarily_unavailable' } });
    expect(throttled.headers.get('retry-after')).toBe('7');
    expect(await exchangeOnce()).toMatchObject({ status: 200 });
  });

  it('issues tokens whose expires_in and exp follow tokenLifetimeSeconds', async () => {
    setup.authority.tokenLifetimeSeconds = 120;
    try {
      const answer = await exchangeOnce();
      expect(answer.body.expires_in).toBe(120);
      const claims = decodeJwt(answer.body.access_token as string);
      expect(claims.exp! - claims.iat!).toBe(120);
    } finally {
      setup.authority.tokenLifetimeSeconds = 3600;
    }
  });

  it('answers 5xx with server_error', async () => {
    setup.authority.injectTokenFault({ kind: 'status', status: 502 });
    expect(await exchangeOnce()).toMatchObject({ status: 502, body: { error: 'server_error' } });
  });

  it('answers a 200 that is not JSON', async () => {
    setup.authority.injectTokenFault({ kind: 'malformed-json' });
    const answer = await exchangeOnce();
    expect(answer.status).toBe(200);
    expect(() => JSON.parse(answer.text)).toThrow();
  });

  it.each([
    ['token-type-dpop', { token_type: 'DPoP' }],
    ['token-type-n_a', { token_type: 'N_A' }],
    ['token-type-lowercase-bearer', { token_type: 'bearer' }],
    ['expires-in-string', { expires_in: '3600' }],
    ['expires-in-zero', { expires_in: 0 }],
    ['expires-in-absurd', { expires_in: 3_153_600_000 }],
  ] as const)('spoils the response with %s', async (variant, expected) => {
    setup.authority.injectTokenFault({ kind: 'bad-token-response', variant });
    const answer = await exchangeOnce();
    expect(answer).toMatchObject({ status: 200, body: { ...expected, issued_token_type: ACCESS_TOKEN_TYPE } });
  });

  it('leaves out issued_token_type or access_token when asked', async () => {
    setup.authority.injectTokenFault({ kind: 'bad-token-response', variant: 'missing-issued-token-type' }, { times: 1 });
    expect((await exchangeOnce()).body).not.toHaveProperty('issued_token_type');
    setup.authority.injectTokenFault({ kind: 'bad-token-response', variant: 'missing-access-token' }, { times: 1 });
    expect((await exchangeOnce()).body).not.toHaveProperty('access_token');
  });

  it('issues a validly signed token for another audience while the response looks normal', async () => {
    setup.authority.injectTokenFault({ kind: 'altered-token', audience: 'https://wrong.example.test/' });
    const answer = await exchangeOnce();
    expect(answer.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    const token = answer.body.access_token as string;
    await expect(verify(setup.authority, token, 'https://wrong.example.test/', 'JWT')).resolves.toMatchObject({ aud: 'https://wrong.example.test/' });
    await expect(verify(setup.authority, token, DOWNSTREAM_API, 'JWT')).rejects.toMatchObject({ code: 'ERR_JWT_CLAIM_VALIDATION_FAILED' });
  });

  it('answers insufficient_user_authentication with acr_values and max_age', async () => {
    setup.authority.injectTokenFault({ kind: 'step-up', acrValues: 'urn:example:mfa', maxAge: 300 });
    expect(await exchangeOnce()).toMatchObject({ status: 400, body: { error: 'insufficient_user_authentication', acr_values: 'urn:example:mfa', max_age: 300 } });
  });

  it.each([
    ['access_denied', 403],
    ['consent_required', 400],
    ['unauthorized_client', 400],
  ] as const)('answers the %s error fault with %i', async (error, status) => {
    setup.authority.injectTokenFault({ kind: 'error', error });
    expect(await exchangeOnce()).toMatchObject({ status, body: { error } });
  });

  it('applies a fault only to matching requests (grant, subject, audience)', async () => {
    setup.authority.injectTokenFault({ kind: 'status', status: 503 }, { grant: 'token_exchange', subject: 'auth0|victim', audience: DOWNSTREAM_API });
    const victim = await post(setup.authority, exchangeForm(setup, incoming(setup.authority, { subject: 'auth0|victim' })));
    expect(victim.status).toBe(503);
    expect(await exchangeOnce()).toMatchObject({ status: 200 });
    const app = await post(setup.authority, { grant_type: 'client_credentials', client_id: setup.middle.clientId, client_secret: MIDDLE_SECRET, audience: DOWNSTREAM_API });
    expect(app.status).toBe(200);
  });

  it('never answers a hung request (the caller gives up), and counts every request per endpoint and per user', async () => {
    setup.authority.resetCounters();
    setup.authority.injectTokenFault({ kind: 'hang' }, { subject: 'auth0|hung' });
    const giveUp = new AbortController();
    const hung = fetch(setup.authority.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(exchangeForm(setup, incoming(setup.authority, { subject: 'auth0|hung' }))).toString(),
      signal: giveUp.signal,
    });
    hung.catch(() => undefined); // observed below, after the abort
    await until(() => setup.authority.tokenRequests.byUser.get('auth0|hung') === 1);
    expect(await exchangeOnce()).toMatchObject({ status: 200 });
    giveUp.abort();
    await expect(hung).rejects.toMatchObject({ name: 'AbortError' });
    expect(setup.authority.requests.token).toBe(2);
    expect(setup.authority.tokenRequests.tokenExchange).toBe(2);
  });
});
