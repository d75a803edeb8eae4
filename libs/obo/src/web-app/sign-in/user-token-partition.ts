import { createHash } from 'node:crypto';
import type { WebAppStore } from '../session/web-app-store.js';

/** One cached access token of a user. */
export interface CachedUserToken {
  readonly accessToken: string;
  /** Expiry, seconds since the epoch. */
  readonly expiresOn: number;
  /** Scopes the authority granted. */
  readonly scopes: readonly string[];
}

/**
 * A user's tokens at a generic OpenID Connect authority, kept as JSON at `tokens:<accountKey>` in the
 * {@link WebAppStore}: the refresh token and the access tokens by {@link scopeKey}.
 */
export interface UserTokenPartition {
  readonly refreshToken?: string;
  readonly tokens: Readonly<Record<string, CachedUserToken>>;
}

/** Most access tokens kept per user (distinct scope sets); the ones expiring first go first. */
export const MAX_TOKENS_PER_USER = 32;

/** The store key of `accountKey`'s partition: a hash, so no user identifier appears in key names. */
export function partitionKey(accountKey: string): string {
  return `tokens:${createHash('sha256').update(accountKey, 'utf8').digest('base64url')}`;
}

/** The cache key of a token request: its distinct scopes in sorted order, and the resource indicator (RFC 8707) when one is sent. */
export function scopeKey(scopes: readonly string[], resource: string | undefined): string {
  const sorted = [...new Set(scopes)].sort().join(' ');
  return resource === undefined ? sorted : `${sorted} @${resource}`;
}

function isCachedToken(value: unknown): value is CachedUserToken {
  const token = value as Partial<CachedUserToken> | null;
  return typeof token === 'object' && token !== null && typeof token.accessToken === 'string' && typeof token.expiresOn === 'number'
    && Array.isArray(token.scopes) && token.scopes.every((scope) => typeof scope === 'string');
}

/** The user's partition, or `undefined` when absent or not in our shape (read as absent: the user signs in again). */
export async function readPartition(store: WebAppStore, accountKey: string): Promise<UserTokenPartition | undefined> {
  const text = await store.get(partitionKey(accountKey));
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined; // not ours (the store already refuses values it cannot open): as absent
  }
  const partition = value as { refreshToken?: unknown; tokens?: unknown } | null;
  if (typeof partition !== 'object' || partition === null || typeof partition.tokens !== 'object' || partition.tokens === null) return undefined;
  const tokens = Object.fromEntries(Object.entries(partition.tokens).filter(([, token]) => isCachedToken(token))) as Record<string, CachedUserToken>;
  return { ...(typeof partition.refreshToken === 'string' ? { refreshToken: partition.refreshToken } : {}), tokens };
}

/** Writes the partition, without tokens expired at `nowSeconds`, at most {@link MAX_TOKENS_PER_USER} of them. */
export async function writePartition(store: WebAppStore, accountKey: string, partition: UserTokenPartition, nowSeconds: number, ttlSeconds: number): Promise<void> {
  const live = Object.entries(partition.tokens)
    .filter(([, token]) => token.expiresOn > nowSeconds)
    .sort(([, a], [, b]) => b.expiresOn - a.expiresOn)
    .slice(0, MAX_TOKENS_PER_USER);
  const value: UserTokenPartition = { ...(partition.refreshToken === undefined ? {} : { refreshToken: partition.refreshToken }), tokens: Object.fromEntries(live) };
  await store.set(partitionKey(accountKey), JSON.stringify(value), ttlSeconds);
}
