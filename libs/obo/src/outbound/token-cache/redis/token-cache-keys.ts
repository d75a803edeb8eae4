/**
 * The Redis key layout of the token cache, made for Redis Cluster: a user's tokens, that user's
 * index and the locks on those tokens carry one hash tag, `{<owner>}` (the owner is a SHA-256 of
 * tenant and object id, base64url: no braces, no user data), so they hash to one slot and the store
 * can write a token with its index entry, or purge the user, in one transaction. A token without an
 * owner (app tokens) is tagged with its own cache key (a SHA-256 too), so app tokens spread over
 * the slots. Layout (`<key>` is the cache key, `tokenCacheKey`):
 *
 * | key | holds | expiry |
 * | --- | --- | --- |
 * | `<prefix>t:{<owner>}:<key>` | a user token, sealed | the token's life minus the margin |
 * | `<prefix>u:{<owner>}` | set of that user's `<key>`s | its longest-lived token's |
 * | `<prefix>l:{<owner>}:<key>` | lock holder id (cross-instance single flight) | `lockTtlMs` |
 * | `<prefix>t:{<key>}` | an app token, sealed | as above |
 * | `<prefix>l:{<key>}` | its lock | `lockTtlMs` |
 * | `<prefix>purge` | pub/sub channel of purged owners | - |
 *
 * Changed before 1.0 (the tags are new; previously `t:<key>`, `u:<owner>`, `l:<key>`): after an
 * upgrade the old entries are misses and expire by themselves. Redis hashes the first `{...}` of a
 * key, so a `keyPrefix` holding braces overrides these tags and puts the whole cache in one slot
 * (correct, but one master then holds it all). Internal.
 */
export class TokenCacheKeys {
  /** @param prefix `distributedCache.keyPrefix` */
  constructor(private readonly prefix: string) {}

  /** Where the sealed token for cache key `key` lives. */
  token(key: string, owner?: string): string {
    return owner === undefined ? `${this.prefix}t:{${key}}` : `${this.prefix}t:{${owner}}:${key}`;
  }

  /** The set of `owner`'s cache keys, in the slot of their tokens. */
  index(owner: string): string {
    return `${this.prefix}u:{${owner}}`;
  }

  /** The lock on loading `key`, in the slot of its token. */
  lock(key: string, owner?: string): string {
    return owner === undefined ? `${this.prefix}l:{${key}}` : `${this.prefix}l:{${owner}}:${key}`;
  }

  /** The channel on which purged owners are announced (Redis Cluster forwards PUBLISH to every node). */
  get channel(): string {
    return `${this.prefix}purge`;
  }
}
