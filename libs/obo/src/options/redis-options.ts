import type { Cluster, Redis } from 'ioredis';
import { OboConfigurationError } from '../errors/obo.error.js';

/**
 * Checks a Redis connection option: a `redis://` / `rediss://` URL or an ioredis client or cluster.
 * @throws {OboConfigurationError} naming `option`
 */
export function redisConnection(option: string, value: unknown): string | Redis | Cluster {
  if (typeof value === 'string' ? /^rediss?:\/\//.test(value) : !!value && typeof (value as { get?: unknown }).get === 'function') {
    return value as string | Redis | Cluster;
  }
  throw new OboConfigurationError(option, 'must be a redis:// or rediss:// URL, or an ioredis client.');
}

/**
 * Decodes encryption keys: each the base64 of 32 random bytes; the first seals, every one opens.
 * @param what what is sealed with them, for the message (e.g. `tokens`)
 * @throws {OboConfigurationError} naming `option` (or `option[i]`); a bad key's value is never shown
 */
export function encryptionKeys(option: string, value: unknown, what: string): Buffer[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new OboConfigurationError(option, `is required: ${what} are never stored in Redis unencrypted. Give the base64 of 32 random bytes (first encrypts, all decrypt).`);
  }
  return value.map((entry: unknown, index) => {
    const key = typeof entry === 'string' && /^[A-Za-z0-9+/]{43}=$/.test(entry.trim()) ? Buffer.from(entry.trim(), 'base64') : undefined;
    if (!key || key.length !== 32) {
      throw new OboConfigurationError(`${option}[${index}]`, 'must be the base64 of 32 random bytes, e.g. `openssl rand -base64 32` (the value is not shown here).');
    }
    return key;
  });
}

/** Checks a Redis key prefix (default `fallback`): up to 64 printable ASCII characters. @throws {OboConfigurationError} */
export function redisKeyPrefix(option: string, value: unknown, fallback: string): string {
  const prefix = value ?? fallback;
  if (typeof prefix !== 'string' || !/^[\x21-\x7e]{0,64}$/.test(prefix)) throw new OboConfigurationError(option, 'must be up to 64 printable ASCII characters.');
  // A brace would make Redis Cluster hash the prefix instead of each user's tag: one master for everything.
  if (/[{}]/.test(prefix)) throw new OboConfigurationError(option, 'must not contain { or }: Redis Cluster would hash the prefix (a hash tag) and put every key on one master.');
  return prefix;
}
