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
}

/**
 * Options of {@link OboModule}, in Microsoft.Identity.Web's vocabulary.
 *
 * @example OboModule.forRoot({ tenantId: '<tenant GUID>', clientId: '<API client id>' })
 */
export interface OboModuleOptions {
  /** Authority host, `https` only. Default `https://login.microsoftonline.com/`. Change it for a sovereign cloud or a local authority. */
  instance?: string;
  /** Directory (tenant) GUID; or `organizations` / `common` together with {@link allowedTenants} for a multi-tenant API. */
  tenantId: string;
  /** The API's application (client) id, a GUID. */
  clientId: string;
  /** Accepted `aud` values, compared exactly. Default: the client id and `api://<client id>`. */
  audience?: string | readonly string[];
  /** Tenants whose tokens a multi-tenant API accepts (GUIDs). Required when `tenantId` is `organizations` or `common`. */
  allowedTenants?: readonly string[];
  /** Accepted token versions. Default `['1.0', '2.0']`. */
  acceptedTokenVersions?: readonly AccessTokenVersion[];
  /** Clock skew allowed on `exp`, `nbf` and `iat`, in seconds. Default 60; at most 300. */
  clockToleranceSeconds?: number;
  /** Accepted JWS algorithms, asymmetric only. Default `['RS256']` (what Entra ID signs with). */
  algorithms?: readonly string[];
  /** Longest raw token accepted before any decoding, in characters. Default 12288. */
  maxTokenLength?: number;
  /** Longest accepted token lifetime (`exp - iat`), in seconds. Default 108000 (30 h, covers CAE tokens). */
  maxTokenLifetimeSeconds?: number;
  /** When set, only tokens whose `azp` (v2) or `appid` (v1) is listed pass; others get 403. */
  allowedClientApplications?: readonly string[];
  /** Name of the delegated-scopes claim (a space-separated string). Default `scp`. */
  scopeClaim?: string;
  /** Name of the app-permissions claim (an array of strings). Default `roles`. */
  roleClaim?: string;
  /** `realm` parameter of `WWW-Authenticate` challenges. Default: none. */
  realm?: string;
  /** Signing-key cache settings. */
  jwks?: JwksOptions;
}
