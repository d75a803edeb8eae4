import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { connectRedis } from '../../../redis/redis-connection.js';
import { SecurityEventLog } from '../../../redis/security-event-log.js';
import type { ResolvedDistributedCache } from '../../../options/resolve-distributed-cache.js';
import type { CachedToken, TokenCacheStore } from '../token-cache-store.interface.js';
import { CircuitBreaker, UNAVAILABLE } from './circuit-breaker.js';
import { TokenSealer } from './token-sealer.js';

type RedisLike = Redis | Cluster;

// Deletes the lock only if we still hold it (another instance may hold it after our TTL).
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
const POLL_MS = 50;

/**
 * The Redis second level: values sealed with AES-256-GCM under their cache key, keys made of a
 * prefix and hashes only, a per-user index for purges, a short lock for cross-instance single
 * flight, and a circuit breaker so a sick Redis costs at most one short timeout per call until it
 * opens, and nothing after.
 */
export class RedisTokenCacheStore implements TokenCacheStore {
  private readonly logger = new Logger('RedisTokenCache');
  private readonly client: RedisLike;
  private readonly subscriber: RedisLike;
  private readonly owned: boolean;
  private readonly sealer: TokenSealer;
  private readonly breaker: CircuitBreaker;
  private readonly listeners: Array<(owner: string) => void> = [];
  private readonly securityEvents = new SecurityEventLog(this.logger, 'a Redis token cache value');

  constructor(private readonly config: ResolvedDistributedCache) {
    ({ client: this.client, owned: this.owned } = connectRedis(config.redis, config.operationTimeoutMs));
    this.subscriber = this.client.duplicate();
    // Failures are counted by the breaker and logged once by it; the events themselves are noise.
    this.subscriber.on('error', () => undefined);
    this.subscriber.on('message', (_channel: string, owner: string) => this.listeners.forEach((listener) => listener(owner)));
    // Subscribe whenever the connection is (again) ready: Redis may have been down at startup.
    this.subscriber.on('ready', () => void this.subscriber.subscribe(this.channel).catch(() => undefined));
    this.sealer = new TokenSealer(config.encryptionKeys);
    this.breaker = new CircuitBreaker('Redis token cache', config.failureThreshold, config.openSeconds * 1000, this.logger);
  }

  /**
   * Connects and subscribes to purges. Resolves when ready or after a short wait: Redis may be down
   * at startup, and the app then starts without it (commands fail fast until it is back).
   */
  async start(): Promise<void> {
    const ready = (client: RedisLike) =>
      client.status === 'ready' ? Promise.resolve() : new Promise<void>((resolve) => client.once('ready', () => resolve()));
    const subscribed = new Promise<void>((resolve) => this.subscriber.once('subscribe', () => resolve()));
    await Promise.race([Promise.all([ready(this.client), subscribed]), sleep(1_000)]);
  }

  async stop(): Promise<void> {
    this.subscriber.disconnect();
    if (this.owned) await this.client.quit().catch(() => this.client.disconnect());
  }

  async get(key: string): Promise<CachedToken | undefined> {
    const value = await this.breaker.run(() => this.client.getBuffer(this.tokenKey(key)));
    if (value === UNAVAILABLE || value === null) return undefined;
    const token = this.sealer.open(key, value);
    if (token) return token;
    this.securityEvents.report();
    await this.breaker.run(() => this.client.del(this.tokenKey(key)));
    return undefined;
  }

  async set(key: string, token: CachedToken, ttlMs: number, owner?: string): Promise<void> {
    const ttl = Math.max(1, Math.floor(ttlMs));
    await this.breaker.run(async () => {
      const writes: Array<Promise<unknown>> = [this.client.set(this.tokenKey(key), this.sealer.seal(key, token), 'PX', ttl)];
      if (owner) {
        const index = this.ownerKey(owner);
        // The index lives as long as its longest-lived token (NX sets a first expiry, GT only extends).
        writes.push(this.client.sadd(index, key), this.client.pexpire(index, ttl, 'NX'), this.client.pexpire(index, ttl, 'GT'));
      }
      await Promise.all(writes);
    });
  }

  async delete(key: string): Promise<void> {
    await this.breaker.run(() => this.client.del(this.tokenKey(key)));
  }

  async removeOwner(owner: string): Promise<void> {
    await this.breaker.run(async () => {
      const keys = await this.client.smembers(this.ownerKey(owner));
      await Promise.all([...keys.map((key) => this.client.del(this.tokenKey(key))), this.client.del(this.ownerKey(owner))]);
      await this.client.publish(this.channel, owner);
    });
  }

  onOwnerRemoved(listener: (owner: string) => void): void {
    this.listeners.push(listener);
  }

  async coordinate(key: string, load: () => Promise<CachedToken>): Promise<CachedToken> {
    if (!this.config.lock) return load();
    const lock = `${this.config.keyPrefix}l:${key}`;
    const deadline = Date.now() + this.config.lockTtlMs;
    while (Date.now() < deadline) {
      const id = randomUUID();
      const taken = await this.breaker.run(() => this.client.set(lock, id, 'PX', this.config.lockTtlMs, 'NX'));
      if (taken === UNAVAILABLE) return load();
      if (taken === 'OK') {
        try {
          return await load();
        } finally {
          await this.breaker.run(() => this.client.eval(RELEASE, 1, lock, id));
        }
      }
      const waited = await this.waitForHolder(key, lock, deadline);
      if (waited) return waited;
    }
    return load(); // the holder outlived its lock: stop waiting for it
  }

  /** Polls for the holder's value until it appears, the lock goes away, or the deadline passes. */
  private async waitForHolder(key: string, lock: string, deadline: number): Promise<CachedToken | undefined> {
    while (Date.now() < deadline) {
      await sleep(POLL_MS);
      const token = await this.get(key);
      if (token) return token;
      const held = await this.breaker.run(() => this.client.exists(lock));
      if (held !== 1) return undefined;
    }
    return undefined;
  }

  private get channel(): string {
    return `${this.config.keyPrefix}purge`;
  }

  private tokenKey(key: string): string {
    return `${this.config.keyPrefix}t:${key}`;
  }

  private ownerKey(owner: string): string {
    return `${this.config.keyPrefix}u:${owner}`;
  }
}
