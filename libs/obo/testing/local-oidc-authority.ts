import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from 'node:https';
import { generateAuthorityKey, type AuthorityKey } from './authority-keys.js';
import { ClientAssertionReplay } from './client-assertion-replay.js';
import { startLoopbackHttps, stopServer, type LoopbackHttpsOptions } from './loopback-https-server.js';
import { replyWithFault, sendJson, type EndpointFault } from './metadata-endpoints.js';
import { OIDC_CLIENT_AUTH_METHODS, type OidcClientAuthMethod } from './oidc-client-authentication.js';
import type { OidcDialect } from './oidc-dialects.js';
import type { RequestedTokenTypePolicy } from './oidc-grants.js';
import { oidcEndpoints, type OidcEndpoints, type OidcIssuerShape, type OidcMetadataForm } from './oidc-issuer-shape.js';
import { oidcMetadata } from './oidc-metadata.js';
import type { OidcMintOptions } from './oidc-mint-options.js';
import { mintOidcToken } from './oidc-mint-token.js';
import { OidcRegistry, type OidcApiRegistration, type OidcClientRegistration } from './oidc-registrations.js';
import type { SubjectTokenErrorCode } from './oidc-subject-token.js';
import { OidcTokenEndpoint } from './oidc-token-endpoint.js';
import { OidcTokenFaultList, type OidcTokenFault, type OidcTokenFaultHandle, type OidcTokenFaultMatch } from './oidc-token-faults.js';
import { PublishedKeys } from './published-keys.js';
import { signCompact } from './sign-jwt.js';
import { TokenRequestLog, type TokenRequestCounters, type TokenRequestRecord } from './token-request-log.js';

/** Options of {@link LocalOidcAuthority.start}. */
export interface LocalOidcAuthorityOptions extends LoopbackHttpsOptions {
  /** Dialect of minted and issued access tokens (see {@link OidcDialect}). Default `rfc9068`. */
  dialect?: OidcDialect;
  /** Issuer and endpoint layout (see {@link OidcIssuerShape}). Default: `auth0` for the Auth0 dialects, `okta`, `keycloak`, else `generic`. */
  issuerShape?: OidcIssuerShape;
  /** Okta authorization server id (`okta` shape). Default `default`. */
  authServerId?: string;
  /** Keycloak realm (`keycloak` shape). Default `test`. */
  realm?: string;
  /** Issuer path of the `generic` shape, without slashes at either end. Default `as`. */
  issuerPath?: string;
  /**
   * Which discovery documents are served: `both` (default) or `rfc8414-only`, where only
   * `/.well-known/oauth-authorization-server<issuer path>` answers and the OpenID configuration is 404.
   */
  metadata?: OidcMetadataForm;
  /** Audience of the default API (registered with scope `access_as_user`) and of minted tokens. Default `https://api.example.test/`. */
  audience?: string;
  /** Client id minted tokens are issued to by default (the front end). Default: a random UUID. */
  clientId?: string;
  /** Client authentication methods the token endpoint accepts and advertises. Default: all three. */
  clientAuthMethods?: readonly OidcClientAuthMethod[];
  /** What the token exchange does with `requested_token_type`. Default `optional`. */
  requestedTokenType?: RequestedTokenTypePolicy;
  /** `error` of a refused subject token: `invalid_request` (RFC 8693 §2.2.2, default) or `invalid_grant`. */
  subjectTokenError?: SubjectTokenErrorCode;
  /** Subject tokens with this many nested `act` levels are refused (400 `invalid_request`). Default 5, as Auth0. */
  maxActDepth?: number;
}

/** Requests served, per endpoint. */
export interface OidcRequestCounters {
  /** `<issuer>/.well-known/openid-configuration` (also when answered 404). */
  openidConfiguration: number;
  /** RFC 8414 `/.well-known/oauth-authorization-server<issuer path>`. */
  authorizationServerMetadata: number;
  /** `jwks_uri`. */
  jwks: number;
  /** `token_endpoint`. */
  token: number;
  /** Anything else (404). */
  other: number;
}

const DEFAULT_SHAPE: Readonly<Record<OidcDialect, OidcIssuerShape>> = {
  rfc9068: 'generic',
  auth0: 'auth0',
  'auth0-rfc9068': 'auth0',
  okta: 'okta',
  keycloak: 'keycloak',
};

/**
 * A generic OAuth 2.0 / OpenID Connect authority over https on loopback, shaped like Auth0, Okta,
 * Keycloak or a plain RFC 9068 server: discovery (OpenID and/or RFC 8414), a JWKS with key rotation,
 * access tokens minted in each dialect with any claim or header overridden, and a token endpoint for
 * RFC 8693 token exchange and client credentials (client secrets and `private_key_jwt`), with
 * injectable faults, request counters and a request log. For tests, samples and demos; it refuses
 * non-loopback addresses.
 */
export class LocalOidcAuthority {
  /** Requests served so far, per endpoint. */
  readonly requests: OidcRequestCounters = { openidConfiguration: 0, authorizationServerMetadata: 0, jwks: 0, token: 0, other: 0 };
  /** Fault injected into JWKS responses. */
  jwksFault: EndpointFault = 'none';
  /** Fault injected into discovery responses (both forms). */
  discoveryFault: EndpointFault = 'none';
  /** `expires_in` (and lifetime) of tokens the token endpoint issues, in seconds. Default 3600. */
  tokenLifetimeSeconds = 3600;
  /** The key new tokens are signed with. */
  activeKey: AuthorityKey;
  /** The default API (audience {@link audience}, scope `access_as_user`). */
  readonly defaultApi: OidcApiRegistration;
  private readonly published = new PublishedKeys();
  private readonly registry = new OidcRegistry();
  private readonly tokenFaults = new OidcTokenFaultList();
  private readonly tokenLog = new TokenRequestLog();
  private readonly tokens: OidcTokenEndpoint;

  private constructor(
    private readonly server: Server,
    /** The issuer, exactly as metadata and tokens carry it (`https://127.0.0.1:<port>/` for Auth0, no trailing slash otherwise). */
    readonly issuer: string,
    /** Every URL of the authority. */
    readonly endpoints: OidcEndpoints,
    /** Dialect of minted and issued tokens. */
    readonly dialect: OidcDialect,
    /** Audience of the default API and of minted tokens. */
    readonly audience: string,
    /** Client id minted tokens are issued to by default. */
    readonly clientId: string,
    /** PEM of the TLS certificate (trust it with `NODE_EXTRA_CA_CERTS`). */
    readonly certificate: string,
    key: AuthorityKey,
    private readonly settings: Required<Pick<LocalOidcAuthorityOptions, 'metadata' | 'clientAuthMethods' | 'requestedTokenType' | 'subjectTokenError' | 'maxActDepth'>>,
  ) {
    this.activeKey = key;
    this.published.publish(key);
    this.defaultApi = this.registry.registerApi({ audience, scopes: ['access_as_user'] });
    const host = this;
    this.tokens = new OidcTokenEndpoint({
      issuer,
      registry: this.registry,
      requestedTokenType: settings.requestedTokenType,
      subjectTokenError: settings.subjectTokenError,
      maxActDepth: settings.maxActDepth,
      clientAuth: { registry: this.registry, tokenEndpoint: endpoints.tokenEndpoint, issuer, methods: settings.clientAuthMethods, replay: new ClientAssertionReplay() },
      faults: this.tokenFaults,
      log: this.tokenLog,
      lifetimeSeconds: () => host.tokenLifetimeSeconds,
      publishedKey: (kid) => host.published.get(kid),
      mintUserToken: (options) => host.mintUserToken(options),
      mintAppToken: (options) => host.mintAppToken(options),
      resign: (header, claims) => signCompact(JSON.stringify(header), JSON.stringify(claims), host.activeKey.alg, host.activeKey.privateKey),
    });
  }

  /**
   * Starts the authority on a free loopback port with one RS256 signing key and the default API.
   * @throws Error when `host` is not a loopback address or an issuer name is not plain path text.
   */
  static async start(options: LocalOidcAuthorityOptions = {}): Promise<LocalOidcAuthority> {
    const dialect = options.dialect ?? 'rfc9068';
    const key = await generateAuthorityKey();
    let authority: LocalOidcAuthority | undefined;
    const { server, origin, certificate } = await startLoopbackHttps(options, (req, res) => authority!.handle(req, res));
    const shape = options.issuerShape ?? DEFAULT_SHAPE[dialect];
    let endpoints: OidcEndpoints;
    try {
      endpoints = oidcEndpoints(origin, shape, { authServerId: options.authServerId, realm: options.realm, path: options.issuerPath });
    } catch (error) {
      await stopServer(server);
      throw error;
    }
    authority = new LocalOidcAuthority(server, endpoints.issuer, endpoints, dialect, options.audience ?? 'https://api.example.test/', options.clientId ?? randomUUID(), certificate, key, {
      metadata: options.metadata ?? 'both',
      clientAuthMethods: options.clientAuthMethods ?? OIDC_CLIENT_AUTH_METHODS,
      requestedTokenType: options.requestedTokenType ?? 'optional',
      subjectTokenError: options.subjectTokenError ?? 'invalid_request',
      maxActDepth: options.maxActDepth ?? 5,
    });
    return authority;
  }

  /** `host:port` of the authority. */
  get authorityHost(): string {
    return new URL(this.issuer).host;
  }

  /** The discovered `token_endpoint` (also an accepted `aud` of client assertions, with the issuer). */
  get tokenEndpoint(): string {
    return this.endpoints.tokenEndpoint;
  }

  /** The `jwks_uri`. */
  get jwksUri(): string {
    return this.endpoints.jwksUri;
  }

  /** Registers (or replaces, by audience) an API: its audience, optional resource indicator and scopes. */
  registerApi(api: OidcApiRegistration): OidcApiRegistration {
    return this.registry.registerApi(api);
  }

  /** Registers (or replaces, by client id) a client of the token endpoint: secret and/or public key, the APIs it is, its grants and scopes. */
  registerClient(client: OidcClientRegistration): OidcClientRegistration {
    return this.registry.registerClient(client);
  }

  /** Limits the scopes user `subject` holds on the API `audience` (by default a user holds every scope of every API). */
  grantUserScopes(subject: string, audience: string, scopes: readonly string[]): void {
    this.registry.grantUserScopes(subject, audience, scopes);
  }

  /** Mints a user (delegated) access token in the authority's dialect (or `options.dialect`); default scope `access_as_user`. */
  mintUserToken(options: OidcMintOptions = {}): string {
    return mintOidcToken('user', options, this.mintDefaults());
  }

  /** Mints an app-only (client credentials) access token in the authority's dialect (or `options.dialect`). */
  mintAppToken(options: OidcMintOptions = {}): string {
    return mintOidcToken('app', options, this.mintDefaults());
  }

  /** Publishes a new key and signs new tokens with it; earlier keys stay published. */
  async rotateKey(alg = 'RS256'): Promise<AuthorityKey> {
    this.activeKey = await generateAuthorityKey(alg);
    this.published.publish(this.activeKey);
    return this.activeKey;
  }

  /** Adds `key` to the JWKS without signing with it. */
  publishKey(key: AuthorityKey): void {
    this.published.publish(key);
  }

  /** Removes a key from the JWKS (tokens it signed stop validating once caches refresh). */
  unpublishKey(kid: string): void {
    this.published.unpublish(kid);
  }

  /** A key this authority does not publish, for forged-token tests. */
  foreignKey(alg = 'RS256', kid?: string): Promise<AuthorityKey> {
    return generateAuthorityKey(alg, kid);
  }

  /** Makes matching token requests misbehave (first matching fault wins; every request when `match` is left out) until removed. */
  injectTokenFault(fault: OidcTokenFault, match: OidcTokenFaultMatch = {}): OidcTokenFaultHandle {
    return this.tokenFaults.inject(fault, match);
  }

  /** Removes every injected token fault. */
  clearTokenFaults(): void {
    this.tokenFaults.clear();
  }

  /** Token requests per grant (`tokenExchange`, `clientCredentials`) and per subject-token `sub` (`byUser`), since start or {@link resetCounters}. */
  get tokenRequests(): TokenRequestCounters {
    return this.tokenLog.counters;
  }

  /** Form fields of the most recent token request (`client_secret` shown as `present`). */
  get lastTokenRequest(): TokenRequestRecord | undefined {
    return this.tokenLog.last;
  }

  /** Form fields of the last 100 token requests, oldest first (`client_secret` shown as `present`). */
  get tokenRequestLog(): readonly TokenRequestRecord[] {
    return this.tokenLog.entries;
  }

  /** Zeroes {@link requests} and {@link tokenRequests}, and empties {@link tokenRequestLog}. */
  resetCounters(): void {
    Object.assign(this.requests, { openidConfiguration: 0, authorizationServerMetadata: 0, jwks: 0, token: 0, other: 0 });
    this.tokenLog.reset();
  }

  /** Stops the server and drops open (including hung) connections. */
  async close(): Promise<void> {
    this.tokens.close();
    await stopServer(this.server);
  }

  private mintDefaults() {
    return { issuer: this.issuer, dialect: this.dialect, audience: this.audience, clientId: this.clientId, key: this.activeKey };
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', this.issuer).pathname;
    const { openidConfiguration, authorizationServerMetadata, jwksUri, tokenEndpoint } = this.endpoints;
    if (req.method === 'GET' && path === new URL(openidConfiguration).pathname) {
      this.requests.openidConfiguration++;
      if (this.settings.metadata === 'rfc8414-only') return sendJson(res, 404, { error: 'not_found' });
      return replyWithFault(res, this.discoveryFault, this.published.publicJwks(), () => this.metadata());
    }
    if (req.method === 'GET' && path === new URL(authorizationServerMetadata).pathname) {
      this.requests.authorizationServerMetadata++;
      return replyWithFault(res, this.discoveryFault, this.published.publicJwks(), () => this.metadata());
    }
    if (req.method === 'GET' && path === new URL(jwksUri).pathname) {
      this.requests.jwks++;
      return replyWithFault(res, this.jwksFault, this.published.publicJwks(), () => this.published.jwks(undefined));
    }
    if (path === new URL(tokenEndpoint).pathname) {
      this.requests.token++;
      this.tokens.handle(req, res).catch(() => res.destroy());
      return;
    }
    this.requests.other++;
    sendJson(res, 404, { error: 'not_found' });
  }

  private metadata(): Record<string, unknown> {
    return oidcMetadata(this.endpoints, this.settings.clientAuthMethods, this.registry.allScopes());
  }
}
