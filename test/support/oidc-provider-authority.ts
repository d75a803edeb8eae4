// A second, independent authority for the tests: panva's oidc-provider (OpenID Certified), started
// over https on 127.0.0.1. Its JWT access tokens (RFC 9068, `typ: at+jwt`), client authentication,
// client-credentials grant, keys and JWKS are oidc-provider's own; we add only what it leaves to its
// user: the resource servers (`features.resourceIndicators`), the clients, an RFC 8693 token-exchange
// grant (`registerGrantType`, as its README shows) and a way to get a user's token without a browser.
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import type { RequestListener } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, type JWK } from 'jose';
import Provider, { errors, type KoaContextWithOIDC, type ResourceServerInfo, type StructuredJwt } from 'oidc-provider';
import { TOKEN_EXCHANGE_GRANT, certificateFromEnvironment, ensureDevCertificate } from 'nestjs-obo/testing';
import { paramValue, registerTokenExchangeGrant } from './oidc-provider-token-exchange.js';

/** A protected resource (RFC 8707 resource indicator) oidc-provider issues JWT access tokens for. */
export interface OidcProviderApi {
  /** The resource indicator, also the tokens' `aud`. */
  readonly audience: string;
  /** Its one scope. */
  readonly scope: string;
}

/** The Original API (the middle tier: users call it, it exchanges their tokens). */
export const ORIGINAL_API: OidcProviderApi = { audience: 'https://original.example.test', scope: 'access_as_user' };
/** The Downstream API the Original API calls on behalf of the user, or as itself. */
export const DOWNSTREAM_API: OidcProviderApi = { audience: 'https://downstream.example.test', scope: 'Downstream.Read' };

/** How a confidential client authenticates at oidc-provider's token endpoint (one method per client). */
export type OidcProviderClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';

/** A registered confidential client of the Original API. */
export interface OidcProviderClient {
  readonly clientId: string;
  readonly authMethod: OidcProviderClientAuthMethod;
  /** For `client_secret_basic` / `client_secret_post`. Random per start. */
  readonly clientSecret?: string;
  /** For `private_key_jwt`: PKCS#8 PEM (RS256) and the `kid` of the public key registered in the client's `jwks`. */
  readonly privateKey?: { readonly privateKey: string; readonly keyId: string };
}

/** One request that reached oidc-provider's token endpoint, as it answered it. */
export interface OidcProviderTokenRequest {
  readonly grantType: string | undefined;
  /** The authenticated client, when authentication got that far. */
  readonly clientId: string | undefined;
  readonly status: number;
  /** The OAuth `error` of a refusal. */
  readonly error?: string;
  /** For `server_error` only: oidc-provider's (or our grant's) exception message. Never holds a token. */
  readonly serverError?: string;
}

/** What {@link OidcProviderAuthority.mintUserToken} issues. Defaults make a valid token for the Original API. */
export interface OidcProviderMintOptions {
  /** `sub` (oidc-provider's accountId). Default: a random UUID. */
  readonly subject?: string;
  /** Resource indicator of one of {@link ORIGINAL_API} / {@link DOWNSTREAM_API}. Default: the Original API. */
  readonly resource?: string;
  /** Space-separated scopes, each of that resource's. Default: all of that resource's. */
  readonly scope?: string;
  /** `client_id` claim: the client the token was issued to. Default: the SPA client. */
  readonly clientId?: string;
  /** `iat`, epoch seconds. Default: now. */
  readonly issuedAt?: number;
  /** `exp`, epoch seconds (a past value makes an expired token). Default: `iat` + the access-token lifetime. */
  readonly expiresAt?: number;
  /**
   * Deliberate variants: claims set over what oidc-provider put in the payload (`undefined` removes
   * one), e.g. `{ aud: 'https://other.example.test' }`. Still signed by oidc-provider with its key.
   */
  readonly claims?: Readonly<Record<string, unknown>>;
  /** Deliberate variants: protected-header members over oidc-provider's, e.g. `{ typ: 'JWT' }`. Still signed by it. */
  readonly header?: Readonly<Record<string, unknown>>;
}

/** Options of {@link OidcProviderAuthority.start}. */
export interface OidcProviderAuthorityOptions {
  /** Lifetime of every access token it issues, in seconds (`accessTokenTTL`). Default 3600. */
  readonly accessTokenLifetimeSeconds?: number;
}

const APIS = new Map([ORIGINAL_API, DOWNSTREAM_API].map((api) => [api.audience, api]));

/** What `getResourceServerInfo` answers for a resource indicator: JWT access tokens signed RS256 with the provider's key. */
function resourceServerInfo(indicator: string, lifetime: number): ResourceServerInfo {
  const api = APIS.get(indicator);
  if (!api) throw new errors.InvalidTarget(`unknown resource or audience "${indicator}"`);
  return { audience: api.audience, scope: api.scope, accessTokenFormat: 'jwt', accessTokenTTL: lifetime, jwt: { sign: { alg: 'RS256' } } };
}

/** Client metadata of one of the Original API's confidential clients: both grants, no redirects. */
function originalApiMetadata(client: OidcProviderClient): Record<string, unknown> {
  return {
    client_id: client.clientId,
    token_endpoint_auth_method: client.authMethod,
    ...(client.clientSecret ? { client_secret: client.clientSecret } : {}),
    grant_types: [TOKEN_EXCHANGE_GRANT, 'client_credentials'],
    response_types: [],
    redirect_uris: [],
  };
}

/** RS256 key pair as JWKs (private for oidc-provider's `jwks`, public for a client's `jwks` or for verifying). */
function rsaKey(kid: string): { kid: string; privateJwk: JWK; publicJwk: JWK; privatePem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const meta = { kid, alg: 'RS256', use: 'sig' };
  return {
    kid,
    privateJwk: { ...privateKey.export({ format: 'jwk' }), ...meta },
    publicJwk: { ...publicKey.export({ format: 'jwk' }), ...meta },
    privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
  };
}

/** Per-token claims and header members, applied by `extraTokenClaims` and `formats.customizers.jwt`. */
interface TokenAdditions {
  /** Our grant's `act`: returned by `extraTokenClaims` (oidc-provider's place for extra claims). */
  readonly extraClaims: WeakMap<object, Record<string, unknown>>;
  /** The mint helper's deliberate variants: applied by the JWT customizer, over oidc-provider's own claims. */
  readonly variants: WeakMap<object, Pick<OidcProviderMintOptions, 'claims' | 'header'>>;
}

/** oidc-provider's configuration: keys, clients, resource servers, grants, lifetimes, claim hooks. */
function configuration(signingKey: JWK, clients: readonly Record<string, unknown>[], lifetime: number, additions: TokenAdditions) {
  return {
    jwks: { keys: [signingKey] },
    clients,
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // Client credentials without `resource` get the Downstream API (like a tenant's default audience).
        defaultResource: async (ctx: KoaContextWithOIDC, _client: unknown, oneOf?: string[]) =>
          oneOf ?? (paramValue(ctx.oidc.params ?? {}, 'grant_type') === 'client_credentials' ? DOWNSTREAM_API.audience : undefined),
        getResourceServerInfo: async (_ctx: KoaContextWithOIDC, indicator: string) => resourceServerInfo(indicator, lifetime),
      },
    },
    ttl: { AccessToken: lifetime, ClientCredentials: lifetime },
    extraTokenClaims: async (_ctx: KoaContextWithOIDC, token: object) => additions.extraClaims.get(token),
    formats: {
      customizers: {
        jwt: async (_ctx: KoaContextWithOIDC, token: object, jwt: StructuredJwt) => {
          const variant = additions.variants.get(token);
          if (variant?.header) jwt.header = { ...jwt.header, ...variant.header };
          for (const [name, value] of Object.entries(variant?.claims ?? {})) {
            if (value === undefined) delete jwt.payload[name];
            else jwt.payload[name] = value;
          }
        },
      },
    },
  };
}

/** Records each token-endpoint answer (a post-middleware: it runs after oidc-provider's error handling). */
function recordTokenRequests(provider: Provider): OidcProviderTokenRequest[] {
  const requests: OidcProviderTokenRequest[] = [];
  const serverErrors = new WeakMap<object, Error>();
  provider.on('server_error', (ctx, error) => serverErrors.set(ctx, error));
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.oidc?.route !== 'token') return;
    const body = ctx.body as { error?: unknown } | undefined;
    const error = typeof body?.error === 'string' ? body.error : undefined;
    const serverError = serverErrors.get(ctx)?.message;
    requests.push({
      grantType: paramValue(ctx.oidc.params ?? {}, 'grant_type'),
      clientId: ctx.oidc.client?.clientId,
      status: ctx.status,
      ...(error ? { error } : {}),
      ...(serverError ? { serverError } : {}),
    });
  });
  return requests;
}

/**
 * oidc-provider v9 on `https://127.0.0.1:<random port>` (issuer without a trailing slash), with:
 * - its own RS256 signing key (generated at start, never written), published at its `jwks_uri`;
 * - resource servers {@link ORIGINAL_API} and {@link DOWNSTREAM_API}, JWT access-token format (RFC 9068);
 * - the Original API as three confidential clients, one per token-endpoint auth method
 *   ({@link originalApiClients}), allowed the token-exchange and client-credentials grants;
 * - a public SPA client ({@link spaClientId}) user tokens are minted for;
 * - RFC 8693 token exchange (access-token subject tokens of this provider for the Original API,
 *   `audience` or `resource` of the Downstream API, `act: { sub: <client> }` in the issued token) and
 *   client credentials (`resource` or, without one, the Downstream API).
 * The TLS certificate is the test kit's (`LOCAL_AUTHORITY_TLS_DIR`, trusted by `scripts/test.mjs`).
 */
export class OidcProviderAuthority {
  readonly #server: Server;
  readonly #provider: Provider;
  readonly #lifetime: number;
  readonly #requests: OidcProviderTokenRequest[];
  readonly #variants: TokenAdditions['variants'];

  private constructor(
    /** Issuer identifier: `https://127.0.0.1:<port>`, no trailing slash (oidc-provider's form). */
    readonly issuer: string,
    /** The Original API's clients by token-endpoint authentication method. */
    readonly originalApiClients: Readonly<Record<OidcProviderClientAuthMethod, OidcProviderClient>>,
    /** The public client user tokens are issued to (their `client_id`). */
    readonly spaClientId: string,
    /** The provider's public signing keys (what its `jwks_uri` publishes). */
    readonly publicKeys: { readonly keys: JWK[] },
    internals: { server: Server; provider: Provider; lifetime: number; requests: OidcProviderTokenRequest[]; variants: TokenAdditions['variants'] },
  ) {
    this.#server = internals.server;
    this.#provider = internals.provider;
    this.#lifetime = internals.lifetime;
    this.#requests = internals.requests;
    this.#variants = internals.variants;
  }

  /** Starts the provider on a free loopback port; `close()` it after the tests. */
  static async start(options: OidcProviderAuthorityOptions = {}): Promise<OidcProviderAuthority> {
    const lifetime = options.accessTokenLifetimeSeconds ?? 3600;
    const tls = certificateFromEnvironment() ?? ensureDevCertificate();
    let handler: RequestListener | undefined;
    const server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => (handler ? handler(req, res) : res.writeHead(503).end()));
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
    try {
      const issuer = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const signing = rsaKey(`op-${randomUUID()}`);
      const clientKey = rsaKey(`original-api-${randomUUID()}`);
      const publicKeys = { keys: [signing.publicJwk] };
      const clients: Record<OidcProviderClientAuthMethod, OidcProviderClient> = {
        client_secret_basic: { clientId: 'original-api', authMethod: 'client_secret_basic', clientSecret: randomBytes(32).toString('base64url') },
        client_secret_post: { clientId: 'original-api-post', authMethod: 'client_secret_post', clientSecret: randomBytes(32).toString('base64url') },
        private_key_jwt: { clientId: 'original-api-jwt', authMethod: 'private_key_jwt', privateKey: { privateKey: clientKey.privatePem, keyId: clientKey.kid } },
      };
      const spaClientId = 'spa';
      const additions: TokenAdditions = { extraClaims: new WeakMap(), variants: new WeakMap() };
      const staticClients = [
        originalApiMetadata(clients.client_secret_basic),
        originalApiMetadata(clients.client_secret_post),
        { client_id: spaClientId, token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], response_types: ['code'], redirect_uris: ['https://127.0.0.1/callback'] },
      ];
      const provider = new Provider(issuer, configuration(signing.privateJwk, staticClients, lifetime, additions));

      registerTokenExchangeGrant(provider, {
        keys: createLocalJWKSet(publicKeys),
        subjectAudience: ORIGINAL_API.audience,
        resourceServerInfo: (indicator) => resourceServerInfo(indicator, lifetime),
        extraClaims: additions.extraClaims,
      });
      // The private_key_jwt client is stored through the provider's adapter, not in `clients`: oidc-provider
      // copies static clients with `structuredClone`, which under jest is the outer realm's, so its `jwks`
      // keys fail oidc-provider's plain-object check (`x.constructor === Object`) and the client is refused
      // with invalid_client_metadata. A client found through the adapter is validated the same way.
      await provider.Client.adapter.upsert(clients.private_key_jwt.clientId, {
        ...originalApiMetadata(clients.private_key_jwt),
        jwks: { keys: [clientKey.publicJwk] },
        token_endpoint_auth_signing_alg: 'RS256',
      });
      const requests = recordTokenRequests(provider);

      handler = provider.callback();
      return new OidcProviderAuthority(issuer, clients, spaClientId, publicKeys, { server, provider, lifetime, requests, variants: additions.variants });
    } catch (error) {
      server.close();
      throw error;
    }
  }

  /** `{issuer}/.well-known/openid-configuration` (oidc-provider also serves RFC 8414's `/.well-known/oauth-authorization-server`). */
  get discoveryUrl(): string {
    return `${this.issuer}/.well-known/openid-configuration`;
  }

  /** Every request its token endpoint answered, oldest first. */
  get tokenRequests(): readonly OidcProviderTokenRequest[] {
    return this.#requests;
  }

  /**
   * A user's access token, issued by oidc-provider itself: `new provider.AccessToken({ accountId,
   * client, scope, resourceServer })` then `save()`, which for a JWT-format resource server signs an
   * RFC 9068 JWT with the provider's key (header `alg: RS256, typ: at+jwt, kid`; claims `jti sub iat
   * exp scope client_id iss aud`). No browser, no login: it stands for a finished authorization-code flow.
   * @throws when the resource or the client is unknown, or a scope is not the resource's.
   */
  async mintUserToken(options: OidcProviderMintOptions = {}): Promise<string> {
    const resource = options.resource ?? ORIGINAL_API.audience;
    const resourceServer = new this.#provider.ResourceServer(resource, resourceServerInfo(resource, this.#lifetime));
    const scope = options.scope ?? resourceServer.scope;
    if (scope.split(' ').some((item) => !resourceServer.scopes.has(item))) throw new Error(`mintUserToken: "${scope}" is not a scope of ${resource}`);
    const client = await this.#provider.Client.find(options.clientId ?? this.spaClientId);
    if (!client) throw new Error(`mintUserToken: unknown client "${options.clientId}"`);
    const iat = options.issuedAt ?? Math.floor(Date.now() / 1000);
    const token = new this.#provider.AccessToken({
      accountId: options.subject ?? randomUUID(),
      client,
      scope,
      resourceServer,
      iat,
      exp: options.expiresAt ?? iat + this.#lifetime,
    });
    if (options.claims || options.header) this.#variants.set(token, { claims: options.claims, header: options.header });
    return token.save();
  }

  /** Stops the server (open keep-alive connections too). */
  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
