import { createHash } from 'node:crypto';

/** What identifies a cached token; hashed, so no user data or token text is ever a key. */
export interface CacheKeyParts {
  readonly kind: 'user' | 'app';
  /** The incoming access token (user tokens); the key depends on all of it. */
  readonly assertion?: string;
  readonly tenantId: string;
  readonly scopes: readonly string[];
  readonly claims?: string;
}

/**
 * SHA-256 over the assertion, tenant, sorted scopes and claims (a NUL separates the parts, none of
 * which can contain one). Two users, two tenants or two grants never share a key.
 */
export function tokenCacheKey(parts: CacheKeyParts): string {
  const hash = createHash('sha256');
  hash.update(parts.kind).update('\0').update(parts.assertion ?? '').update('\0').update(parts.tenantId).update('\0');
  hash.update([...parts.scopes].sort().join(' ')).update('\0').update(parts.claims ?? '');
  return hash.digest('base64url');
}

/** The per-user index key of the cache: a hash of tenant and object id, never the ids themselves. */
export function tokenOwner(tenantId: string, objectId: string): string {
  return createHash('sha256').update('owner').update('\0').update(tenantId).update('\0').update(objectId).digest('base64url');
}
