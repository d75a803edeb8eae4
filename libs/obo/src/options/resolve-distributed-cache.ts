import type { Cluster, Redis } from 'ioredis';
import { OboConfigurationError } from '../errors/obo.error.js';
import type { DistributedCacheOptions } from './obo-module-options.interface.js';
import { wholeNumber } from './option-checks.js';

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

function decodeKey(value: unknown, index: number): Buffer {
  const key = typeof value === 'string' && /^[A-Za-z0-9+/]{43}=$/.test(value.trim()) ? Buffer.from(value.trim(), 'base64') : undefined;
  if (!key || key.length !== 32) {
    throw new OboConfigurationError(
      `distributedCache.encryptionKeys[${index}]`,
      'must be the base64 of 32 random bytes, e.g. `openssl rand -base64 32` (the value is not shown here).',
    );
  }
  return key;
}

/**
 * Validates the Redis cache options; `undefined` when the cache is off.
 * @throws {OboConfigurationError}
 */
export function resolveDistributedCache(options: DistributedCacheOptions | undefined, acquisitionTimeoutMs: number): ResolvedDistributedCache | undefined {
  if (options === undefined) return undefined;
  const redis = options.redis;
  if (typeof redis === 'string') {
    if (!/^rediss?:\/\//.test(redis)) throw new OboConfigurationError('distributedCache.redis', 'must be a redis:// or rediss:// URL, or an ioredis client.');
  } else if (!redis || typeof (redis as { get?: unknown }).get !== 'function') {
    throw new OboConfigurationError('distributedCache.redis', 'must be a redis:// or rediss:// URL, or an ioredis client.');
  }
  const keys = options.encryptionKeys;
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new OboConfigurationError('distributedCache.encryptionKeys', 'is required: tokens are never stored in Redis unencrypted. Give the base64 of 32 random bytes (first encrypts, all decrypt).');
  }
  const keyPrefix = options.keyPrefix ?? 'nestjs-obo:';
  if (typeof keyPrefix !== 'string' || !/^[\x21-\x7e]{0,64}$/.test(keyPrefix)) throw new OboConfigurationError('distributedCache.keyPrefix', 'must be up to 64 printable ASCII characters.');
  return {
    redis,
    encryptionKeys: keys.map(decodeKey),
    keyPrefix,
    operationTimeoutMs: wholeNumber('distributedCache.operationTimeoutMs', options.operationTimeoutMs, 200, 10, 10_000),
    failureThreshold: wholeNumber('distributedCache.failureThreshold', options.failureThreshold, 3, 1, 1_000),
    openSeconds: wholeNumber('distributedCache.openSeconds', options.openSeconds, 10, 1, 3_600),
    lock: options.lock ?? true,
    lockTtlMs: wholeNumber('distributedCache.lockTtlMs', options.lockTtlMs, acquisitionTimeoutMs + 1_000, 100, 120_000),
  };
}
