import type { Cluster, Redis } from 'ioredis';

/**
 * Where and how long a web app keeps its sessions (`OboWebAppModule` option `session`).
 * Sessions hold who is signed in and the sign-in requests in flight, never a token.
 */
export interface SessionOptions {
  /**
   * The session store: `'memory'` (one process, development; lost on restart) or Redis for
   * production, where every value (session, per-user token cache) is sealed with AES-256-GCM like the
   * shared token cache. Default `'memory'`.
   */
  store?: 'memory' | RedisSessionStoreOptions;
  /** A session unused this long ends, in seconds. Default 1,800 (30 minutes). */
  idleTimeoutSeconds?: number;
  /** A session ends this long after sign-in however active, in seconds. Default 28,800 (8 hours). */
  absoluteTimeoutSeconds?: number;
  /**
   * The cookie's name. Default `__Host-obo-session` when the redirect URI is https (the `__Host-`
   * prefix: `Secure`, `Path=/`, no `Domain`), else `obo-session`.
   */
  cookieName?: string;
}

/** A Redis session store. */
export interface RedisSessionStoreOptions {
  /** A `redis://` / `rediss://` URL, or an ioredis client or cluster the app owns. */
  redis: string | Redis | Cluster;
  /** Base64 of 32 random bytes each (`openssl rand -base64 32`); the first seals, every one opens. Required. */
  encryptionKeys: string[];
  /** Prefix of every key. Default `nestjs-obo:web:`. */
  keyPrefix?: string;
  /** Per-operation timeout, ms. Default 500. */
  operationTimeoutMs?: number;
}
