import type { MintOptions } from './mint-options.js';
import type { OidcDialect } from './oidc-dialects.js';

/** An RFC 8693 §4.1 `act` claim: the actor, and nested inside it the actor before it. */
export interface ActClaim {
  /** The acting party (a client id). */
  sub: string;
  /** The previous actor, if the chain is longer. */
  act?: ActClaim;
  /** Other members (`client_id`, `iss`, ...). */
  [member: string]: unknown;
}

/**
 * How {@link LocalOidcAuthority.mintUserToken} and {@link LocalOidcAuthority.mintAppToken} shape a
 * token. The dialect decides where each value goes (see {@link OidcDialect}); `claims` and `header`
 * override anything afterwards (`undefined` removes a member); `key`, `lifetimeSeconds` (default 3600),
 * `rawPayload` and `rawHeader` work as in {@link MintOptions}.
 */
export interface OidcMintOptions extends Pick<MintOptions, 'claims' | 'header' | 'key' | 'lifetimeSeconds' | 'rawPayload' | 'rawHeader'> {
  /** Token dialect. Default: the authority's. */
  dialect?: OidcDialect;
  /** `aud`. Default: the authority's default API audience. */
  audience?: string | string[];
  /** User tokens: `sub`. Default per dialect (`auth0|<hex>`, Okta a login `user-<hex>@example.test`, else a UUID). */
  subject?: string;
  /** Okta user tokens: `uid` (the user's id). Default: a random `00u…` id. */
  userId?: string;
  /** The client the token was issued to (`client_id`, `azp` or `cid`). Default: the authority's {@link LocalOidcAuthority.clientId}. */
  clientId?: string;
  /** Delegated scopes (`scope` string, or Okta's `scp` array). Default: user tokens `access_as_user`, app tokens none. */
  scopes?: readonly string[];
  /** Auth0 `permissions`. Default: the scopes. */
  permissions?: readonly string[];
  /** RFC 9068 `roles`, Keycloak `realm_access.roles`. Default: none (Keycloak: an empty list). */
  roles?: readonly string[];
  /** Keycloak `resource_access`: client id → roles. Default: none. */
  clientRoles?: Readonly<Record<string, readonly string[]>>;
  /** The `act` claim, outermost actor first (see {@link actChain}). Default: none. */
  act?: ActClaim;
}

/**
 * An `act` claim from actor ids, outermost (the current actor) first: `actChain('c', 'b', 'a')` is
 * `{ sub: 'c', act: { sub: 'b', act: { sub: 'a' } } }`. No actors: undefined.
 */
export function actChain(...actors: readonly string[]): ActClaim | undefined {
  return actors.reduceRight<ActClaim | undefined>((inner, sub) => (inner ? { sub, act: inner } : { sub }), undefined);
}

/** How many nested `act` levels `act` holds (0 when it is not an object with an `act`-like chain). Bounded at 64. */
export function actDepth(act: unknown): number {
  let depth = 0;
  for (let node = act; depth < 64 && typeof node === 'object' && node !== null && !Array.isArray(node); node = (node as { act?: unknown }).act) depth++;
  return depth;
}
