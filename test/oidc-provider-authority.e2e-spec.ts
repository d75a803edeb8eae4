// The independent authority (test/support/oidc-provider-authority.ts: panva's oidc-provider) proved
// with panva's openid-client v6 and jose only, none of our code: discovery, its RFC 9068 JWT access
// tokens checked against its own JWKS, RFC 8693 token exchange with each client authentication,
// client credentials with a resource, and its refusals. Catalogue #122 relies on it.
import { generateKeyPairSync } from 'node:crypto';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, importPKCS8, jwtVerify } from 'jose';
import {
  ClientSecretBasic,
  ClientSecretPost,
  PrivateKeyJwt,
  ResponseBodyError,
  WWWAuthenticateChallengeError,
  clientCredentialsGrant,
  discovery,
  genericGrantRequest,
  type ClientAuth,
  type Configuration,
} from 'openid-client';
import { ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT } from 'nestjs-obo/testing';
import {
  DOWNSTREAM_API,
  ORIGINAL_API,
  OidcProviderAuthority,
  type OidcProviderClient,
  type OidcProviderClientAuthMethod,
} from './support/oidc-provider-authority.js';

let authority: OidcProviderAuthority;

beforeAll(async () => {
  authority = await OidcProviderAuthority.start();
});

afterAll(async () => {
  await authority?.close();
});

const now = () => Math.floor(Date.now() / 1000);

async function clientAuthOf(client: OidcProviderClient): Promise<ClientAuth> {
  switch (client.authMethod) {
    case 'client_secret_basic':
      return ClientSecretBasic(client.clientSecret);
    case 'client_secret_post':
      return ClientSecretPost(client.clientSecret);
    case 'private_key_jwt':
      return PrivateKeyJwt({ key: await importPKCS8(client.privateKey!.privateKey, 'RS256'), kid: client.privateKey!.keyId });
  }
}

/** openid-client's configuration for one of the Original API's clients, from the issuer's discovery document. */
async function configFor(method: OidcProviderClientAuthMethod, override?: ClientAuth): Promise<Configuration> {
  const client = authority.originalApiClients[method];
  return discovery(new URL(authority.issuer), client.clientId, undefined, override ?? (await clientAuthOf(client)));
}

function exchange(config: Configuration, subjectToken: string, extra: Record<string, string> = {}) {
  return genericGrantRequest(config, TOKEN_EXCHANGE_GRANT, {
    subject_token: subjectToken,
    subject_token_type: ACCESS_TOKEN_TYPE,
    requested_token_type: ACCESS_TOKEN_TYPE,
    audience: DOWNSTREAM_API.audience,
    ...extra,
  });
}

/** Verifies `token` against the keys oidc-provider publishes at its discovered `jwks_uri`. */
async function verifyAtJwks(config: Configuration, token: string, audience: string) {
  const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!));
  return jwtVerify(token, jwks, { issuer: authority.issuer, audience, typ: 'at+jwt', algorithms: ['RS256'] });
}

/**
 * The token endpoint's refusal as openid-client reports it: a `ResponseBodyError`, or for a 401 with a
 * `WWW-Authenticate` challenge (oidc-provider sends `Basic ... error="invalid_client"` when the client
 * used HTTP Basic) a `WWWAuthenticateChallengeError`.
 */
async function refusalOf(promise: Promise<unknown>): Promise<{ status: number; error: string }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ResponseBodyError) return { status: error.status, error: error.error };
    if (error instanceof WWWAuthenticateChallengeError) return { status: error.status, error: String(error.cause[0]?.parameters.error) };
    throw error;
  }
  throw new Error('expected the token endpoint to refuse');
}

describe('#122 an independent authority (oidc-provider): discovery and its own access tokens', () => {
  it('publishes an OIDC discovery document whose issuer is https://127.0.0.1:<port> without a trailing slash, with both grants', async () => {
    const metadata = (await configFor('client_secret_basic')).serverMetadata();

    expect(authority.issuer).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(metadata.issuer).toBe(authority.issuer);
    expect(metadata.token_endpoint).toBe(`${authority.issuer}/token`);
    expect(metadata.jwks_uri).toBe(`${authority.issuer}/jwks`);
    expect(metadata.grant_types_supported).toEqual(expect.arrayContaining([TOKEN_EXCHANGE_GRANT, 'client_credentials']));
    expect(metadata.token_endpoint_auth_methods_supported).toEqual(
      expect.arrayContaining(['client_secret_basic', 'client_secret_post', 'private_key_jwt']),
    );
  });

  it('also answers RFC 8414 discovery at /.well-known/oauth-authorization-server with the same issuer', async () => {
    const response = await fetch(`${authority.issuer}/.well-known/oauth-authorization-server`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { issuer: string }).issuer).toBe(authority.issuer);
  });

  it('mints a user token that is an RFC 9068 at+jwt signed by a key at its jwks_uri, with jti sub iat exp scope client_id iss aud', async () => {
    const config = await configFor('client_secret_basic');
    const token = await authority.mintUserToken({ subject: 'user-ada' });

    const { payload, protectedHeader } = await verifyAtJwks(config, token, ORIGINAL_API.audience);

    expect(protectedHeader).toEqual({ alg: 'RS256', typ: 'at+jwt', kid: authority.publicKeys.keys[0]!.kid });
    expect(Object.keys(payload).sort()).toEqual(['aud', 'client_id', 'exp', 'iat', 'iss', 'jti', 'scope', 'sub']);
    expect(payload).toMatchObject({
      iss: authority.issuer,
      aud: ORIGINAL_API.audience,
      sub: 'user-ada',
      client_id: authority.spaClientId,
      scope: ORIGINAL_API.scope,
    });
    expect(payload.exp! - payload.iat!).toBe(3600);
  });

  it('mints deliberate variants still signed by its key: an expired token and a header with typ JWT', async () => {
    const config = await configFor('client_secret_basic');
    const expired = await authority.mintUserToken({ issuedAt: now() - 7200, expiresAt: now() - 3600 });
    const plainJwt = await authority.mintUserToken({ header: { typ: 'JWT' } });

    await expect(verifyAtJwks(config, expired, ORIGINAL_API.audience)).rejects.toMatchObject({ code: 'ERR_JWT_EXPIRED' });
    expect(decodeProtectedHeader(plainJwt).typ).toBe('JWT');
    await expect(verifyAtJwks(config, plainJwt, ORIGINAL_API.audience)).rejects.toMatchObject({ code: 'ERR_JWT_CLAIM_VALIDATION_FAILED' });
  });
});

describe.each(['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const)(
  '#122 an independent authority (oidc-provider): RFC 8693 token exchange with %s',
  (method) => {
    it('exchanges a user token for a Downstream API at+jwt with the same sub, the client as client_id and act.sub', async () => {
      const config = await configFor(method);
      const clientId = authority.originalApiClients[method].clientId;
      const userToken = await authority.mintUserToken({ subject: 'user-grace' });

      const response = await exchange(config, userToken, { scope: DOWNSTREAM_API.scope });

      expect(response).toMatchObject({
        issued_token_type: ACCESS_TOKEN_TYPE,
        token_type: 'bearer', // openid-client lower-cases it; on the wire it is "Bearer" (see below)
        expires_in: 3600,
        scope: DOWNSTREAM_API.scope,
      });
      const { payload, protectedHeader } = await verifyAtJwks(config, response.access_token, DOWNSTREAM_API.audience);
      expect(protectedHeader.typ).toBe('at+jwt');
      expect(payload).toMatchObject({
        iss: authority.issuer,
        aud: DOWNSTREAM_API.audience,
        sub: 'user-grace',
        client_id: clientId,
        scope: DOWNSTREAM_API.scope,
        act: { sub: clientId },
      });
      expect(payload.jti).toEqual(expect.any(String));
    });

    it('refuses the exchange with invalid_client when the client cannot authenticate', async () => {
      const client = authority.originalApiClients[method];
      const wrong =
        method === 'client_secret_basic'
          ? ClientSecretBasic('not-the-secret')
          : method === 'client_secret_post'
            ? ClientSecretPost('not-the-secret')
            : PrivateKeyJwt({ key: await importPKCS8(otherKeyPem(), 'RS256'), kid: client.privateKey!.keyId });
      const config = await discovery(new URL(authority.issuer), client.clientId, undefined, wrong);

      const refusal = await refusalOf(exchange(config, await authority.mintUserToken()));

      expect(refusal.status).toBe(401);
      expect(refusal.error).toBe('invalid_client');
    });
  },
);

/** A PKCS#8 PEM of a key the provider does not know. */
function otherKeyPem(): string {
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
}

describe('#122 an independent authority (oidc-provider): RFC 8693 details', () => {
  it('answers on the wire with token_type "Bearer", issued_token_type, expires_in and scope, and Cache-Control no-store', async () => {
    const client = authority.originalApiClients.client_secret_post;
    const response = await fetch(`${authority.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: TOKEN_EXCHANGE_GRANT,
        client_id: client.clientId,
        client_secret: client.clientSecret!,
        subject_token: await authority.mintUserToken(),
        subject_token_type: ACCESS_TOKEN_TYPE,
        resource: DOWNSTREAM_API.audience,
      }),
    });

    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'issued_token_type', 'scope', 'token_type']);
    expect(body).toMatchObject({ token_type: 'Bearer', issued_token_type: ACCESS_TOKEN_TYPE, expires_in: 3600, scope: DOWNSTREAM_API.scope });
  });

  it('targets the Downstream API by resource (RFC 8707) as well as by audience', async () => {
    const config = await configFor('client_secret_basic');
    const response = await genericGrantRequest(config, TOKEN_EXCHANGE_GRANT, {
      subject_token: await authority.mintUserToken(),
      subject_token_type: ACCESS_TOKEN_TYPE,
      resource: DOWNSTREAM_API.audience,
    });

    expect(decodeJwt(response.access_token).aud).toBe(DOWNSTREAM_API.audience);
  });

  it('nests an existing act chain under the exchanging client (RFC 8693 §4.1)', async () => {
    const config = await configFor('client_secret_basic');
    const userToken = await authority.mintUserToken({ claims: { act: { sub: 'earlier-service' } } });

    const response = await exchange(config, userToken);

    const { payload } = await verifyAtJwks(config, response.access_token, DOWNSTREAM_API.audience);
    expect(payload.act).toEqual({ sub: authority.originalApiClients.client_secret_basic.clientId, act: { sub: 'earlier-service' } });
  });

  it.each([
    ['a tampered subject token (signature changed)', async () => tamper(await authority.mintUserToken()), {}],
    ['an expired subject token', () => authority.mintUserToken({ issuedAt: now() - 7200, expiresAt: now() - 3600 }), {}],
    ['a subject token for another audience', () => authority.mintUserToken({ resource: DOWNSTREAM_API.audience }), {}],
    ['a subject token with typ JWT', () => authority.mintUserToken({ header: { typ: 'JWT' } }), {}],
    ['a subject token of another issuer', () => authority.mintUserToken({ claims: { iss: 'https://127.0.0.1:1' } }), {}],
    ['subject_token_type jwt', () => authority.mintUserToken(), { subject_token_type: 'urn:ietf:params:oauth:token-type:jwt' }],
    ['requested_token_type id_token', () => authority.mintUserToken(), { requested_token_type: 'urn:ietf:params:oauth:token-type:id_token' }],
  ])('refuses %s with 400 invalid_request (RFC 8693 §2.2.2)', async (_case, subject, extra) => {
    const config = await configFor('client_secret_basic');

    const refusal = await refusalOf(exchange(config, await subject(), extra));

    expect(refusal.status).toBe(400);
    expect(refusal.error).toBe('invalid_request');
  });

  it('refuses an unknown audience with 400 invalid_target and a foreign scope with 400 invalid_scope', async () => {
    const config = await configFor('client_secret_basic');

    const target = await refusalOf(exchange(config, await authority.mintUserToken(), { audience: 'https://unknown.example.test' }));
    const scope = await refusalOf(exchange(config, await authority.mintUserToken(), { scope: 'Downstream.Write' }));

    expect([target.status, target.error]).toEqual([400, 'invalid_target']);
    expect([scope.status, scope.error]).toEqual([400, 'invalid_scope']);
  });

  it('refuses with 400 invalid_target when neither audience nor resource is sent, or two different ones', async () => {
    const config = await configFor('client_secret_basic');
    const subject = {
      subject_token: await authority.mintUserToken(),
      subject_token_type: ACCESS_TOKEN_TYPE,
    };

    const none = await refusalOf(genericGrantRequest(config, TOKEN_EXCHANGE_GRANT, subject));
    const two = await refusalOf(
      genericGrantRequest(config, TOKEN_EXCHANGE_GRANT, { ...subject, audience: DOWNSTREAM_API.audience, resource: ORIGINAL_API.audience }),
    );

    expect([none.status, none.error]).toEqual([400, 'invalid_target']);
    expect([two.status, two.error]).toEqual([400, 'invalid_target']);
  });

  it('records each token request with its grant, client, status and error', async () => {
    const config = await configFor('client_secret_post');
    const before = authority.tokenRequests.length;

    await exchange(config, await authority.mintUserToken());
    await refusalOf(exchange(config, tamper(await authority.mintUserToken())));

    expect(authority.tokenRequests.slice(before)).toEqual([
      { grantType: TOKEN_EXCHANGE_GRANT, clientId: 'original-api-post', status: 200 },
      { grantType: TOKEN_EXCHANGE_GRANT, clientId: 'original-api-post', status: 400, error: 'invalid_request' },
    ]);
  });
});

describe('#122 an independent authority (oidc-provider): a second instance', () => {
  it('has its own port, keys and clients, and the access-token lifetime it was started with', async () => {
    const other = await OidcProviderAuthority.start({ accessTokenLifetimeSeconds: 120 });
    try {
      const client = other.originalApiClients.client_secret_basic;
      const config = await discovery(new URL(other.issuer), client.clientId, undefined, ClientSecretBasic(client.clientSecret));

      const response = await genericGrantRequest(config, TOKEN_EXCHANGE_GRANT, {
        subject_token: await other.mintUserToken(),
        subject_token_type: ACCESS_TOKEN_TYPE,
        audience: DOWNSTREAM_API.audience,
      });
      const foreign = await refusalOf(exchange(config, await authority.mintUserToken()));

      expect(other.issuer).not.toBe(authority.issuer);
      expect(other.publicKeys.keys[0]!.kid).not.toBe(authority.publicKeys.keys[0]!.kid);
      expect(response.expires_in).toBe(120);
      const { exp, iat } = decodeJwt(response.access_token);
      expect(exp! - iat!).toBe(120);
      expect([foreign.status, foreign.error]).toEqual([400, 'invalid_request']);
    } finally {
      await other.close();
    }
  });
});

describe('#122 an independent authority (oidc-provider): client credentials', () => {
  it.each(['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const)(
    'issues an app-only at+jwt for the resource with sub = client_id = the client (%s)',
    async (method) => {
      const config = await configFor(method);
      const clientId = authority.originalApiClients[method].clientId;

      const response = await clientCredentialsGrant(config, { resource: DOWNSTREAM_API.audience, scope: DOWNSTREAM_API.scope });

      expect(response).toMatchObject({ token_type: 'bearer', expires_in: 3600, scope: DOWNSTREAM_API.scope });
      const { payload, protectedHeader } = await verifyAtJwks(config, response.access_token, DOWNSTREAM_API.audience);
      expect(protectedHeader.typ).toBe('at+jwt');
      expect(Object.keys(payload).sort()).toEqual(['aud', 'client_id', 'exp', 'iat', 'iss', 'jti', 'scope', 'sub']);
      expect(payload).toMatchObject({ sub: clientId, client_id: clientId, aud: DOWNSTREAM_API.audience, scope: DOWNSTREAM_API.scope });
    },
  );

  it('defaults to the Downstream API when no resource is sent', async () => {
    const config = await configFor('client_secret_basic');

    const response = await clientCredentialsGrant(config, { scope: DOWNSTREAM_API.scope });

    expect(decodeJwt(response.access_token).aud).toBe(DOWNSTREAM_API.audience);
  });

  it('refuses an unknown resource with invalid_target', async () => {
    const config = await configFor('client_secret_basic');

    const refusal = await refusalOf(clientCredentialsGrant(config, { resource: 'https://unknown.example.test' }));

    expect([refusal.status, refusal.error]).toEqual([400, 'invalid_target']);
  });
});

/** The same token with one signature character changed (the signature no longer verifies). */
function tamper(token: string): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const flipped = (signature[10] === 'A' ? 'B' : 'A');
  return `${header}.${payload}.${signature.slice(0, 10)}${flipped}${signature.slice(11)}`;
}
