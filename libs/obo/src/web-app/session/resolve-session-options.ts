import type { Cluster, Redis } from 'ioredis';
import { OboConfigurationError } from '../../errors/obo.error.js';
import { describeValue, wholeNumber } from '../../options/option-checks.js';
import { encryptionKeys, redisConnection, redisKeyPrefix } from '../../options/redis-options.js';
import type { SessionOptions } from './session-options.interface.js';

/** A Redis session store with defaults applied and keys decoded. Internal. */
export interface ResolvedRedisSessionStore {
  readonly redis: string | Redis | Cluster;
  /** 32-byte AES keys; the first seals. */
  readonly encryptionKeys: readonly Buffer[];
  readonly keyPrefix: string;
  readonly operationTimeoutMs: number;
}

/** {@link SessionOptions} with every default applied and every value checked. Internal. */
export interface ResolvedSessionOptions {
  readonly store: 'memory' | ResolvedRedisSessionStore;
  readonly idleTimeoutSeconds: number;
  readonly absoluteTimeoutSeconds: number;
  readonly cookieName: string;
  /** The redirect URI is https: the cookie is `Secure`. */
  readonly secure: boolean;
  /** The app's origin (the redirect URI's), e.g. `https://app.example.com`: the only `Origin` a state-changing request may carry. */
  readonly appOrigin: string;
}

/** An RFC 9110 token: what a cookie name may be. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;
/** Cookie name prefixes browsers enforce (rfc6265bis 4.1.3), matched case-insensitively as browsers do. */
const SECURE_PREFIX = /^__(host|secure)-/i;

/**
 * Applies the defaults of {@link SessionOptions} and checks every value, once at startup.
 * @param redirectUri the web app's redirect URI: https makes the cookie `Secure` (and `__Host-` by default); its origin is the app's
 * @throws {OboConfigurationError} naming `session.<field>` and the fix
 */
export function resolveSessionOptions(options: SessionOptions | undefined, redirectUri: URL): ResolvedSessionOptions {
  const secure = redirectUri.protocol === 'https:';
  const idleTimeoutSeconds = wholeNumber('session.idleTimeoutSeconds', options?.idleTimeoutSeconds, 1_800, 300, 86_400);
  const absoluteTimeoutSeconds = wholeNumber('session.absoluteTimeoutSeconds', options?.absoluteTimeoutSeconds, 28_800, 300, 2_592_000);
  if (idleTimeoutSeconds > absoluteTimeoutSeconds) {
    throw new OboConfigurationError(
      'session.idleTimeoutSeconds',
      `(${idleTimeoutSeconds}) must not exceed session.absoluteTimeoutSeconds (${absoluteTimeoutSeconds}): lower the idle timeout or raise the absolute one.`,
    );
  }
  return {
    store: resolveStore(options?.store),
    idleTimeoutSeconds,
    absoluteTimeoutSeconds,
    cookieName: cookieName(options?.cookieName, secure),
    secure,
    appOrigin: redirectUri.origin,
  };
}

function cookieName(value: unknown, secure: boolean): string {
  if (value === undefined) return secure ? '__Host-obo-session' : 'obo-session';
  if (typeof value !== 'string' || !TOKEN.test(value)) {
    throw new OboConfigurationError('session.cookieName', `must be 1 to 64 letters, digits or !#$%&'*+.^_\`|~- (a cookie name token; got ${describeValue(value)}).`);
  }
  if (!secure && SECURE_PREFIX.test(value)) {
    throw new OboConfigurationError('session.cookieName', `starts with a prefix browsers accept only on https (got ${describeValue(value)}): use an https redirect URI or a name without "__Host-" / "__Secure-".`);
  }
  return value;
}

function resolveStore(store: SessionOptions['store']): ResolvedSessionOptions['store'] {
  if (store === undefined || store === 'memory') return 'memory';
  if (typeof store !== 'object' || store === null) {
    throw new OboConfigurationError('session.store', `must be 'memory' or { redis, encryptionKeys } (got ${describeValue(store)}).`);
  }
  return {
    redis: redisConnection('session.store.redis', store.redis),
    encryptionKeys: encryptionKeys('session.store.encryptionKeys', store.encryptionKeys, 'sessions'),
    keyPrefix: redisKeyPrefix('session.store.keyPrefix', store.keyPrefix, 'nestjs-obo:web:'),
    operationTimeoutMs: wholeNumber('session.store.operationTimeoutMs', store.operationTimeoutMs, 500, 10, 10_000),
  };
}
