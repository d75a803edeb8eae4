/** One actor of a delegation chain (RFC 8693 §4.1 `act`). */
export interface DelegationActor {
  /** The actor's `sub` (Auth0 and RFC 8693: the client that exchanged the token). */
  readonly subject?: string;
  /** The actor's `client_id`, when the level names one. */
  readonly clientId?: string;
  /** The claims of this level, without the nested `act`. */
  readonly claims: Readonly<Record<string, unknown>>;
}

/**
 * Claims of a validated access token that nestjs-obo reads; every other claim is kept as `unknown`.
 * `tid`, `ver` and `nbf` are Entra's (always present there); other authorities' tokens may lack them.
 */
export interface AccessTokenClaims {
  readonly iss: string;
  readonly aud: string | readonly string[];
  readonly sub: string;
  readonly tid?: string;
  readonly oid?: string;
  readonly exp: number;
  readonly nbf?: number;
  readonly iat: number;
  readonly ver?: string;
  readonly scp?: string;
  readonly roles?: readonly string[];
  readonly azp?: string;
  readonly appid?: string;
  readonly idtyp?: string;
  readonly [claim: string]: unknown;
}

/** Fields of a {@link Principal} other than the raw token. */
export interface PrincipalInit {
  objectId: string;
  tenantId: string;
  subject: string;
  clientAppId?: string;
  scopes: readonly string[];
  roles: readonly string[];
  isAppOnly: boolean;
  claims: AccessTokenClaims;
  /** The delegation chain, outermost actor first. Default: none. */
  actors?: readonly DelegationActor[];
}

/**
 * The caller, from a fully validated access token. Serialising it (JSON, `console.log`) never
 * shows the raw token: it lives in a private field, reachable only through {@link Principal.assertion}.
 */
export class Principal {
  /**
   * Entra ID: `oid`, the user's (or, app-only, the service principal's) object id in its tenant.
   * Other authorities: the profile's user-id claim (`sub`; Okta `uid`), or for an app-only caller its client id.
   */
  readonly objectId: string;
  /**
   * Entra ID: `tid`, the tenant the caller signed in to. Other authorities: the issuer. Pair it
   * with `objectId` for any key.
   */
  readonly tenantId: string;
  /** `sub`: Entra's pairwise subject for this API; elsewhere the authority's subject. */
  readonly subject: string;
  /** The calling client application: `azp` (Entra v2.0, Auth0, Keycloak), `appid` (v1.0), `client_id` (RFC 9068), `cid` (Okta). */
  readonly clientAppId?: string;
  /** Delegated scopes from the scope claim (empty for app-only tokens). */
  readonly scopes: readonly string[];
  /** App roles or app permissions from the role claim. */
  readonly roles: readonly string[];
  /** True for an app-only (client credentials) token: no user is involved. */
  readonly isAppOnly: boolean;
  /** Every claim of the validated token. Do not log it whole. */
  readonly claims: AccessTokenClaims;
  /**
   * The delegation chain (`act`, RFC 8693 §4.1), outermost (current) actor first; empty when the
   * token was issued to the caller directly. Authorization decisions use only the first.
   */
  readonly actors: readonly DelegationActor[];
  readonly #assertion: string;

  constructor(init: PrincipalInit, assertion: string) {
    this.objectId = init.objectId;
    this.tenantId = init.tenantId;
    this.subject = init.subject;
    this.clientAppId = init.clientAppId;
    this.scopes = Object.freeze([...init.scopes]);
    this.roles = Object.freeze([...init.roles]);
    this.isAppOnly = init.isAppOnly;
    this.claims = Object.freeze({ ...init.claims });
    this.actors = Object.freeze([...(init.actors ?? [])]);
    this.#assertion = assertion;
    Object.freeze(this);
  }

  /** The raw incoming access token, for On-Behalf-Of exchanges only. Never log or return it. */
  get assertion(): string {
    return this.#assertion;
  }

  /** Safe JSON form: identity, scopes and roles, no token and no claim set. */
  toJSON(): Omit<PrincipalInit, 'claims' | 'actors'> & { actors: { subject?: string; clientId?: string }[] } {
    const { objectId, tenantId, subject, clientAppId, scopes, roles, isAppOnly } = this;
    const actors = this.actors.map(({ subject: actor, clientId }) => ({ subject: actor, clientId }));
    return { objectId, tenantId, subject, clientAppId, scopes, roles, isAppOnly, actors };
  }
}
