/** A token as the cache keeps it. */
export interface CachedToken {
  readonly accessToken: string;
  /** Expiry, epoch milliseconds. */
  readonly expiresOn: number;
  readonly scopes: readonly string[];
}

/**
 * A second cache level shared by instances (Redis comes next). Implementations must treat any
 * failure as a miss: the token cache never fails a request because its store is sick.
 */
export interface TokenCacheStore {
  get(key: string): Promise<CachedToken | undefined>;
  /** Stores `token` for `ttlMs` milliseconds. */
  set(key: string, token: CachedToken, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
}

/** Injection token of an optional {@link TokenCacheStore}. */
export const TOKEN_CACHE_STORE = Symbol('OBO_TOKEN_CACHE_STORE');
