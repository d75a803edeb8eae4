import type { Cluster, Redis } from 'ioredis';
import type { AzureCloudInstance } from '../authority/entra-clouds.js';
import type { Dispatcher } from 'undici';

/**
 * The access-token dialect of an authority other than Entra ID (`issuer` set): which header `typ`
 * is accepted, which claims are required, and where scopes, app permissions, the client and the
 * user are. Each can be overridden with {@link ClaimMappingOptions}.
 * - `rfc9068`: RFC 9068 JWT access tokens: `typ` `at+jwt` (or `application/at+jwt`); `iss`, `exp`,
 *   `aud`, `sub`, `client_id`, `iat`, `jti` required; scopes in `scope` (space-separated); app
 *   permissions in `roles`; app-only when `sub` equals `client_id` (RFC 9068 §2.2).
 * - `auth0`: Auth0's default dialect (`typ` `JWT`, client in `azp`, `permissions` array when RBAC
 *   is on, machine tokens `gty: client-credentials` with `sub` `<client id>@clients`), and its
 *   RFC 9068 dialect (`typ` `at+jwt`, client in `client_id`), told apart by `typ`.
 * - `okta`: Okta custom authorization servers: scopes in `scp` (an array), client in `cid`, the
 *   user's id in `uid` (`sub` is the login); app-only when there is no `uid` and `sub` is `cid`.
 * - `keycloak`: `scope` string, roles in `realm_access.roles` and `resource_access.<clientId>.roles`,
 *   client in `azp`; app-only for service-account tokens (`client_id` claim, or a
 *   `preferred_username` of `service-account-<client>`).
 */
export type TokenProfileName = 'rfc9068' | 'auth0' | 'okta' | 'keycloak';

/**
 * Where a generic profile finds what authorization needs, claim names or dot paths
 * (`realm_access.roles`). Each default comes from {@link OboModuleOptions.tokenProfile}.
 */
export interface ClaimMappingOptions {
  /** Claim of the delegated scopes: a space-separated string or an array of strings. */
  scopes?: string;
  /** Claims of the app permissions (roles), each an array of strings; their union is used. */
  appPermissions?: string | readonly string[];
  /** Claim naming the calling client application. */
  clientId?: string;
  /** Claim of the user's stable id ({@link Principal.objectId}). Default per profile (`sub`; Okta `uid`). */
  userId?: string;
  /** Decides whether a validated token is app-only (client credentials, no user). Default per profile. */
  isAppOnly?: (claims: Readonly<Record<string, unknown>>) => boolean;
}

/** Delegation chains (`act`, RFC 8693 §4.1) in incoming tokens. */
export interface DelegationOptions {
  /**
   * Most nested actors an incoming token may carry; a longer chain is refused with 401
   * `invalid_token`. Default 4: Auth0 refuses to exchange a token that already has five, so every
   * accepted token can still be exchanged once more.
   */
  maxActors?: number;
  /**
   * When set, a token with an `act` claim passes only if its outermost actor's `sub` (or
   * `client_id`) is listed; others get 403. Nested actors are informational (RFC 8693 §4.1) and never
   * decide. Tokens without `act` are not affected. Default: any actor.
   */
  allowedActors?: readonly string[];
}

/** The key this API signs `private_key_jwt` client assertions with (RFC 7523 §2.2), at a generic authority. */
export interface ClientPrivateKeyCredential {
  /** PEM private key (`-----BEGIN PRIVATE KEY-----`). Never logged. */
  privateKey: string;
  /** `kid` of the matching public key registered at the authority. Default: none sent. */
  keyId?: string;
  /** JWS algorithm. Default `RS256`. */
  algorithm?: 'RS256' | 'PS256' | 'ES256';
}

/** The RFC 8693 token-exchange request a generic authority receives for On-Behalf-Of. */
export interface TokenExchangeOptions {
  /** `subject_token_type`. Default `urn:ietf:params:oauth:token-type:access_token`; Auth0 Custom Token Exchange needs your own URI. */
  subjectTokenType?: string;
  /**
   * `requested_token_type`, or `null` to omit it. Default: the access-token type
   * (`urn:ietf:params:oauth:token-type:access_token`), except with the `okta` profile, which omits it.
   */
  requestedTokenType?: string | null;
}

/** Token versions Entra ID issues; `ver` in the token is bound to the issuer form of that version. */
export type AccessTokenVersion = '1.0' | '2.0';

/** Signing-key (JWKS) cache settings. */
export interface JwksOptions {
  /** How long a fetched key set is trusted before it is refreshed, in seconds. Default 600 (10 min). */
  cacheMaxAgeSeconds?: number;
  /** Minimum time between two refetches triggered by an unknown `kid`, in seconds. Default 30. */
  cooldownSeconds?: number;
  /** After a failed fetch, how long to answer 503 before trying again, in seconds. Default 5. */
  failureBackoffSeconds?: number;
  /** Deadline of one discovery or JWKS request, in milliseconds. Default 5000. */
  timeoutMs?: number;
  /** Largest discovery or JWKS response accepted, in bytes. Default 524288 (512 KiB). */
  maxResponseBytes?: number;
  /**
   * Fetch the app-specific key set, `<jwks_uri>?appid=<clientId>`, instead of the tenant's: needed
   * when this API's app registration has SAML SSO or a claims-mapping policy (Entra then signs its
   * tokens with keys published only there). Such an app cannot call On-Behalf-Of: a downstream API
   * with tokenKind `user` is then a startup error. Default false.
   */
  appSpecificKeys?: boolean;
}

/** A certificate credential: the PEM private key and the certificate's SHA-256 thumbprint (hex). */
export interface ClientCertificateCredential {
  /** PEM private key (`-----BEGIN PRIVATE KEY-----`). Never logged. */
  privateKey: string;
  /** Hex SHA-256 thumbprint of the certificate. */
  thumbprintSha256: string;
  /** Optional PEM certificate chain, sent as `x5c` (subject name / issuer authentication). */
  x5c?: string;
}

/** A client assertion read from a file that a platform keeps fresh (Kubernetes projected service-account token). */
export interface FederatedTokenFileAssertion {
  /** Absolute path of the file, e.g. `process.env.AZURE_FEDERATED_TOKEN_FILE`. */
  federatedTokenFile: string;
}

/** Token acquisition settings: deadlines and the in-memory token cache. */
export interface TokenAcquisitionOptions {
  /** Overall deadline of one token acquisition, retries included, in milliseconds. Default 10000. */
  timeoutMs?: number;
  /** Most tokens kept in the in-memory cache (least recently used go first). Default 10000. */
  cacheMaxEntries?: number;
  /** A cached token is never handed out within this many seconds of its expiry. Default 300. */
  refreshMarginSeconds?: number;
  /** Within this many seconds before the margin, a hit also renews the token in the background. Default 300. */
  refreshAheadSeconds?: number;
  /** Client capabilities sent to Entra ID, e.g. `['CP1']` for CAE. Only declare CP1 if every downstream claims challenge reaches the client (DownstreamApi does). */
  clientCapabilities?: readonly string[];
}

/** A downstream API called through {@link DownstreamApi}. */
export interface DownstreamApiOptions {
  /** Base URL; request paths are appended to it. */
  baseUrl: string;
  /**
   * Scopes requested for it, checked at startup against Entra's rules: one resource per API
   * (`User.Read` without a prefix is Microsoft Graph), `<resource>/.default` alone, and for app
   * tokens exactly one `<resource>/.default`. E.g. `['api://<id>/Downstream.Read']`.
   */
  scopes?: readonly string[];
  /** `user` (default): On-Behalf-Of the current user; `app`: the API's own app-only token. */
  tokenKind?: 'user' | 'app';
  /**
   * App-only APIs: the tenant (GUID) whose token endpoint issues the app token. Default: the
   * configured `tenantId`; required when that is `organizations` or `common`. Not for user APIs
   * (On-Behalf-Of always asks the signed-in user's tenant).
   */
  tenantId?: string;
  /** Deadline of one downstream request, in milliseconds. Default 10000. */
  timeoutMs?: number;
  /**
   * Generic authorities (`issuer` set): the RFC 8693 / client-credentials `audience` of the tokens
   * for this API (Auth0's API identifier, Okta's authorization-server audience, Keycloak's client
   * id). Give `audience`, `resource` or both. Not for Entra ID (the scopes name the resource).
   */
  audience?: string;
  /** Generic authorities: the RFC 8707 `resource` (an absolute URI) of the tokens for this API. */
  resource?: string;
}

/** The shared second-level token cache on Redis (off unless configured). */
/**
 * RFC 9728 protected-resource metadata: what clients (MCP clients among them) read to find the
 * authority and the scopes, and the `resource_metadata` parameter of every challenge.
 */
export interface ProtectedResourceOptions {
  /**
   * The resource identifier (RFC 9728 §1.2): the URL clients call this API at, `https` (plain
   * `http` only on a loopback host), no query, fragment or credentials. The metadata is served at
   * `/.well-known/oauth-protected-resource` with the identifier's path appended (§3.1):
   * `https://api.contoso.com/v1` is described at `https://api.contoso.com/.well-known/oauth-protected-resource/v1`.
   */
  resource: string;
  /**
   * What turns a route's scope (the value in the token's scope claim) into the scope a client asks
   * the authority for, in `scopes_supported` and in the `scope` of challenges. Entra ID default: the
   * first `audience` that is not the bare client id, plus `/` (`api://<client id>/`); elsewhere none.
   */
  scopePrefix?: string;
  /** `resource_name`: a human-readable name. Default: none. */
  resourceName?: string;
  /** `resource_documentation`: an `https` URL of the API's documentation for developers. Default: none. */
  resourceDocumentation?: string;
  /** `jwks_uri`: this resource's own public keys, when it signs responses. Default: none. */
  jwksUri?: string;
  /** `resource_signing_alg_values_supported`: the JWS algorithms this resource signs responses with (RFC 9728 §2; not the tokens' algorithms). Default: none. */
  resourceSigningAlgValuesSupported?: readonly string[];
}

export interface DistributedCacheOptions {
  /** A Redis URL (`redis://`, `rediss://`), or an ioredis `Redis` / `Cluster` client you own (it is not closed for you). */
  redis: string | Redis | Cluster;
  /** AES-256-GCM keys, each the base64 of 32 random bytes. The first encrypts; all decrypt (rotation without a flush). Never logged. */
  encryptionKeys: readonly string[];
  /** Prefix of every Redis key: up to 64 printable ASCII characters, no `{` or `}` (a Redis Cluster hash tag would put every key on one master). Default `nestjs-obo:`. */
  keyPrefix?: string;
  /** Deadline of one Redis command, in milliseconds. Default 200. */
  operationTimeoutMs?: number;
  /** Consecutive Redis failures that open the circuit (serve from memory and the provider). Default 3. */
  failureThreshold?: number;
  /** How long the circuit stays open before Redis is tried again, in seconds. Default 10. */
  openSeconds?: number;
  /** Cross-instance single flight: one provider request per key across replicas. Default true. */
  lock?: boolean;
  /** Lifetime of that lock, in milliseconds; a lost holder blocks others at most this long. Default: the acquisition timeout plus 1 s. */
  lockTtlMs?: number;
}

/**
 * How every outbound request of the module leaves the machine: discovery and JWKS documents, the
 * identity provider's token endpoint (msal-node) and {@link DownstreamApi}. Default: one keep-alive
 * connection pool of the module's own, direct, trusting the machine's certificate authorities;
 * undici's global dispatcher and the proxy variables are not used unless asked for here. On every
 * path deadlines still apply, redirects are not followed and response bodies are capped (the
 * module's own dispatcher refuses any body over 10 MiB). `dispatcher` excludes
 * `proxyFromEnvironment: true` and `ca`: put proxy and TLS settings on your dispatcher.
 *
 * @example egress: { proxyFromEnvironment: true, ca: readFileSync('/etc/corp/proxy-ca.pem', 'utf8') }
 */
export interface EgressOptions {
  /**
   * An undici 7 `Dispatcher` (`Agent`, `ProxyAgent`, `EnvHttpProxyAgent`, `getGlobalDispatcher()`,
   * or one with interceptors) that carries every outbound request. It is yours: the module never
   * closes it. Redirects are still not followed and response bodies are still capped.
   */
  dispatcher?: Dispatcher;
  /**
   * Route requests through the proxy named by `HTTPS_PROXY` (https targets) / `HTTP_PROXY` (http
   * targets), or their lower-case forms, read when the module starts; hosts listed in `NO_PROXY`
   * (`host`, `.domain`, `host:port`, or `*`; read on every request) go direct. Uses undici's
   * `EnvHttpProxyAgent` (CONNECT tunnels). With no proxy variable set, requests go direct.
   * Default false: the variables are ignored, as Node's own `fetch` ignores them.
   */
  proxyFromEnvironment?: boolean;
  /**
   * Extra trusted certificate authorities, as PEM (one string may hold several certificates), for
   * every outbound TLS connection, the proxy's included. Added to the machine's trust (Node's
   * bundled roots and `NODE_EXTRA_CA_CERTS`), never replacing it. Default: none.
   */
  ca?: string | readonly string[];
}

/**
 * Options of {@link OboModule}, in Microsoft.Identity.Web's vocabulary.
 *
 * @example OboModule.forRoot({ tenantId: '<tenant GUID>', clientId: '<API client id>' })
 */
export interface OboModuleOptions {
  /**
   * The issuer of an OpenID Connect / OAuth 2.0 authority other than Entra ID (Auth0, Okta,
   * Keycloak, any RFC 8414 authority), exactly as its tokens carry it: Auth0 issuers end in `/`,
   * Okta's and Keycloak's do not. Set it instead of `instance` and `tenantId`. Metadata comes from
   * `<issuer>/.well-known/openid-configuration`, else RFC 8414's
   * `/.well-known/oauth-authorization-server`; its `issuer` must equal this one byte for byte.
   * Requires `audience`.
   * @example 'https://example.eu.auth0.com/'
   */
  issuer?: string;
  /** The token dialect of {@link issuer}'s access tokens. Default `rfc9068`. Only with `issuer`. */
  tokenProfile?: TokenProfileName;
  /** Overrides of where the profile finds scopes, app permissions, the client and the user. Only with `issuer`. */
  claimMapping?: ClaimMappingOptions;
  /** Rules for delegation (`act`) chains in incoming tokens. */
  delegation?: DelegationOptions;
  /**
   * How this API authenticates at a generic authority's token endpoint. Default
   * `client_secret_basic` with `clientSecret`, `private_key_jwt` with `clientPrivateKey` or
   * `clientAssertion`. Only with `issuer`.
   */
  clientAuthentication?: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
  /** The key for `private_key_jwt` at a generic authority. Only with `issuer`. */
  clientPrivateKey?: ClientPrivateKeyCredential;
  /** The RFC 8693 request's token types, at a generic authority. Only with `issuer`. */
  tokenExchange?: TokenExchangeOptions;
  /**
   * Authority host, `https` only. Default `https://login.microsoftonline.com/`. A sovereign cloud
   * (`https://login.microsoftonline.us/`, `https://login.chinacloudapi.cn/`), External ID
   * (`https://<name>.ciamlogin.com/`) or a local authority. Azure AD B2C (`*.b2clogin.com`) is refused.
   */
  instance?: string;
  /**
   * The Entra cloud of {@link instance}, which names the issuer of v1.0 tokens without fetching the
   * v1.0 discovery document. Default: inferred from the instance host (`login.microsoftonline.com`:
   * `AzurePublic`, `login.microsoftonline.us`: `AzureUsGovernment`, `login.chinacloudapi.cn`:
   * `AzureChina`); set it when the instance is a proxy or another host of that cloud. For other hosts
   * the v1.0 issuer comes from the v1.0 discovery document, and if that fails v1.0 tokens are refused.
   */
  azureCloudInstance?: AzureCloudInstance;
  /**
   * Entra ID: directory (tenant) GUID; or `organizations` / `common` together with
   * {@link allowedTenants} for a multi-tenant API. Required unless `issuer` is set.
   */
  tenantId?: string;
  /**
   * The API's application (client) id: a GUID on Entra ID (required); at a generic authority the
   * client id this API uses at the token endpoint (required for token acquisition).
   */
  clientId?: string;
  /**
   * Accepted `aud` values, compared exactly (the token's `aud` may be a string or an array). Entra
   * default: the client id and `api://<client id>`. Required with `issuer`.
   */
  audience?: string | readonly string[];
  /** Tenants whose tokens a multi-tenant API accepts (GUIDs). Required when `tenantId` is `organizations` or `common`. */
  allowedTenants?: readonly string[];
  /** Accepted token versions. Default `['1.0', '2.0']`; `['2.0']` for an External ID (`ciamlogin.com`) instance. */
  acceptedTokenVersions?: readonly AccessTokenVersion[];
  /** Clock skew allowed on `exp`, `nbf` and `iat`, in seconds. Default 60; at most 300. */
  clockToleranceSeconds?: number;
  /** Accepted JWS algorithms, asymmetric only. Default `['RS256']` (what Entra ID signs with). */
  algorithms?: readonly string[];
  /**
   * Longest raw token accepted before any decoding, in characters. Default 16384: Node's default
   * header limit (16 KiB for the URL and all headers), so every token Node delivers fits; a user in
   * 200 groups carries about 12 KB. Raise it together with Node's `--max-http-header-size`. A refused
   * token is logged once (its size only, at most one line a minute). At most 65536.
   */
  maxTokenLength?: number;
  /** Longest accepted token lifetime (`exp - iat`), in seconds. Default 108000 (30 h, covers CAE tokens). */
  maxTokenLifetimeSeconds?: number;
  /** When set, only tokens whose `azp` (v2) or `appid` (v1) is listed pass; others get 403. */
  allowedClientApplications?: readonly string[];
  /** Entra ID: name of the delegated-scopes claim (a space-separated string). Default `scp`. Generic profiles: `claimMapping.scopes`. */
  scopeClaim?: string;
  /** Entra ID: name of the app-permissions claim (an array of strings). Default `roles`. Generic profiles: `claimMapping.appPermissions`. */
  roleClaim?: string;
  /** `realm` parameter of `WWW-Authenticate` challenges. Default: none. */
  realm?: string;
  /** Signing-key cache settings. */
  jwks?: JwksOptions;
  /** Fully validated tokens remembered (by exact text, until they expire) so a repeated token skips the signature check. 0 turns it off. Default 10000. */
  validatedTokenCacheMaxEntries?: number;
  /**
   * Extra authority hosts (`host[:port]`, no scheme or path) msal-node may trust for token requests,
   * besides the `instance` host. Needed when the discovery document names an issuer on another host
   * than `instance`: External ID (CIAM) with a custom domain or `contoso.ciamlogin.com` whose issuer
   * is `https://<tenant-guid>.ciamlogin.com/<tenant-guid>/v2.0` (add `<tenant-guid>.ciamlogin.com`).
   * Without it msal refuses the authority; the module then answers 503 and logs the host to add.
   * Default: none.
   */
  knownAuthorities?: readonly string[];
  /** Client secret of this API, for On-Behalf-Of and app tokens. Give one credential at most. Never logged. */
  clientSecret?: string;
  /** Certificate credential of this API. */
  clientCertificate?: ClientCertificateCredential;
  /**
   * A signed client assertion (workload identity federation, managed identity): a callback, called
   * for every token request (cache in it if you must, never past the assertion's `exp`), or
   * `{ federatedTokenFile }`, a file re-read whenever it changes (AKS workload identity:
   * `{ federatedTokenFile: process.env.AZURE_FEDERATED_TOKEN_FILE }`). An assertion the provider
   * calls expired or not yet valid (AADSTS700024) is discarded and a fresh one is tried once. Never logged.
   */
  clientAssertion?: (() => Promise<string>) | FederatedTokenFileAssertion;
  /** Token acquisition settings. */
  tokenAcquisition?: TokenAcquisitionOptions;
  /** Named downstream APIs for {@link DownstreamApi}. */
  downstreamApis?: Readonly<Record<string, DownstreamApiOptions>>;
  /** A Redis second-level token cache shared by instances; values encrypted and authenticated. */
  distributedCache?: DistributedCacheOptions;
  /** Publish RFC 9728 protected-resource metadata and name it in every challenge. Default: off. */
  protectedResource?: ProtectedResourceOptions;
  /** How outbound requests leave the machine: a proxy, extra CAs, or your own undici dispatcher. Default: direct. */
  egress?: EgressOptions;
}
