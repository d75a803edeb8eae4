import { TextSealer } from '../../../redis/text-sealer.js';
import type { CachedToken } from '../token-cache-store.interface.js';

/**
 * Seals cached tokens with AES-256-GCM ({@link TextSealer}, purpose `token`); the cache key is the
 * associated data, so a value copied under another key, a swapped token or an extended expiry
 * fails to open. The first key seals; every key opens (key rotation without a flush).
 */
export class TokenSealer {
  private readonly sealer: TextSealer;

  constructor(keys: readonly Buffer[]) {
    this.sealer = new TextSealer('token', keys);
  }

  seal(cacheKey: string, token: CachedToken): Buffer {
    return this.sealer.seal(cacheKey, JSON.stringify({ a: token.accessToken, e: token.expiresOn, s: token.scopes }));
  }

  /** The token, or `undefined` when the value is not one we sealed for this key. */
  open(cacheKey: string, value: Buffer): CachedToken | undefined {
    const json = this.sealer.open(cacheKey, value);
    return json === undefined ? undefined : parse(json);
  }
}

function parse(json: string): CachedToken | undefined {
  let value: { a?: unknown; e?: unknown; s?: unknown };
  try {
    value = (JSON.parse(json) as typeof value | null) ?? {};
  } catch {
    return undefined; // authentic but not a token: never served
  }
  if (typeof value.a !== 'string' || typeof value.e !== 'number' || !Array.isArray(value.s) || !value.s.every((s) => typeof s === 'string')) return undefined;
  return { accessToken: value.a, expiresOn: value.e, scopes: value.s as string[] };
}
