import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { CachedToken } from '../token-cache-store.interface.js';

const VERSION = 1;
const KEY_ID = 4;
const IV = 12;
const TAG = 16;
const HEADER = 1 + KEY_ID + IV + TAG;

/**
 * Seals cached tokens with AES-256-GCM; the cache key is the associated data, so a value copied
 * under another key, a swapped token or an extended expiry fails to open. The first key seals;
 * every key opens (key rotation without a flush). Layout: version, key id, IV, tag, ciphertext.
 */
export class TokenSealer {
  private readonly keys: ReadonlyArray<{ id: Buffer; key: Buffer }>;

  constructor(keys: readonly Buffer[]) {
    this.keys = keys.map((key) => ({ id: createHash('sha256').update(key).digest().subarray(0, KEY_ID), key }));
  }

  seal(cacheKey: string, token: CachedToken): Buffer {
    const { id, key } = this.keys[0]!;
    const iv = randomBytes(IV);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(aad(cacheKey));
    const body = Buffer.concat([cipher.update(JSON.stringify({ a: token.accessToken, e: token.expiresOn, s: token.scopes })), cipher.final()]);
    return Buffer.concat([Buffer.of(VERSION), id, iv, cipher.getAuthTag(), body]);
  }

  /** The token, or `undefined` when the value is not one we sealed for this key. */
  open(cacheKey: string, value: Buffer): CachedToken | undefined {
    if (value.length <= HEADER || value[0] !== VERSION) return undefined;
    const id = value.subarray(1, 1 + KEY_ID);
    const entry = this.keys.find((k) => k.id.equals(id));
    if (!entry) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', entry.key, value.subarray(1 + KEY_ID, 1 + KEY_ID + IV));
      decipher.setAAD(aad(cacheKey));
      decipher.setAuthTag(value.subarray(1 + KEY_ID + IV, HEADER));
      const plain = Buffer.concat([decipher.update(value.subarray(HEADER)), decipher.final()]);
      return parse(plain.toString('utf8'));
    } catch {
      return undefined; // authentication failed: tampered, truncated or sealed for another key
    }
  }
}

function aad(cacheKey: string): Buffer {
  return Buffer.from(`nestjs-obo/token/v${VERSION}\0${cacheKey}`, 'utf8');
}

function parse(json: string): CachedToken | undefined {
  const value = JSON.parse(json) as { a?: unknown; e?: unknown; s?: unknown };
  if (typeof value.a !== 'string' || typeof value.e !== 'number' || !Array.isArray(value.s) || !value.s.every((s) => typeof s === 'string')) return undefined;
  return { accessToken: value.a, expiresOn: value.e, scopes: value.s as string[] };
}
