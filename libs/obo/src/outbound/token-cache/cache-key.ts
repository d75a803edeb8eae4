import { createHash } from 'node:crypto';
import type { Principal } from '../../context/principal.js';

/** What identifies a cached token; hashed, so no user data or token text is ever a key. */
export interface CacheKeyParts {
  readonly kind: 'user' | 'app';
  /** The incoming access token (user tokens); the key depends on all of it. */
  readonly assertion?: string;
  readonly tenantId: string;
  readonly scopes: readonly string[];
  readonly claims?: string;
  /** Generic authorities: the `audience` the token is for. */
  readonly audience?: string;
  /** Generic authorities: the `resource` the token is for. */
  readonly resource?: string;
}

/**
 * SHA-256 over the assertion, tenant, sorted scopes, claims and, when one is named, the target
 * (`audience`, `resource`) (a NUL separates the parts, none of which can contain one; the target is
 * marked so a key with one never equals a key without). Two users, two tenants, two grants or two
 * audiences never share a key.
 */
export function tokenCacheKey(parts: CacheKeyParts): string {
  const hash = createHash('sha256');
  hash.update(parts.kind).update('\0').update(parts.assertion ?? '').update('\0').update(parts.tenantId).update('\0');
  hash.update([...parts.scopes].sort().join(' ')).update('\0').update(parts.claims ?? '');
  if (parts.audience !== undefined || parts.resource !== undefined) {
    hash.update('\0target\0').update(parts.audience === undefined ? '-' : `+${parts.audience}`).update('\0').update(parts.resource === undefined ? '-' : `+${parts.resource}`);
  }
  return hash.digest('base64url');
}

/** The per-user index key of the cache: a hash of tenant and object id, never the ids themselves. */
export function tokenOwner(tenantId: string, objectId: string): string {
  return createHash('sha256').update('owner').update('\0').update(tenantId).update('\0').update(objectId).digest('base64url');
}

/** Scope lists remembered per principal; more distinct lists than this are hashed every time. */
const MAX_KEYS_PER_PRINCIPAL = 16;

/** What is remembered for a principal: its owner hash and its first key, then a map for more. */
interface Remembered {
  owner?: string;
  /** The first combination: its scopes array (frozen arrays are matched by identity), tenant and target. */
  first?: { readonly scopes: readonly string[]; readonly tenantId: string; readonly named: string; readonly key: string };
  /** The first combination's text, kept only when its scopes array could change (not frozen). */
  firstText?: string;
  more?: Map<string, string>;
}

/**
 * The cache keys of principals, remembered per `Principal` object. A Principal is frozen and holds
 * one assertion, and the validated-token cache hands the same object to every request that sends
 * the same token, so a repeated caller's keys are hashed once, not on every request (two SHA-256
 * runs, one over the whole ~1.5 KB assertion). Held weakly: they go when the principal goes. Most
 * principals only ever ask for one combination (a downstream API's configured, frozen scope
 * array), so the first is kept in a slot and matched by that array's identity; a map is made only
 * for a second combination.
 */
export class PrincipalKeys {
  private readonly remembered = new WeakMap<Principal, Remembered>();

  /**
   * `tokenCacheKey({ kind: 'user', assertion: principal.assertion, tenantId, scopes, ...target })` (no claims).
   * Remembered by tenant, scopes and target as one text: a NUL after the tenant (as in the key
   * itself), the scopes joined by spaces (checked scope tokens hold neither), then the target's
   * parts each after a NUL, so the text identifies the combination.
   */
  userKey(principal: Principal, tenantId: string, scopes: readonly string[], target: { readonly audience?: string; readonly resource?: string } = {}): string {
    const { audience, resource } = target;
    const named = audience === undefined && resource === undefined ? '' : `\0${audience === undefined ? '-' : `+${audience}`}\0${resource === undefined ? '-' : `+${resource}`}`;
    const slot = this.slotOf(principal);
    const first = slot.first;
    if (first !== undefined && first.scopes === scopes && slot.firstText === undefined && first.tenantId === tenantId && first.named === named) return first.key;
    const text = combination(tenantId, scopes, named);
    if (first !== undefined && (slot.firstText ?? combination(first.tenantId, first.scopes, first.named)) === text) return first.key;
    let key = slot.more?.get(text);
    if (key === undefined) {
      key = tokenCacheKey({ kind: 'user', assertion: principal.assertion, tenantId, scopes, audience, resource });
      if (first === undefined) {
        slot.first = { scopes, tenantId, named, key };
        if (!Object.isFrozen(scopes)) slot.firstText = text;
      } else if ((slot.more ??= new Map()).size < MAX_KEYS_PER_PRINCIPAL - 1) slot.more.set(text, key);
    }
    return key;
  }

  /** `tokenOwner(principal.tenantId, principal.objectId)`. */
  owner(principal: Principal): string {
    const slot = this.slotOf(principal);
    return (slot.owner ??= tokenOwner(principal.tenantId, principal.objectId));
  }

  private slotOf(principal: Principal): Remembered {
    let slot = this.remembered.get(principal);
    if (!slot) this.remembered.set(principal, (slot = {}));
    return slot;
  }
}

function combination(tenantId: string, scopes: readonly string[], named: string): string {
  return `${tenantId}\0${scopes.join(' ')}${named}`;
}
