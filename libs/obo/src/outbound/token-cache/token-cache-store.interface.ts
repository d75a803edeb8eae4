/** A token as the cache keeps it. */
export interface CachedToken {
  readonly accessToken: string;
  /** Expiry, epoch milliseconds. */
  readonly expiresOn: number;
  readonly scopes: readonly string[];
}

/**
 * A second cache level shared by instances (Redis). Implementations treat every failure of their
 * backend as a miss: the token cache never fails a request because its store is sick. `owner` (a
 * hash of tenant and user) is passed with every call on a user token's key, always the same for
 * one key, so a store can keep a user's entries together (the Redis store puts them in one Redis
 * Cluster slot); it is absent for app tokens.
 */
export interface TokenCacheStore {
  get(key: string, owner?: string): Promise<CachedToken | undefined>;
  /** Stores `token` for `ttlMs` milliseconds, indexed under `owner` when given. */
  set(key: string, token: CachedToken, ttlMs: number, owner?: string): Promise<void>;
  delete(key: string, owner?: string): Promise<void>;
  /**
   * Runs `load` for `key` once across instances: under a short lock, while other instances wait
   * for the value it stores. Falls back to running `load` when coordination is off or unavailable.
   */
  coordinate(key: string, load: () => Promise<CachedToken>, owner?: string): Promise<CachedToken>;
  /** Deletes every token indexed under `owner` and tells the other instances to drop theirs. */
  removeOwner(owner: string): Promise<void>;
  /** Called when another instance removed an owner's tokens. */
  onOwnerRemoved(listener: (owner: string) => void): void;
  /** Releases connections at shutdown. */
  stop?(): Promise<void>;
}

/** Injection token of the optional {@link TokenCacheStore}. */
export const TOKEN_CACHE_STORE = Symbol('OBO_TOKEN_CACHE_STORE');
