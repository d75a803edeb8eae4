import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { RESOLVED_OBO_OPTIONS } from '../options/obo-options.constants.js';
import type { ResolvedOboOptions } from '../options/resolve-obo-options.js';
import { TOKEN_CACHE_STORE, type CachedToken, type TokenCacheStore } from './token-cache-store.interface.js';

/** A token and where it came from. */
export interface CacheLookup {
  readonly token: CachedToken;
  readonly fromCache: boolean;
}

/**
 * Our token cache, in front of the identity provider: a bounded LRU whose entries live until
 * expiry minus the margin (a caller never gets a token that expires within it), single flight
 * (concurrent misses for one key make one request), refresh ahead (a hit close to the margin
 * also renews the token in the background), and an optional second level.
 */
@Injectable()
export class TokenCache {
  private readonly logger = new Logger(TokenCache.name);
  private readonly entries: LRUCache<string, CachedToken>;
  private readonly inFlight = new Map<string, Promise<CachedToken>>();
  private readonly marginMs: number;
  private readonly aheadMs: number;

  constructor(
    @Inject(RESOLVED_OBO_OPTIONS) options: ResolvedOboOptions,
    @Optional() @Inject(TOKEN_CACHE_STORE) private readonly store?: TokenCacheStore,
  ) {
    this.marginMs = options.tokenAcquisition.refreshMarginSeconds * 1000;
    this.aheadMs = options.tokenAcquisition.refreshAheadSeconds * 1000;
    this.entries = new LRUCache<string, CachedToken>({ max: options.tokenAcquisition.cacheMaxEntries, ttlAutopurge: false, allowStale: false });
  }

  /** Entries currently held in memory. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Returns a cached token for `key`, or runs `acquire` once for all concurrent callers of `key`.
   * With `forceRefresh` the cached entry is dropped first.
   */
  async getOrAcquire(key: string, acquire: () => Promise<CachedToken>, forceRefresh = false): Promise<CacheLookup> {
    if (forceRefresh) this.entries.delete(key);
    else {
      const hit = this.entries.get(key);
      if (hit) {
        if (hit.expiresOn - this.marginMs - Date.now() < this.aheadMs) this.refreshInBackground(key, acquire);
        return { token: hit, fromCache: true };
      }
    }
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.load(key, acquire, forceRefresh).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    const token = await pending;
    return { token, fromCache: false };
  }

  /** Drops one entry (a downstream API said the token is no longer good). */
  async evict(key: string): Promise<void> {
    this.entries.delete(key);
    await this.store?.delete(key);
  }

  private async load(key: string, acquire: () => Promise<CachedToken>, skipStore: boolean): Promise<CachedToken> {
    if (!skipStore && this.store) {
      const shared = await this.store.get(key);
      if (shared && shared.expiresOn - this.marginMs > Date.now()) {
        this.remember(key, shared);
        return shared;
      }
    }
    const token = await acquire();
    const ttl = this.remember(key, token);
    if (ttl > 0 && this.store) await this.store.set(key, token, ttl);
    return token;
  }

  private remember(key: string, token: CachedToken): number {
    const ttl = token.expiresOn - this.marginMs - Date.now();
    // A token already inside the margin is handed to this caller but never cached.
    if (ttl > 0) this.entries.set(key, token, { ttl });
    return ttl;
  }

  private refreshInBackground(key: string, acquire: () => Promise<CachedToken>): void {
    if (this.inFlight.has(key)) return;
    const refresh = this.load(key, acquire, true).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, refresh);
    // The current token is still good for at least the margin; a failed renewal is retried on a later hit.
    refresh.catch((error: unknown) => this.logger.warn(`Background token refresh failed (${(error as { code?: string }).code ?? 'error'}); the cached token is still valid.`));
  }
}
