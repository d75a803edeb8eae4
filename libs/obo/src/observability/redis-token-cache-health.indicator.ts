import { Inject, Injectable, Optional } from '@nestjs/common';
import { RESOLVED_OBO_OPTIONS } from '../options/obo-options.constants.js';
import type { ResolvedOboOptions } from '../options/resolve-obo-options.js';
import { RedisTokenCacheStore } from '../outbound/token-cache/redis/redis-token-cache.store.js';
import { TOKEN_CACHE_STORE, type TokenCacheStore } from '../outbound/token-cache/token-cache-store.interface.js';
import { healthResult, type OboHealthIndicatorResult } from './health-indicator-result.js';
import { errorType } from './obo-telemetry.js';

/**
 * A `@nestjs/terminus` health indicator for the Redis token cache (`distributedCache`): up when its
 * circuit breaker is closed and Redis answers a `PING` within `distributedCache.operationTimeoutMs`;
 * down when the circuit is open (or half-open) or the ping fails. Without a distributed cache it is up
 * (`store: 'memory'`). A Redis outage never fails a token request (the cache falls back to memory and
 * the identity provider): include this indicator where "Redis is down" should show, not in liveness.
 * Provided and exported by OboModule; `@nestjs/terminus` is not needed to load it.
 */
@Injectable()
export class RedisTokenCacheHealthIndicator {
  constructor(
    @Inject(RESOLVED_OBO_OPTIONS) private readonly options: ResolvedOboOptions,
    @Optional() @Inject(TOKEN_CACHE_STORE) private readonly store?: TokenCacheStore | null,
  ) {}

  /**
   * Checks the Redis token cache. Details: `store` (`redis` / `memory` / `custom`), `circuit`
   * (`closed` / `open` / `half-open`), `ping` (`PONG` or `failed`, with `error`).
   * @param key The result's key in the health report. Default `token-cache`.
   */
  async isHealthy<const Key extends string = 'token-cache'>(key: Key = 'token-cache' as Key): Promise<OboHealthIndicatorResult<Key>> {
    const config = this.options.distributedCache;
    if (!config || !this.store) return healthResult(key, { status: 'up', store: 'memory' });
    // A store of the app's own (TOKEN_CACHE_STORE overridden): nothing here can check it.
    if (!(this.store instanceof RedisTokenCacheStore)) return healthResult(key, { status: 'up', store: 'custom', checked: false });
    const circuit = this.store.circuitState;
    const ping = await pingOf(this.store);
    const up = circuit === 'closed' && ping.ok;
    return healthResult(key, { status: up ? 'up' : 'down', store: 'redis', circuit, ping: ping.ok ? 'PONG' : 'failed', ...(ping.ok ? {} : { error: ping.error }) });
  }
}

/** The store's `PING` (bounded by `operationTimeoutMs`), as a result. */
async function pingOf(store: RedisTokenCacheStore): Promise<{ ok: true } | { ok: false; error: string }> {
  try {
    await store.ping();
    return { ok: true };
  } catch (error) {
    return { ok: false, error: errorType(error) };
  }
}
