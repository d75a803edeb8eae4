import { Redis, type Cluster } from 'ioredis';

/** A Redis client to use, and whether we created it (then we close it and own its error events). */
export interface RedisConnection {
  readonly client: Redis | Cluster;
  readonly owned: boolean;
}

/**
 * The app's ioredis client or cluster as it is (its options stay the app's; the stores still wait
 * at most `operationTimeoutMs` for any operation), or a new client for a `redis://` / `rediss://`
 * URL that fails fast: commands time out after `operationTimeoutMs`, nothing is queued while
 * disconnected, and it reconnects in the background. A client we create has its `error` events
 * silenced: the caller's circuit breaker counts and logs failures once. For Redis Cluster the app
 * passes its own ioredis `Cluster`. Internal.
 */
export function connectRedis(redis: string | Redis | Cluster, operationTimeoutMs: number): RedisConnection {
  if (typeof redis !== 'string') return { client: redis, owned: false };
  const client = new Redis(redis, {
    commandTimeout: operationTimeoutMs,
    connectTimeout: Math.max(operationTimeoutMs, 1_000),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  client.on('error', () => undefined);
  return { client, owned: true };
}
