import { Inject, Injectable, Logger, Optional, type OnApplicationShutdown } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { RESOLVED_OBO_OPTIONS } from '../../options/obo-options.constants.js';
import type { ResolvedOboOptions } from '../../options/resolve-obo-options.js';
import { TOKEN_CACHE_STORE, type CachedToken, type TokenCacheStore } from './token-cache-store.interface.js';

/** A token and where it came from. */
export interface CacheLookup {
  readonly token: CachedToken;
  readonly fromCache: boolean;
}

interface Entry {
  readonly token: CachedToken;
  readonly owner?: string;
}

/**
 * Our token cache, in front of the identity provider: a bounded LRU whose entries live until
 * expiry minus the margin (a caller never gets a token that expires within it), single flight
 * (concurrent misses for one key make one request; with Redis, one across instances), refresh
 * ahead (a hit close to the margin also renews the token in the background), an optional Redis
 * second level, and a per-user index for purges.
 */
@Injectable()
export class TokenCache implements OnApplicationShutdown {
  private readonly logger = new Logger(TokenCache.name);
  private readonly entries: LRUCache<string, Entry>;
  /** Owner → its cache keys: the key itself while there is one (most users), a set from the second on. */
  private readonly byOwner = new Map<string, string | Set<string>>();
  private readonly inFlight = new Map<string, Promise<CachedToken>>();
  private readonly marginMs: number;
  private readonly aheadMs: number;

  constructor(
    @Inject(RESOLVED_OBO_OPTIONS) options: ResolvedOboOptions,
    @Optional() @Inject(TOKEN_CACHE_STORE) private readonly store?: TokenCacheStore | null,
  ) {
    this.marginMs = options.tokenAcquisition.refreshMarginSeconds * 1000;
    this.aheadMs = options.tokenAcquisition.refreshAheadSeconds * 1000;
    this.entries = new LRUCache<string, Entry>({
      max: options.tokenAcquisition.cacheMaxEntries,
      ttlAutopurge: false,
      allowStale: false,
      dispose: (entry, key) => this.unindex(key, entry.owner),
    });
    store?.onOwnerRemoved((owner) => this.dropOwnerLocally(owner));
  }

  /** Entries currently held in memory. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Returns a cached token for `key`, or runs `acquire` once for all concurrent callers of `key`.
   * With `forceRefresh` the cached entries are skipped. `owner` (a hash of tenant and user) indexes
   * the entry for {@link removeOwner}.
   */
  async getOrAcquire(key: string, acquire: () => Promise<CachedToken>, forceRefresh = false, owner?: string): Promise<CacheLookup> {
    if (forceRefresh) this.entries.delete(key);
    else {
      const hit = this.entries.get(key);
      if (hit) {
        if (hit.token.expiresOn - this.marginMs - Date.now() < this.aheadMs) this.refreshInBackground(key, acquire, owner);
        return { token: hit.token, fromCache: true };
      }
    }
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.load(key, acquire, forceRefresh, owner).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    const token = await pending;
    return { token, fromCache: false };
  }

  /**
   * The cached token for `key` if it needs nothing else: held in memory and not yet due for a
   * refresh ahead. No promise, no side effect; on `undefined` use {@link getOrAcquire}.
   */
  peek(key: string): CachedToken | undefined {
    const hit = this.entries.get(key);
    return hit !== undefined && hit.token.expiresOn - this.marginMs - Date.now() >= this.aheadMs ? hit.token : undefined;
  }

  /**
   * Drops one entry here and in the shared store (a downstream API said the token is no longer
   * good). `owner` as given to {@link getOrAcquire} for `key`.
   */
  async evict(key: string, owner?: string): Promise<void> {
    this.entries.delete(key);
    await this.store?.delete(key, owner);
  }

  /** Drops every token of `owner` here, in the shared store and, through it, in other instances. */
  async removeOwner(owner: string): Promise<void> {
    this.dropOwnerLocally(owner);
    await this.store?.removeOwner(owner);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.store?.stop?.();
  }

  private usable(token: CachedToken | undefined): token is CachedToken {
    return token !== undefined && token.expiresOn - this.marginMs > Date.now();
  }

  private async load(key: string, acquire: () => Promise<CachedToken>, skipShared: boolean, owner?: string): Promise<CachedToken> {
    const store = this.store;
    if (!store) return this.remember(key, await acquire(), owner);
    if (!skipShared) {
      const shared = await store.get(key, owner);
      if (this.usable(shared)) return this.remember(key, shared, owner);
    }
    const token = await store.coordinate(key, async () => {
      // Another instance may have stored it while we waited for the lock.
      const again = skipShared ? undefined : await store.get(key, owner);
      if (this.usable(again)) return again;
      const fresh = await acquire();
      const ttl = fresh.expiresOn - this.marginMs - Date.now();
      if (ttl > 0) await store.set(key, fresh, ttl, owner);
      return fresh;
    }, owner);
    return this.remember(key, token, owner);
  }

  private remember(key: string, token: CachedToken, owner?: string): CachedToken {
    const ttl = token.expiresOn - this.marginMs - Date.now();
    // A token already inside the margin is handed to this caller but never cached.
    if (ttl <= 0) return token;
    this.entries.set(key, { token, owner }, { ttl });
    if (owner) {
      const keys = this.byOwner.get(owner);
      if (keys === undefined) this.byOwner.set(owner, key);
      else if (typeof keys !== 'string') keys.add(key);
      else if (keys !== key) this.byOwner.set(owner, new Set([keys, key]));
    }
    return token;
  }

  private unindex(key: string, owner?: string): void {
    const keys = owner ? this.byOwner.get(owner) : undefined;
    if (keys === undefined) return;
    if (typeof keys === 'string') {
      if (keys === key) this.byOwner.delete(owner!);
      return;
    }
    keys.delete(key);
    if (keys.size === 0) this.byOwner.delete(owner!);
  }

  private dropOwnerLocally(owner: string): void {
    const keys = this.byOwner.get(owner);
    this.byOwner.delete(owner);
    for (const key of typeof keys === 'string' ? [keys] : [...(keys ?? [])]) this.entries.delete(key);
  }

  private refreshInBackground(key: string, acquire: () => Promise<CachedToken>, owner?: string): void {
    if (this.inFlight.has(key)) return;
    const refresh = this.load(key, acquire, true, owner).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, refresh);
    // The current token is still good for at least the margin; a failed renewal is retried on a later hit.
    refresh.catch((error: unknown) => this.logger.warn(`Background token refresh failed (${(error as { code?: string }).code ?? 'error'}); the cached token is still valid.`));
  }
}
