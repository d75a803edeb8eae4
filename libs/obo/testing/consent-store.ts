import { OIDC_SCOPES } from './scope-request.js';

/** OpenID Connect scopes a client may always ask for (`openid profile email offline_access`): they never need the user's consent. */
export const CONSENT_FREE_SCOPES: ReadonlySet<string> = OIDC_SCOPES;

/**
 * Which resource scopes each user has consented to, per client: full scope strings such as
 * `api://<id>/access_as_user` (the resource's identifier URI, then the scope name).
 */
export class ConsentStore {
  private readonly grants = new Map<string, Set<string>>();

  /** Records that user `oid` lets `clientId` use `scopes` (OIDC scopes are ignored). */
  grant(oid: string, clientId: string, scopes: Iterable<string>): void {
    const key = keyOf(oid, clientId);
    const set = this.grants.get(key) ?? new Set<string>();
    for (const scope of scopes) if (!CONSENT_FREE_SCOPES.has(scope)) set.add(scope);
    this.grants.set(key, set);
  }

  /** The scopes user `oid` has consented to for `clientId`. */
  scopes(oid: string, clientId: string): readonly string[] {
    return [...(this.grants.get(keyOf(oid, clientId)) ?? [])];
  }

  /** Those of `scopes` that still need consent (neither consented nor OIDC scopes). */
  missing(oid: string, clientId: string, scopes: readonly string[]): string[] {
    const granted = this.grants.get(keyOf(oid, clientId));
    return scopes.filter((scope) => !CONSENT_FREE_SCOPES.has(scope) && !granted?.has(scope));
  }
}

function keyOf(oid: string, clientId: string): string {
  return `${oid.toLowerCase()} ${clientId.toLowerCase()}`;
}
