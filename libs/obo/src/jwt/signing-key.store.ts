import { createPublicKey, type KeyObject } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import jwksRsa from 'jwks-rsa';
import { fetchJson } from '../http/fetch-json.js';
import { RESOLVED_OBO_OPTIONS } from '../options/obo-options.constants.js';
import type { ResolvedOboOptions } from '../options/resolve-obo-options.js';
import { loadAuthorityMetadata, type AuthorityMetadataDocument } from './authority-metadata.js';

/** One usable signing key of the authority. */
export interface SigningKey {
  readonly kid: string;
  readonly key: KeyObject;
  /** `alg` of the JWK, when it names one; the token's `alg` must then be the same. */
  readonly alg?: string;
  /** Entra's per-key `issuer` (may hold `{tenantid}`); a token signed with this key must match it. */
  readonly issuer?: string;
}

/** Keys cannot be had right now (cold cache and the authority failing). */
export class SigningKeysUnavailableError extends Error {
  override readonly name = 'SigningKeysUnavailableError';
  constructor(readonly retryAfterSeconds: number) {
    super('signing keys unavailable');
  }
}

/** The key set does not hold this `kid` (and a refetch is not due or did not find it). */
export class UnknownSigningKeyError extends Error {
  override readonly name = 'UnknownSigningKeyError';
}

interface KeySet {
  readonly keys: ReadonlyMap<string, SigningKey>;
  readonly metadata: AuthorityMetadataDocument;
  readonly fetchedAt: number;
}

const FAMILY: Record<string, (jwk: Record<string, unknown>) => boolean> = {
  RS: (jwk) => jwk.kty === 'RSA',
  PS: (jwk) => jwk.kty === 'RSA',
  ES: (jwk) => jwk.kty === 'EC',
  Ed: (jwk) => jwk.kty === 'OKP',
};

/** True when `alg` may be used with this key (RFC 8725 §3.1: one key, one algorithm family). */
export function keyFitsAlgorithm(key: SigningKey, alg: string): boolean {
  if (key.alg !== undefined) return key.alg === alg;
  const type = key.key.asymmetricKeyType;
  if (alg.startsWith('RS') || alg.startsWith('PS')) return type === 'rsa';
  if (alg.startsWith('ES')) return type === 'ec';
  return alg === 'EdDSA' && (type === 'ed25519' || type === 'ed448');
}

function toSigningKey(jwk: unknown, algorithms: readonly string[]): SigningKey | undefined {
  if (typeof jwk !== 'object' || jwk === null) return undefined;
  const k = jwk as Record<string, unknown>;
  if (typeof k.kid !== 'string' || k.kid.length === 0 || (k.use !== undefined && k.use !== 'sig')) return undefined;
  if (k.alg !== undefined && (typeof k.alg !== 'string' || !algorithms.includes(k.alg))) return undefined;
  if (!algorithms.some((alg) => FAMILY[alg.slice(0, 2)]?.(k))) return undefined;
  let key: KeyObject;
  try {
    key = createPublicKey({ key: { kty: k.kty, n: k.n, e: k.e, crv: k.crv, x: k.x, y: k.y } as never, format: 'jwk' });
  } catch {
    return undefined; // malformed key material: skip this key, keep the others
  }
  if (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) return undefined;
  return { kid: k.kid, key, alg: k.alg as string | undefined, issuer: typeof k.issuer === 'string' ? k.issuer : undefined };
}

/**
 * The authority's whole signing-key set, cached. An unknown `kid` refetches at most once per
 * cooldown, so a flood of random `kid`s costs at most a fetch or two while a real key rollover
 * is still picked up. A failed or broken fetch never replaces a good set; with no set at all it
 * becomes {@link SigningKeysUnavailableError} (503) for a short backoff.
 */
@Injectable()
export class SigningKeyStore {
  private readonly logger = new Logger(SigningKeyStore.name);
  private current?: KeySet;
  private inFlight?: Promise<KeySet | undefined>;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private failedUntil = 0;
  /** Number of JWKS fetches attempted so far (for tests and benchmarks). */
  fetchCount = 0;

  constructor(@Inject(RESOLVED_OBO_OPTIONS) private readonly options: ResolvedOboOptions) {}

  /** The metadata that came with the current key set, if any. */
  get metadata(): AuthorityMetadataDocument | undefined {
    return this.current?.metadata;
  }

  /** True when `kid` is in a key set younger than its maximum age (no fetch is made). */
  hasFreshKey(kid: string): boolean {
    const set = this.current;
    return set !== undefined && Date.now() - set.fetchedAt < this.options.jwks.cacheMaxAgeSeconds * 1000 && set.keys.has(kid);
  }

  /**
   * @throws {UnknownSigningKeyError} when no key has this `kid`.
   * @throws {SigningKeysUnavailableError} when no key set could be fetched.
   */
  async getKey(kid: string): Promise<{ key: SigningKey; metadata: AuthorityMetadataDocument }> {
    const now = Date.now();
    const { cacheMaxAgeSeconds, cooldownSeconds } = this.options.jwks;
    let set = this.current;
    const known = set?.keys.has(kid) ?? false;
    const due = !set || now - set.fetchedAt >= cacheMaxAgeSeconds * 1000 || (!known && now - this.lastAttemptAt >= cooldownSeconds * 1000);
    if (due && now >= this.failedUntil) set = (await this.refresh()) ?? set;
    else if (!known && this.inFlight) set = (await this.inFlight) ?? set;
    if (!set) throw new SigningKeysUnavailableError((this.failedUntil - Date.now()) / 1000);
    const key = set.keys.get(kid);
    if (!key) throw new UnknownSigningKeyError();
    return { key, metadata: set.metadata };
  }

  private refresh(): Promise<KeySet | undefined> {
    this.inFlight ??= this.fetchKeySet().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async fetchKeySet(): Promise<KeySet | undefined> {
    this.lastAttemptAt = Date.now();
    this.fetchCount++;
    const { timeoutMs, maxResponseBytes, failureBackoffSeconds } = this.options.jwks;
    try {
      const metadata = await loadAuthorityMetadata(this.options);
      const client = new jwksRsa.JwksClient({
        jwksUri: metadata.jwksUri,
        cache: false,
        rateLimit: false,
        fetcher: (uri: string) => fetchJson(uri, { timeoutMs, maxBytes: maxResponseBytes, dispatcher: this.options.egress.dispatcher }) as Promise<{ keys: unknown[] }>,
      });
      const raw: unknown = await client.getKeys();
      const keys = new Map<string, SigningKey>();
      for (const jwk of Array.isArray(raw) ? raw : []) {
        const key = toSigningKey(jwk, this.options.algorithms);
        if (key && !keys.has(key.kid)) keys.set(key.kid, key);
      }
      if (keys.size === 0) throw new Error('the JWKS holds no usable signing key');
      this.current = { keys, metadata, fetchedAt: Date.now() };
      return this.current;
    } catch (error) {
      this.failedUntil = Date.now() + failureBackoffSeconds * 1000;
      const reason = error instanceof Error ? error.message : 'unknown error';
      this.logger.warn(`Signing keys could not be refreshed (${reason}); ${this.current ? 'keeping the last good key set' : `answering 503 for ${failureBackoffSeconds} s`}.`);
      return undefined;
    }
  }
}
