// panva's oidc-provider (OpenID Certified) as the authority a web app signs users in at, over https on
// 127.0.0.1: the authorization-code flow with PKCE required, its own login and consent pages
// (devInteractions: any login, any password), refresh tokens, RP-initiated logout, back-channel logout
// to the web app, and one protected resource (RFC 8707) with JWT access tokens. Everything protocol is
// oidc-provider's; we add the client, the account claims and a signer for deliberate logout-token variants.
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import type { RequestListener } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { SignJWT, importJWK, type JWK, type JWTPayload } from 'jose';
import Provider, { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { certificateFromEnvironment, ensureDevCertificate } from 'nestjs-obo/testing';

/** The resource the web app calls (RFC 8707), with JWT access tokens; sign-in asks for its read scope. */
export const WEB_API = { resource: 'https://web-api.example.test', scopes: ['Web.Read', 'Web.Write'] } as const;

/** Where the authority sends the browser and the logout tokens: the test's loopback http server. */
export interface SignInAuthorityClientUris {
  readonly redirectUri: string;
  readonly postLogoutRedirectUri: string;
  readonly backchannelLogoutUri: string;
}

/** What the test knows of the started authority. */
export interface SignInAuthority {
  /** `https://127.0.0.1:<port>` (no trailing slash). */
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** A second client of the web app that authenticates with `private_key_jwt` (RS256): its PKCS#8 PEM key and `kid`. */
  readonly keyClient: { readonly clientId: string; readonly privateKey: string; readonly keyId: string };
  /** Requests that reached the token endpoint (grant type and answer), oldest first. */
  readonly tokenRequests: readonly { readonly grantType: string | undefined; readonly status: number; readonly error?: string }[];
  /** Signs `payload` as the authority (its key and `kid`), for logout-token variants; `header` over `{ alg: RS256, typ: logout+jwt, kid }`. */
  signAsAuthority(payload: JWTPayload, header?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

function rsaJwk(kid: string): { privateJwk: JWK; publicJwk: JWK; privatePem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const meta = { kid, alg: 'RS256', use: 'sig' };
  return {
    privateJwk: { ...privateKey.export({ format: 'jwk' }), ...meta },
    publicJwk: { ...publicKey.export({ format: 'jwk' }), ...meta },
    privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
  };
}

/** The users' claims (devInteractions accepts any login; its value becomes `sub`). */
function findAccount(_ctx: unknown, sub: string) {
  return {
    accountId: sub,
    claims: async () => ({ sub, name: `${sub[0]?.toUpperCase() ?? ''}${sub.slice(1)} Example`, preferred_username: `${sub}@example.test` }),
  };
}

/** Starts oidc-provider v9 for the web app's confidential clients (`client_secret_basic`, `private_key_jwt`); `close()` it after the tests. */
export async function startSignInAuthority(uris: SignInAuthorityClientUris): Promise<SignInAuthority> {
  const tls = certificateFromEnvironment() ?? ensureDevCertificate();
  let handler: RequestListener | undefined;
  const server: Server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => (handler ? handler(req, res) : res.writeHead(503).end()));
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const issuer = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const signing = rsaJwk(`op-${randomUUID()}`);
  const clientId = 'web-app';
  const clientSecret = randomBytes(32).toString('base64url');
  const provider = new Provider(issuer, {
    jwks: { keys: [signing.privateJwk] },
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [uris.redirectUri],
        post_logout_redirect_uris: [uris.postLogoutRedirectUri],
        backchannel_logout_uri: uris.backchannelLogoutUri,
        // `sid` in ID tokens and logout tokens.
        backchannel_logout_session_required: true,
      },
    ],
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    pkce: { required: () => true },
    findAccount,
    claims: { openid: ['sub'], profile: ['name', 'preferred_username'] },
    // oidc-provider drops `offline_access` unless prompt=consent (OpenID Connect Core 11); a web app gets a refresh token anyway.
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(grant: string): boolean }) => client.grantTypeAllowed('refresh_token'),
    features: {
      devInteractions: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      backchannelLogout: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (_ctx: unknown, _client: unknown, oneOf?: string[]) => oneOf,
        getResourceServerInfo: async (_ctx: unknown, indicator: string) => {
          if (indicator !== WEB_API.resource) throw new errors.InvalidTarget(`unknown resource "${indicator}"`);
          return { audience: WEB_API.resource, scope: WEB_API.scopes.join(' '), accessTokenFormat: 'jwt', accessTokenTTL: 3600, jwt: { sign: { alg: 'RS256' } } };
        },
      },
    },
    // Logout tokens go to the test's loopback server: oidc-provider's own dispatcher refuses special-use
    // addresses (its SSRF guard), so this one test authority sends them with Node's default one.
    fetch: (url: string, { dispatcher: _guarded, ...init }: RequestInit & { dispatcher?: unknown }) => globalThis.fetch(url, init),
  });
  const tokenRequests: { grantType: string | undefined; status: number; error?: string }[] = [];
  provider.use(async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
    await next();
    if (ctx.oidc?.route !== 'token') return;
    const error = (ctx.body as { error?: unknown } | undefined)?.error;
    const grantType = ctx.oidc.params?.grant_type;
    tokenRequests.push({ grantType: typeof grantType === 'string' ? grantType : undefined, status: ctx.status, ...(typeof error === 'string' ? { error } : {}) });
  });
  // Stored through the adapter, not in `clients`: oidc-provider copies static clients with structuredClone,
  // whose `jwks` under jest fail its plain-object check (see oidc-provider-authority.ts).
  const clientKey = rsaJwk(`web-app-jwt-${randomUUID()}`);
  const keyClient = { clientId: 'web-app-jwt', privateKey: clientKey.privatePem, keyId: clientKey.publicJwk.kid! };
  await provider.Client.adapter.upsert(keyClient.clientId, {
    client_id: keyClient.clientId,
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'RS256',
    jwks: { keys: [clientKey.publicJwk] },
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [uris.redirectUri],
  });
  handler = provider.callback();
  const key = await importJWK(signing.privateJwk, 'RS256');
  return {
    issuer,
    clientId,
    clientSecret,
    keyClient,
    tokenRequests,
    signAsAuthority: (payload, header = {}) => new SignJWT(payload).setProtectedHeader({ alg: 'RS256', typ: 'logout+jwt', kid: signing.privateJwk.kid, ...header }).sign(key),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
