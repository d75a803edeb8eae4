import type { Cluster, Redis } from 'ioredis';
import type { DistributedCacheOptions } from './obo-module-options.interface.js';
import { wholeNumber } from './option-checks.js';
import { encryptionKeys, redisConnection, redisKeyPrefix } from './redis-options.js';

/** The Redis cache settings with defaults applied; encryption keys decoded. */
export interface ResolvedDistributedCache {
  readonly redis: string | Redis | Cluster;
  readonly encryptionKeys: readonly Buffer[];
  readonly keyPrefix: string;
  readonly operationTimeoutMs: number;
  readonly failureThreshold: number;
  readonly openSeconds: number;
  readonly lock: boolean;
  readonly lockTtlMs: number;
}

/**
 * Validates the Redis cache options; `undefined` when the cache is off.
 * @throws {OboConfigurationError}
 */
export function resolveDistributedCache(options: DistributedCacheOptions | undefined, acquisitionTimeoutMs: number): ResolvedDistributedCache | undefined {
  if (options === undefined) return undefined;
  return {
    redis: redisConnection('distributedCache.redis', options.redis),
    encryptionKeys: encryptionKeys('distributedCache.encryptionKeys', options.encryptionKeys, 'tokens'),
    keyPrefix: redisKeyPrefix('distributedCache.keyPrefix', options.keyPrefix, 'nestjs-obo:'),
    operationTimeoutMs: wholeNumber('distributedCache.operationTimeoutMs', options.operationTimeoutMs, 200, 10, 10_000),
    failureThreshold: wholeNumber('distributedCache.failureThreshold', options.failureThreshold, 3, 1, 1_000),
    openSeconds: wholeNumber('distributedCache.openSeconds', options.openSeconds, 10, 1, 3_600),
    lock: options.lock ?? true,
    lockTtlMs: wholeNumber('distributedCache.lockTtlMs', options.lockTtlMs, acquisitionTimeoutMs + 1_000, 100, 120_000),
  };
}
