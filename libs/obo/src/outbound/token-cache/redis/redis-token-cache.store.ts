import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { connectRedis } from '../../../redis/redis-connection.js';
import { SecurityEventLog } from '../../../redis/security-event-log.js';
import { execTransaction } from '../../../redis/transaction.js';
import { within } from '../../../redis/within.js';
import type { ResolvedDistributedCache } from '../../../options/resolve-distributed-cache.js';
import type { CachedToken, TokenCacheStore } from '../token-cache-store.interface.js';
import { CircuitBreaker, UNAVAILABLE, type CircuitState } from './circuit-breaker.js';
import { TokenCacheKeys } from './token-cache-keys.js';
import { TokenSealer } from './token-sealer.js';

type RedisLike = Redis | Cluster;

// Deletes the lock only if we still hold it (another instance may hold it after our TTL).
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
const POLL_MS = 50;
/** Index members whose token expired longer ago than this are dropped when the user's next token is written (clock skew between instances stays harmless). */
const PRUNE_AFTER_MS = 5 * 60_000;
/** Keys per DEL / ZREM command in a purge. */
const PURGE_BATCH = 256;

/**
 * The Redis second level: values sealed with AES-256-GCM under their cache key, keys made of a
 * prefix and hashes only ({@link TokenCacheKeys}: one hash tag per user, so a user's tokens, index
 * and locks share one Redis Cluster slot), a per-user index (a sorted set scored by expiry, pruned
 * as it is written) for purges, a short lock for cross-instance single flight, and a circuit
 * breaker so a sick Redis costs at most one short timeout per call until it opens, and nothing
 * after. Every operation waits at most `operationTimeoutMs`, also on an app's own client or
 * cluster. Works on one Redis and on Redis Cluster: every transaction and script stays in one slot.
 */
export class RedisTokenCacheStore implements TokenCacheStore {
  private readonly logger = new Logger('RedisTokenCache');
  private readonly client: RedisLike;
  private readonly subscriber: RedisLike;
  private readonly owned: boolean;
  private readonly keys: TokenCacheKeys;
  private readonly sealer: TokenSealer;
  private readonly breaker: CircuitBreaker;
  private readonly listeners: Array<(owner: string) => void> = [];
  private readonly securityEvents = new SecurityEventLog(this.logger, 'a Redis token cache value');
  private readonly subscribed: Promise<void>;

  constructor(private readonly config: ResolvedDistributedCache) {
    ({ client: this.client, owned: this.owned } = connectRedis(config.redis, config.operationTimeoutMs));
    this.keys = new TokenCacheKeys(config.keyPrefix);
    this.subscriber = this.client.duplicate();
    // Failures are counted by the breaker and logged once by it; the events themselves are noise.
    this.subscriber.on('error', () => undefined);
    this.subscriber.on('message', (_channel: string, owner: string) => this.listeners.forEach((listener) => listener(owner)));
    // Subscribe whenever the connection is (again) ready: Redis may have been down at startup.
    this.subscribed = new Promise<void>((resolve) =>
      this.subscriber.on('ready', () =>
        void this.subscriber.subscribe(this.keys.channel).then(
          () => resolve(),
          () => undefined,
        ),
      ),
    );
    this.sealer = new TokenSealer(config.encryptionKeys);
    this.breaker = new CircuitBreaker('Redis token cache', config.failureThreshold, config.openSeconds * 1000, this.logger);
  }

  /**
   * Connects and subscribes to purges. Resolves when ready or after a short wait: Redis may be down
   * at startup, and the app then starts without it (commands fail fast until it is back).
   */
  /** The circuit breaker's state: `closed` while Redis is used, `open` / `half-open` while it is skipped. */
  get circuitState(): CircuitState {
    return this.breaker.state;
  }

  /**
   * `PING` on the command connection, answered within `operationTimeoutMs` (for health checks; the
   * breaker is neither consulted nor moved).
   * @throws Error when Redis does not answer `PONG` in time.
   */
  async ping(): Promise<void> {
    const answer = await within(this.config.operationTimeoutMs, this.client.ping());
    if (answer !== 'PONG') throw new Error('unexpected reply to PING');
  }

  async start(): Promise<void> {
    const ready = (client: RedisLike) =>
      client.status === 'ready' ? Promise.resolve() : new Promise<void>((resolve) => client.once('ready', () => resolve()));
    await Promise.race([Promise.all([ready(this.client), this.subscribed]), sleep(1_000)]);
  }

  async stop(): Promise<void> {
    this.subscriber.disconnect();
    if (this.owned) await this.client.quit().catch(() => this.client.disconnect());
  }

  async get(key: string, owner?: string): Promise<CachedToken | undefined> {
    const value = await this.run(() => this.client.getBuffer(this.keys.token(key, owner)));
    if (value === UNAVAILABLE || value === null) return undefined;
    const token = this.sealer.open(key, value);
    if (token) return token;
    this.securityEvents.report();
    await this.run(() => this.client.del(this.keys.token(key, owner)));
    return undefined;
  }

  async set(key: string, token: CachedToken, ttlMs: number, owner?: string): Promise<void> {
    const ttl = Math.max(1, Math.floor(ttlMs));
    const value = this.sealer.seal(key, token);
    if (owner === undefined) {
      await this.run(() => this.client.set(this.keys.token(key), value, 'PX', ttl));
      return;
    }
    const index = this.keys.index(owner);
    const now = Date.now();
    // One slot, one transaction: a token is never stored without its index entry (a purge finds it).
    // The index lives as long as its longest-lived token (NX sets a first expiry, GT only extends).
    await this.run(() =>
      execTransaction(
        this.client
          .multi()
          .set(this.keys.token(key, owner), value, 'PX', ttl)
          .zadd(index, now + ttl, key)
          .zremrangebyscore(index, '-inf', now - PRUNE_AFTER_MS)
          .pexpire(index, ttl, 'NX')
          .pexpire(index, ttl, 'GT'),
      ),
    );
  }

  async delete(key: string, owner?: string): Promise<void> {
    await this.run(() => this.client.del(this.keys.token(key, owner)));
  }

  /**
   * Deletes `owner`'s tokens and index entries (one transaction in the owner's slot) and announces
   * the purge to every instance. A token written while the purge runs stays indexed.
   */
  async removeOwner(owner: string): Promise<void> {
    const index = this.keys.index(owner);
    await this.run(async () => {
      const members = await this.client.zrange(index, 0, -1);
      if (members.length > 0) {
        const transaction = this.client.multi();
        for (let i = 0; i < members.length; i += PURGE_BATCH) {
          const batch = members.slice(i, i + PURGE_BATCH);
          transaction.del(...batch.map((key) => this.keys.token(key, owner))).zrem(index, ...batch);
        }
        await execTransaction(transaction);
      }
      // Announced even with nothing in Redis: other instances may hold the tokens in memory.
      await this.client.publish(this.keys.channel, owner);
    });
  }

  onOwnerRemoved(listener: (owner: string) => void): void {
    this.listeners.push(listener);
  }

  async coordinate(key: string, load: () => Promise<CachedToken>, owner?: string): Promise<CachedToken> {
    if (!this.config.lock) return load();
    const lock = this.keys.lock(key, owner);
    const deadline = Date.now() + this.config.lockTtlMs;
    while (Date.now() < deadline) {
      const id = randomUUID();
      const taken = await this.run(() => this.client.set(lock, id, 'PX', this.config.lockTtlMs, 'NX'));
      if (taken === UNAVAILABLE) return load();
      if (taken === 'OK') {
        try {
          return await load();
        } finally {
          await this.run(() => this.client.eval(RELEASE, 1, lock, id));
        }
      }
      const waited = await this.waitForHolder(key, owner, lock, deadline);
      if (waited) return waited;
    }
    return load(); // the holder outlived its lock: stop waiting for it
  }

  /** Polls for the holder's value until it appears, the lock goes away, or the deadline passes. */
  private async waitForHolder(key: string, owner: string | undefined, lock: string, deadline: number): Promise<CachedToken | undefined> {
    while (Date.now() < deadline) {
      await sleep(POLL_MS);
      const token = await this.get(key, owner);
      if (token) return token;
      const held = await this.run(() => this.client.exists(lock));
      if (held !== 1) return undefined;
    }
    return undefined;
  }

  /** One Redis operation through the breaker, waited for at most `operationTimeoutMs`. */
  private run<T>(operation: () => Promise<T>): Promise<T | typeof UNAVAILABLE> {
    return this.breaker.run(() => within(this.config.operationTimeoutMs, operation()));
  }
}
