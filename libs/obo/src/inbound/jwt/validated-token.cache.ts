import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type { Principal } from '../../context/principal.js';
import { RESOLVED_OBO_OPTIONS } from '../../options/obo-options.constants.js';
import type { ResolvedOboOptions } from '../../options/resolve-obo-options.js';
import { SigningKeyStore } from './signing-key.store.js';

interface Validated {
  /** The whole token text: a hit needs exactly this text. */
  readonly token: string;
  readonly principal: Principal;
  readonly kid: string;
  /** The token's `exp` plus the clock tolerance, epoch ms: no hit after this. */
  readonly validUntil: number;
}

/**
 * Characters of the token's end (its signature) used as the map key. Hashing a fresh ~1.5 KB
 * header string for a Map lookup costs about as much as the rest of the lookup; the tail of an
 * RS256 signature is as distinctive, and every hit is then checked against the whole text.
 */
const KEY_CHARS = 43;

/**
 * Remembers tokens that passed full validation, matched on the exact token text, so a client that
 * sends the same token again skips the signature check and claim parsing. A hit is served only
 * while the token is unexpired (same tolerance as validation) and its signing key is still in a
 * fresh key set, so a key removed from the JWKS stops its tokens exactly as without this cache.
 */
@Injectable()
export class ValidatedTokenCache {
  private readonly entries?: LRUCache<string, Validated>;
  private readonly toleranceMs: number;

  constructor(
    @Inject(RESOLVED_OBO_OPTIONS) options: ResolvedOboOptions,
    private readonly keys: SigningKeyStore,
  ) {
    this.toleranceMs = options.clockToleranceSeconds * 1000;
    if (options.validatedTokenCacheMaxEntries > 0) this.entries = new LRUCache({ max: options.validatedTokenCacheMaxEntries });
  }

  /** The principal of an already validated token, if it is still good. */
  get(token: string): Principal | undefined {
    const key = token.slice(-KEY_CHARS);
    const hit = this.entries?.get(key);
    // Another token ending the same way (e.g. a forged payload with a copied signature) is a miss.
    if (hit === undefined || hit.token !== token) return undefined;
    if (Date.now() >= hit.validUntil || !this.keys.hasFreshKey(hit.kid)) {
      this.entries!.delete(key);
      return undefined;
    }
    return hit.principal;
  }

  /**
   * Remembers a token that just passed full validation.
   * @param kid the `kid` of the key that verified it
   * @param exp its `exp` claim, seconds since the epoch (RFC 7519 §4.1.4)
   */
  remember(token: string, principal: Principal, kid: string, exp: number): void {
    const validUntil = exp * 1000 + this.toleranceMs;
    const ttl = validUntil - Date.now();
    if (ttl > 0) this.entries?.set(token.slice(-KEY_CHARS), { token, principal, kid, validUntil }, { ttl });
  }
}
