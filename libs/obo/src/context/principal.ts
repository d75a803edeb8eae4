import { internList, internText } from './interned.js';

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
  /**
   * Every claim of the validated token. Default: decoded from the assertion's payload (a JWS
   * compact token, RFC 7515 §7.1) the first time {@link Principal.claims} is read, so a principal
   * whose claims nobody reads holds no second copy of them (the token's text is kept anyway, for
   * On-Behalf-Of exchanges). The module's validators leave it out: the payload they verified is
   * exactly what the token carries.
   */
  claims?: AccessTokenClaims;
  /** The delegation chain, outermost actor first. Default: none. */
  actors?: readonly DelegationActor[];
}

const NO_ACTORS: readonly DelegationActor[] = Object.freeze([]);

/** The payload of a JWS compact token as an object. */
function payloadOf(token: string): AccessTokenClaims {
  const start = token.indexOf('.') + 1;
  const end = token.indexOf('.', start);
  const payload: unknown = start === 0 || end < 0 ? undefined : JSON.parse(Buffer.from(token.slice(start, end), 'base64url').toString('utf8'));
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw new TypeError('Principal: the assertion has no JWT payload to read claims from');
  return payload as AccessTokenClaims;
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
  /**
   * The delegation chain (`act`, RFC 8693 §4.1), outermost (current) actor first; empty when the
   * token was issued to the caller directly. Authorization decisions use only the first.
   */
  readonly actors: readonly DelegationActor[];
  readonly #assertion: string;
  #claims: AccessTokenClaims | undefined;

  constructor(init: PrincipalInit, assertion: string) {
    this.objectId = init.objectId;
    // Tenant, client and the scope and role lists repeat across principals: one shared copy each.
    this.tenantId = internText(init.tenantId);
    this.subject = init.subject;
    this.clientAppId = init.clientAppId === undefined ? undefined : internText(init.clientAppId);
    this.scopes = internList(init.scopes);
    this.roles = internList(init.roles);
    this.isAppOnly = init.isAppOnly;
    this.#claims = init.claims === undefined ? undefined : Object.freeze({ ...init.claims });
    this.actors = init.actors === undefined || init.actors.length === 0 ? NO_ACTORS : Object.freeze([...init.actors]);
    this.#assertion = assertion;
    Object.freeze(this);
  }

  /**
   * Every claim of the validated token (frozen). Do not log it whole. Decoded from the assertion on
   * first read when the principal was built without `claims`, then kept.
   * @throws {TypeError} only for a principal built without `claims` from text that is not a JWS
   *   compact token with a JSON object payload (never for one the module's validators built)
   */
  get claims(): AccessTokenClaims {
    return (this.#claims ??= Object.freeze(payloadOf(this.#assertion)));
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
