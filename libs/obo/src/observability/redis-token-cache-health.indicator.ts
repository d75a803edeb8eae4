import { Inject, Injectable, Optional } from '@nestjs/common';
import { RESOLVED_OBO_OPTIONS } from '../options/obo-options.constants.js';
import type { ResolvedOboOptions } from '../options/resolve-obo-options.js';
import { CircuitBreaker } from '../outbound/token-cache/redis/circuit-breaker.js';
import { TOKEN_CACHE_STORE, type TokenCacheStore } from '../outbound/token-cache/token-cache-store.interface.js';
import { healthResult, type OboHealthIndicatorResult } from './health-indicator-result.js';
import { errorType } from './obo-telemetry.js';

/** The one Redis command the indicator sends (ioredis `Redis` and `Cluster` both have it). */
interface Pingable {
  ping(): Promise<string>;
}

function isPingable(value: unknown): value is Pingable {
  return typeof value === 'object' && value !== null && typeof (value as Pingable).ping === 'function' && typeof (value as { duplicate?: unknown }).duplicate === 'function';
}

/**
 * The Redis client and circuit breaker of the module's Redis token cache. The store keeps both to
 * itself; the indicator reads them from the instance (its own properties, the first of each kind:
 * the command client comes before the subscriber) instead of opening a connection of its own.
 */
function redisPartsOf(store: object): { client?: Pingable; breaker?: CircuitBreaker } {
  let client: Pingable | undefined;
  let breaker: CircuitBreaker | undefined;
  for (const value of Object.values(store)) {
    if (breaker === undefined && value instanceof CircuitBreaker) breaker = value;
    else if (client === undefined && isPingable(value)) client = value;
  }
  return { client, breaker };
}

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
    const { client, breaker } = redisPartsOf(this.store);
    // A store of the app's own (TOKEN_CACHE_STORE overridden): nothing here can check it.
    if (!client || !breaker) return healthResult(key, { status: 'up', store: 'custom', checked: false });
    const circuit = breaker.state;
    const ping = await pingWithin(client, config.operationTimeoutMs);
    const up = circuit === 'closed' && ping.ok;
    return healthResult(key, { status: up ? 'up' : 'down', store: 'redis', circuit, ping: ping.ok ? 'PONG' : 'failed', ...(ping.ok ? {} : { error: ping.error }) });
  }
}

/** `PING`, answered `PONG` within `timeoutMs` (the app's own client may have no command timeout). */
async function pingWithin(client: Pingable, timeoutMs: number): Promise<{ ok: true } | { ok: false; error: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error('ping timed out'), { name: 'timeout' })), timeoutMs);
    timer.unref();
  });
  try {
    const answer = await Promise.race([client.ping(), timeout]);
    return answer === 'PONG' ? { ok: true } : { ok: false, error: 'unexpected_reply' };
  } catch (error) {
    return { ok: false, error: errorType(error) };
  } finally {
    clearTimeout(timer);
  }
}
