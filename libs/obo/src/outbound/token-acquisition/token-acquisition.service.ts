import { Inject, Injectable } from '@nestjs/common';
import { RequestContext } from '../../context/request-context.service.js';
import type { Principal } from '../../context/principal.js';
import { OboError, ScopedOboError } from '../../errors/obo.error.js';
import { AcquisitionTelemetry } from '../../observability/acquisition-telemetry.js';
import { RESOLVED_OBO_OPTIONS } from '../../options/obo-options.constants.js';
import type { ResolvedOboOptions } from '../../options/resolve-obo-options.js';
import { PrincipalKeys, tokenCacheKey, tokenOwner } from '../token-cache/cache-key.js';
import { TokenCache, type CacheLookup } from '../token-cache/token-cache.js';
import { TokenExchanger, type ExchangeRequest } from './token-exchanger.js';
import { tokenTarget, type TokenTarget } from './token-target.js';

/** Options of {@link TokenAcquisition.getAccessTokenForUser}. */
export interface UserTokenOptions extends TokenTarget {
  /** The user; default: the principal of the request being served. */
  principal?: Principal;
  /** Entra ID: tenant to ask, a GUID; default: the configured tenant (multi-tenant APIs: the tenant of the user's token, never `common`). */
  tenantId?: string;
  /** Skip the cache and get a new token. */
  forceRefresh?: boolean;
  /** A claims challenge to satisfy (JSON text, as a downstream API or the provider sent it). */
  claims?: string;
  /** Correlation id for logs. */
  correlationId?: string;
}

/**
 * Options of {@link TokenAcquisition.getAccessTokenForApp}. At an authority other than Entra ID,
 * `audience` and/or `resource` name the API the token is for (one of them is required).
 */
export interface AppTokenOptions extends TokenTarget {
  /** Entra ID: tenant that issues the token, a GUID (any case). Default: the configured tenant; required when that is `organizations` / `common`. */
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

/** Scopes a caller passed: a non-empty list of scope tokens; at another authority an empty list when a target names the API. */
function checkScopes(scopes: readonly string[], target?: TokenTarget): readonly string[] {
  const named = target !== undefined && (target.audience !== undefined || target.resource !== undefined);
  if (!Array.isArray(scopes) || (scopes.length === 0 && !named) || !scopes.every((s) => typeof s === 'string' && SCOPE.test(s))) {
    const what = target === undefined ? 'a non-empty list of scope strings such as "api://<id>/Read"' : 'a list of scope names such as "read:orders", empty only when options.audience or options.resource names the API';
    throw new OboError('ERR_OBO_CONFIG_INVALID', `Scopes must be ${what}.`);
  }
  return scopes;
}

/** At another authority the issuer is the one "tenant": a tenant option is a mistake. */
function noTenantOption(method: string, tenantId: string | undefined): void {
  if (tenantId !== undefined) throw new OboError('ERR_OBO_CONFIG_INVALID', `${method}: options.tenantId applies to Entra ID only; at another authority the issuer is the only one.`);
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
const resultOf = ({ token, fromCache }: CacheLookup): AuthenticationResultInfo => ({ accessToken: token.accessToken, expiresOn: new Date(token.expiresOn), scopes: token.scopes, fromCache });

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
  ) {
    this.telemetry = new AcquisitionTelemetry(options.provider);
  }

  /** Cache keys of the principals being served (see {@link PrincipalKeys}). */
  private readonly keys = new PrincipalKeys();
  /** The `obo.token.acquire` span and cache-lookup counter (no-ops unless the app registers an OpenTelemetry SDK). */
  private readonly telemetry: AcquisitionTelemetry;

  /**
   * A token for `scopes` On-Behalf-Of the current (or given) user.
   * @throws {OboError} `ERR_OBO_NO_USER`, `ERR_OBO_APP_ONLY_CALLER`, `ERR_OBO_CLAIMS_CHALLENGE`, `ERR_OBO_CONSENT_REQUIRED`, `ERR_OBO_PROVIDER_*` ...
   */
  getAccessTokenForUser(scopes: readonly string[], options: UserTokenOptions = {}): Promise<string> {
    // Not `async`: one promise less per call on the hot path. Every failure is still a rejection.
    return this.telemetry.run('user', () => this.lookupForUser(scopes, options), accessTokenOf);
  }

  /**
   * @internal The hot path of DownstreamApi: the current user's cached token for `scopes` (checked
   * at startup) without a promise, or `undefined` when {@link getAccessTokenForUser} must run
   * (no user, an app-only caller, a miss, a refresh due).
   */
  cachedTokenForCurrentUser(scopes: readonly string[], target?: TokenTarget): string | undefined {
    const principal = this.context.principal;
    if (principal === undefined || principal.isAppOnly) return undefined;
    const token = this.cache.peek(this.keys.userKey(principal, this.defaultTenantOf(principal), scopes, target));
    if (token === undefined) return undefined;
    this.telemetry.hit('user');
    return token.accessToken;
  }

  /** Like {@link getAccessTokenForUser}, with expiry, scopes and whether it came from the cache. */
  getAuthenticationResultForUser(scopes: readonly string[], options: UserTokenOptions = {}): Promise<AuthenticationResultInfo> {
    return this.telemetry.run('user', () => this.lookupForUser(scopes, options), resultOf);
  }

  private lookupForUser(scopes: readonly string[], options: UserTokenOptions): Promise<CacheLookup> {
    const generic = this.options.provider === 'oidc';
    const target = tokenTarget('getAccessTokenForUser', this.options.provider, options);
    checkScopes(scopes, generic ? target : undefined);
    if (generic) noTenantOption('getAccessTokenForUser', options.tenantId);
    const principal = options.principal ?? this.context.principal;
    if (!principal) throw new OboError('ERR_OBO_NO_USER', 'getAccessTokenForUser needs a request with an authenticated user, or options.principal.');
    if (principal.isAppOnly) throw new ScopedOboError('ERR_OBO_APP_ONLY_CALLER', scopes, 'On-Behalf-Of needs a user token; the caller is an application.');
    const tenantId = options.tenantId === undefined ? this.defaultTenantOf(principal) : tenantGuid('getAccessTokenForUser', options.tenantId);
    const { claims, correlationId } = options;
    const assertion = principal.assertion;
    const key = options.tenantId === undefined && claims === undefined ? this.keys.userKey(principal, tenantId, scopes, target) : tokenCacheKey({ kind: 'user', assertion, scopes, tenantId, claims, ...target });
    const acquire = () => this.exchanger.onBehalfOf({ assertion, scopes, tenantId, claims, correlationId, ...target });
    return this.cache.getOrAcquire(key, acquire, options.forceRefresh || claims !== undefined, this.keys.owner(principal));
  }

  /** The tenant asked for a user's token when the caller names none: the configured one (another authority: its issuer), or (multi-tenant) the user's own. */
  private defaultTenantOf(principal: Principal): string {
    return this.options.multiTenant ? principal.tenantId : this.options.tenantId;
  }

  /**
   * An app-only token (client credentials). On Entra ID `scope` must be `<resource>/.default` (or a
   * list holding just it) and `options.tenantId` a GUID (any case; the cache keys it lower case),
   * required on a multi-tenant configuration. At another authority `options.audience` and/or
   * `options.resource` name the API and `scope` lists plain scope names (`[]` for none).
   * @throws {OboError} `ERR_OBO_APP_TOKEN_IN_USER_CONTEXT` when called while serving a user without `allowInUserContext`;
   * `ERR_OBO_CONFIG_INVALID` for a tenant that is not a GUID (a domain name, `organizations`, `common`) or missing on a multi-tenant configuration,
   * for a missing target at another authority, or a target on Entra ID.
   */
  getAccessTokenForApp(scope: string | readonly string[], options: AppTokenOptions = {}): Promise<string> {
    return this.telemetry.run('app', () => this.lookupForApp(scope, options), accessTokenOf);
  }

  private lookupForApp(scope: string | readonly string[], options: AppTokenOptions): Promise<CacheLookup> {
    const request = this.options.provider === 'oidc' ? this.genericAppRequest(scope, options) : this.entraAppRequest(scope, options);
    const key = tokenCacheKey({ kind: 'app', ...request });
    return this.cache.getOrAcquire(key, () => this.exchanger.clientCredentials(request), options.forceRefresh);
  }

  private entraAppRequest(scopeOrList: string | readonly string[], options: AppTokenOptions): ExchangeRequest {
    tokenTarget('getAccessTokenForApp', 'entra', options);
    const scope = typeof scopeOrList === 'string' || !Array.isArray(scopeOrList) || scopeOrList.length !== 1 ? scopeOrList : scopeOrList[0];
    checkScopes([scope as string]);
    if (!(scope as string).endsWith('/.default')) throw new OboError('ERR_OBO_CONFIG_INVALID', `App tokens need a "<resource>/.default" scope (got "${(scope as string).slice(0, 100)}").`);
    this.refuseInUserContext(options);
    const tenantId = options.tenantId !== undefined ? tenantGuid('getAccessTokenForApp', options.tenantId) : this.options.multiTenant ? undefined : this.options.tenantId;
    if (!tenantId) throw new OboError('ERR_OBO_CONFIG_INVALID', 'A multi-tenant API must name the tenant of an app token: getAccessTokenForApp(scope, { tenantId }).');
    return { scopes: [scope as string], tenantId, correlationId: options.correlationId };
  }

  private genericAppRequest(scope: string | readonly string[], options: AppTokenOptions): ExchangeRequest {
    const target = tokenTarget('getAccessTokenForApp', 'oidc', options);
    if (target.audience === undefined && target.resource === undefined) {
      throw new OboError('ERR_OBO_CONFIG_INVALID', 'getAccessTokenForApp: an app token at an authority other than Entra ID needs options.audience or options.resource (the API it is for) instead of a "/.default" scope.');
    }
    const scopes = typeof scope === 'string' ? (scope === '' ? [] : [scope]) : scope;
    checkScopes(scopes, target);
    noTenantOption('getAccessTokenForApp', options.tenantId);
    this.refuseInUserContext(options);
    return { scopes: [...scopes], tenantId: this.options.tenantId, correlationId: options.correlationId, ...target };
  }

  /** Zero Trust: no app-only token for work done while serving a user, unless the caller opts in. */
  private refuseInUserContext(options: AppTokenOptions): void {
    if (this.context.hasUser && !options.allowInUserContext) {
      throw new OboError(
        'ERR_OBO_APP_TOKEN_IN_USER_CONTEXT',
        'An app-only token was requested while serving a user. Use getAccessTokenForUser, or pass { allowInUserContext: true } if this work is not done for the user.',
      );
    }
  }

  /**
   * Removes every cached token of a user, here, in Redis and in the other instances' memory: call it
   * at sign-out or when the user's access is revoked.
   */
  removeTokensForUser(objectId: string, tenantId: string): Promise<void> {
    return this.cache.removeOwner(tokenOwner(tenantId, objectId));
  }

  /** Drops a cached user token, e.g. after a downstream API refused it. */
  evictUserToken(scopes: readonly string[], options: Pick<UserTokenOptions, 'principal' | 'tenantId' | 'audience' | 'resource'> = {}): Promise<void> {
    const principal = options.principal ?? this.context.principal;
    if (!principal) return Promise.resolve();
    const tenantId = options.tenantId === undefined ? this.defaultTenantOf(principal) : tenantGuid('evictUserToken', options.tenantId);
    const { audience, resource } = options;
    return this.cache.evict(tokenCacheKey({ kind: 'user', assertion: principal.assertion, tenantId, scopes, audience, resource }), this.keys.owner(principal));
  }
}
