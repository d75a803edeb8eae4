/** Claims of a validated access token that nestjs-obo reads; every other claim is kept as `unknown`. */
export interface AccessTokenClaims {
  readonly iss: string;
  readonly aud: string | readonly string[];
  readonly sub: string;
  readonly tid: string;
  readonly oid?: string;
  readonly exp: number;
  readonly nbf: number;
  readonly iat: number;
  readonly ver: string;
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
}

/**
 * The caller, from a fully validated access token. Serialising it (JSON, `console.log`) never
 * shows the raw token: it lives in a private field, reachable only through {@link Principal.assertion}.
 */
export class Principal {
  /** `oid`: the user's (or, app-only, the service principal's) object id in its tenant. */
  readonly objectId: string;
  /** `tid`: the tenant the caller signed in to. Pair it with `objectId` for any key. */
  readonly tenantId: string;
  /** `sub`: pairwise subject for this API. */
  readonly subject: string;
  /** `azp` (v2.0) or `appid` (v1.0): the calling client application. */
  readonly clientAppId?: string;
  /** Delegated scopes from the scope claim (empty for app-only tokens). */
  readonly scopes: readonly string[];
  /** App roles or app permissions from the role claim. */
  readonly roles: readonly string[];
  /** True for an app-only (client credentials) token: no user is involved. */
  readonly isAppOnly: boolean;
  /** Every claim of the validated token. Do not log it whole. */
  readonly claims: AccessTokenClaims;
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
    this.#assertion = assertion;
    Object.freeze(this);
  }

  /** The raw incoming access token, for On-Behalf-Of exchanges only. Never log or return it. */
  get assertion(): string {
    return this.#assertion;
  }

  /** Safe JSON form: identity, scopes and roles, no token and no claim set. */
  toJSON(): Omit<PrincipalInit, 'claims'> {
    const { objectId, tenantId, subject, clientAppId, scopes, roles, isAppOnly } = this;
    return { objectId, tenantId, subject, clientAppId, scopes, roles, isAppOnly };
  }
}
