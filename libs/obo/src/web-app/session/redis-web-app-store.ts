import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { connectRedis } from '../../redis/redis-connection.js';
import { SecurityEventLog } from '../../redis/security-event-log.js';
import { TextSealer } from '../../redis/text-sealer.js';
import { execTransaction } from '../../redis/transaction.js';
import { within } from '../../redis/within.js';
import { CircuitBreaker, UNAVAILABLE } from '../../outbound/token-cache/redis/circuit-breaker.js';
import type { ResolvedRedisSessionStore } from './resolve-session-options.js';
import { SessionStoreUnavailableError } from './session-store-unavailable.error.js';
import { storeTtlSeconds } from './store-ttl.js';
import { WebAppStore } from './web-app-store.js';

const FAILURE_THRESHOLD = 3;
const OPEN_MS = 2_000;
/** Caller keys longer than this (or not printable ASCII) are stored under their SHA-256. */
const MAX_KEY = 200;

/**
 * The production {@link WebAppStore}: Redis, every value sealed with AES-256-GCM under its full
 * Redis key (a value moved to another key, altered or sealed with an unknown key reads as absent
 * and is deleted), sets with an expiry, a per-operation timeout and a circuit breaker. Fails closed:
 * any Redis failure throws {@link SessionStoreUnavailableError}. Redis Cluster: every command and
 * transaction touches one key, so no hash tag is needed and any slot layout works; caller keys are
 * namespaced hashes (base64url, never a brace), so keys spread over every slot unless `keyPrefix`
 * holds a `{...}` tag (then all of them share its slot). Internal.
 */
export class RedisWebAppStore extends WebAppStore {
  private readonly logger = new Logger('RedisWebAppStore');
  private readonly client: Redis | Cluster;
  private readonly owned: boolean;
  private readonly sealer: TextSealer;
  private readonly breaker: CircuitBreaker;
  private readonly securityEvents = new SecurityEventLog(this.logger, 'a Redis session store value');

  constructor(private readonly config: ResolvedRedisSessionStore) {
    super();
    ({ client: this.client, owned: this.owned } = connectRedis(config.redis, config.operationTimeoutMs));
    this.sealer = new TextSealer('web', config.encryptionKeys);
    this.breaker = new CircuitBreaker('Redis session store', FAILURE_THRESHOLD, OPEN_MS, this.logger, 'refusing requests that need a session (503)');
  }

  /** Waits until connected, at most 1 s: the app starts while Redis is down (requests needing a session get 503 until it is back). */
  async start(): Promise<void> {
    if (this.client.status === 'ready') return;
    await Promise.race([new Promise<void>((resolve) => this.client.once('ready', () => resolve())), sleep(1_000)]);
  }

  async stop(): Promise<void> {
    if (this.owned) await this.client.quit().catch(() => this.client.disconnect());
  }

  async get(key: string): Promise<string | undefined> {
    const full = this.fullKey(key);
    const value = await this.run(() => this.client.getBuffer(full));
    if (value === null) return undefined;
    const text = this.sealer.open(full, value);
    if (text !== undefined) return text;
    this.securityEvents.report();
    await this.run(() => this.client.del(full));
    return undefined;
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    const full = this.fullKey(key);
    await this.run(() => this.client.set(full, this.sealer.seal(full, value), 'EX', storeTtlSeconds(ttlSeconds)));
  }

  async delete(key: string): Promise<void> {
    await this.run(() => this.client.del(this.fullKey(key)));
  }

  async addMember(key: string, member: string, ttlSeconds: number): Promise<void> {
    const full = this.fullKey(key);
    const seconds = storeTtlSeconds(ttlSeconds);
    // One key, one transaction: the set never exists without an expiry (NX sets the first, GT only extends).
    await this.run(() => execTransaction(this.client.multi().sadd(full, member).expire(full, seconds, 'NX').expire(full, seconds, 'GT')));
  }

  async removeMember(key: string, member: string): Promise<void> {
    await this.run(() => this.client.srem(this.fullKey(key), member));
  }

  async members(key: string): Promise<readonly string[]> {
    return this.run(() => this.client.smembers(this.fullKey(key)));
  }

  /** Runs one Redis operation within the timeout, through the breaker; any failure is a typed error. */
  private async run<T>(operation: () => Promise<T>): Promise<T> {
    let cause: unknown;
    const result = await this.breaker.run(async () => {
      try {
        return await within(this.config.operationTimeoutMs, operation());
      } catch (error) {
        cause = error;
        throw error;
      }
    });
    if (result === UNAVAILABLE) throw new SessionStoreUnavailableError(cause === undefined ? undefined : { cause });
    return result;
  }

  private fullKey(key: string): string {
    const bounded = key.length <= MAX_KEY && /^[\x21-\x7e]+$/.test(key) ? key : `#${createHash('sha256').update(key, 'utf8').digest('base64url')}`;
    return this.config.keyPrefix + bounded;
  }
}
