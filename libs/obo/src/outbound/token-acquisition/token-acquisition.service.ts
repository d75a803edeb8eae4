import { Inject, Injectable } from '@nestjs/common';
import { RequestContext } from '../../context/request-context.service.js';
import type { Principal } from '../../context/principal.js';
import { OboError, ScopedOboError } from '../../errors/obo.error.js';
import { RESOLVED_OBO_OPTIONS } from '../../options/obo-options.constants.js';
import type { ResolvedOboOptions } from '../../options/resolve-obo-options.js';
import { PrincipalKeys, tokenCacheKey, tokenOwner } from '../token-cache/cache-key.js';
import { TokenCache, type CacheLookup } from '../token-cache/token-cache.js';
import { TokenExchanger } from './token-exchanger.js';

/** Options of {@link TokenAcquisition.getAccessTokenForUser}. */
export interface UserTokenOptions {
  /** The user; default: the principal of the request being served. */
  principal?: Principal;
  /** Tenant to ask, a GUID; default: the configured tenant (multi-tenant APIs: the tenant of the user's token, never `common`). */
  tenantId?: string;
  /** Skip the cache and get a new token. */
  forceRefresh?: boolean;
  /** A claims challenge to satisfy (JSON text, as a downstream API or the provider sent it). */
  claims?: string;
  /** Correlation id for logs. */
  correlationId?: string;
}

/** Options of {@link TokenAcquisition.getAccessTokenForApp}. */
export interface AppTokenOptions {
  /** Tenant that issues the token, a GUID (any case). Default: the configured tenant; required when that is `organizations` / `common`. */
  tenantId?: string;
  forceRefresh?: boolean;
  correlationId?: string;
  /**
   * Allow an app-only token while a user request is being served. Acting for a user with the
   * app's own permissions is what Zero Trust guidance forbids; opt in only for work that is not
   * done for that user.
   */
  allowInUserContext?: boolean;
}

/** A token with its metadata. */
export interface AuthenticationResultInfo {
  readonly accessToken: string;
  readonly expiresOn: Date;
  readonly scopes: readonly string[];
  /** True when no identity-provider request was made for it. */
  readonly fromCache: boolean;
}

const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

function checkScopes(scopes: readonly string[]): readonly string[] {
  if (!Array.isArray(scopes) || scopes.length === 0 || !scopes.every((s) => typeof s === 'string' && SCOPE.test(s))) {
    throw new OboError('ERR_OBO_CONFIG_INVALID', 'Scopes must be a non-empty list of scope strings such as "api://<id>/Read".');
  }
  return scopes;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A tenant a caller names, as the lower-case GUID every cache key and authority URL uses. Domain
 * names are refused rather than resolved (resolving needs a discovery request per name and would
 * let two spellings of one tenant live apart); `organizations` / `common` name no tenant.
 * @throws {OboError} `ERR_OBO_CONFIG_INVALID`
 */
function tenantGuid(method: string, tenantId: unknown): string {
  if (typeof tenantId !== 'string' || !GUID.test(tenantId)) {
    const got = typeof tenantId === 'string' ? JSON.stringify(tenantId.slice(0, 100)) : typeof tenantId;
    throw new OboError('ERR_OBO_CONFIG_INVALID', `${method}: options.tenantId must be the tenant's GUID (got ${got}); a domain name, "organizations" or "common" names no single tenant.`);
  }
  return tenantId.toLowerCase();
}

const accessTokenOf = (lookup: CacheLookup): string => lookup.token.accessToken;

/**
 * Tokens for downstream APIs: On-Behalf-Of the signed-in user, or app-only for this API itself.
 * A singleton; it finds the current user through {@link RequestContext}.
 */
@Injectable()
export class TokenAcquisition {
  constructor(
    @Inject(RESOLVED_OBO_OPTIONS) private readonly options: ResolvedOboOptions,
    private readonly context: RequestContext,
    private readonly cache: TokenCache,
    private readonly exchanger: TokenExchanger,
  ) {}

  /** Cache keys of the principals being served (see {@link PrincipalKeys}). */
  private readonly keys = new PrincipalKeys();

  /**
   * A token for `scopes` On-Behalf-Of the current (or given) user.
   * @throws {OboError} `ERR_OBO_NO_USER`, `ERR_OBO_APP_ONLY_CALLER`, `ERR_OBO_CLAIMS_CHALLENGE`, `ERR_OBO_CONSENT_REQUIRED`, `ERR_OBO_PROVIDER_*` ...
   */
  getAccessTokenForUser(scopes: readonly string[], options: UserTokenOptions = {}): Promise<string> {
    // Not `async`: one promise less per call on the hot path. Every failure is still a rejection.
    let lookup: Promise<CacheLookup>;
    try {
      lookup = this.lookupForUser(scopes, options);
    } catch (error) {
      return Promise.reject(error);
    }
    return lookup.then(accessTokenOf);
  }

  /**
   * @internal The hot path of DownstreamApi: the current user's cached token for `scopes` (checked
   * at startup) without a promise, or `undefined` when {@link getAccessTokenForUser} must run
   * (no user, an app-only caller, a miss, a refresh due).
   */
  cachedTokenForCurrentUser(scopes: readonly string[]): string | undefined {
    const principal = this.context.principal;
    if (principal === undefined || principal.isAppOnly) return undefined;
    return this.cache.peek(this.keys.userKey(principal, this.defaultTenantOf(principal), scopes))?.accessToken;
  }

  /** Like {@link getAccessTokenForUser}, with expiry, scopes and whether it came from the cache. */
  async getAuthenticationResultForUser(scopes: readonly string[], options: UserTokenOptions = {}): Promise<AuthenticationResultInfo> {
    const { token, fromCache } = await this.lookupForUser(scopes, options);
    return { accessToken: token.accessToken, expiresOn: new Date(token.expiresOn), scopes: token.scopes, fromCache };
  }

  private lookupForUser(scopes: readonly string[], options: UserTokenOptions): Promise<CacheLookup> {
    checkScopes(scopes);
    const principal = options.principal ?? this.context.principal;
    if (!principal) throw new OboError('ERR_OBO_NO_USER', 'getAccessTokenForUser needs a request with an authenticated user, or options.principal.');
    if (principal.isAppOnly) throw new ScopedOboError('ERR_OBO_APP_ONLY_CALLER', scopes, 'On-Behalf-Of needs a user token; the caller is an application.');
    const tenantId = options.tenantId === undefined ? this.defaultTenantOf(principal) : tenantGuid('getAccessTokenForUser', options.tenantId);
    const { claims, correlationId } = options;
    const assertion = principal.assertion;
    const key = options.tenantId === undefined && claims === undefined ? this.keys.userKey(principal, tenantId, scopes) : tokenCacheKey({ kind: 'user', assertion, scopes, tenantId, claims });
    const acquire = () => this.exchanger.onBehalfOf({ assertion, scopes, tenantId, claims, correlationId });
    return this.cache.getOrAcquire(key, acquire, options.forceRefresh || claims !== undefined, this.keys.owner(principal));
  }

  /** The tenant asked for a user's token when the caller names none: the configured one, or (multi-tenant) the user's own. */
  private defaultTenantOf(principal: Principal): string {
    return this.options.multiTenant ? principal.tenantId : this.options.tenantId;
  }

  /**
   * An app-only token (client credentials) for `scope`, which must be `<resource>/.default`.
   * `options.tenantId` must be a GUID (any case; the cache keys it lower-case); it is required on a multi-tenant configuration.
   * @throws {OboError} `ERR_OBO_APP_TOKEN_IN_USER_CONTEXT` when called while serving a user without `allowInUserContext`;
   * `ERR_OBO_CONFIG_INVALID` for a tenant that is not a GUID (a domain name, `organizations`, `common`) or missing on a multi-tenant configuration.
   */
  async getAccessTokenForApp(scope: string, options: AppTokenOptions = {}): Promise<string> {
    checkScopes([scope]);
    if (!scope.endsWith('/.default')) throw new OboError('ERR_OBO_CONFIG_INVALID', `App tokens need a "<resource>/.default" scope (got "${scope.slice(0, 100)}").`);
    if (this.context.hasUser && !options.allowInUserContext) {
      throw new OboError(
        'ERR_OBO_APP_TOKEN_IN_USER_CONTEXT',
        'An app-only token was requested while serving a user. Use getAccessTokenForUser, or pass { allowInUserContext: true } if this work is not done for the user.',
      );
    }
    const tenantId = options.tenantId !== undefined ? tenantGuid('getAccessTokenForApp', options.tenantId) : this.options.multiTenant ? undefined : this.options.tenantId;
    if (!tenantId) throw new OboError('ERR_OBO_CONFIG_INVALID', 'A multi-tenant API must name the tenant of an app token: getAccessTokenForApp(scope, { tenantId }).');
    const request = { scopes: [scope], tenantId, correlationId: options.correlationId };
    const key = tokenCacheKey({ kind: 'app', ...request });
    const { token } = await this.cache.getOrAcquire(key, () => this.exchanger.clientCredentials(request), options.forceRefresh);
    return token.accessToken;
  }

  /**
   * Removes every cached token of a user, here, in Redis and in the other instances' memory: call it
   * at sign-out or when the user's access is revoked.
   */
  removeTokensForUser(objectId: string, tenantId: string): Promise<void> {
    return this.cache.removeOwner(tokenOwner(tenantId, objectId));
  }

  /** Drops a cached user token, e.g. after a downstream API refused it. */
  evictUserToken(scopes: readonly string[], options: Pick<UserTokenOptions, 'principal' | 'tenantId'> = {}): Promise<void> {
    const principal = options.principal ?? this.context.principal;
    if (!principal) return Promise.resolve();
    const tenantId = options.tenantId === undefined ? this.defaultTenantOf(principal) : tenantGuid('evictUserToken', options.tenantId);
    return this.cache.evict(tokenCacheKey({ kind: 'user', assertion: principal.assertion, tenantId, scopes }));
  }
}
