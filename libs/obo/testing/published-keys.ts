import type { AuthorityKey } from './authority-keys.js';

/** The keys an authority publishes in its JWKS, each with an optional own `issuer`. */
export class PublishedKeys {
  private readonly keys = new Map<string, { key: AuthorityKey; issuer?: string }>();

  /** Adds (or replaces) `key`; `issuer` overrides the JWKS-wide default issuer for it. */
  publish(key: AuthorityKey, issuer?: string): void {
    this.keys.set(key.kid, issuer === undefined ? { key } : { key, issuer });
  }

  /** Removes the key `kid`. */
  unpublish(kid: string): void {
    this.keys.delete(kid);
  }

  /** The published key `kid`, if any. */
  get(kid: string): AuthorityKey | undefined {
    return this.keys.get(kid)?.key;
  }

  /** The public JWKs, without issuers. */
  publicJwks(): Record<string, unknown>[] {
    return [...this.keys.values()].map(({ key }) => key.publicJwk);
  }

  /** The JWKS document; keys without their own issuer get `defaultIssuer` (if any). */
  jwks(defaultIssuer: string | undefined): { keys: Record<string, unknown>[] } {
    return {
      keys: [...this.keys.values()].map(({ key, issuer = defaultIssuer }) => ({ ...key.publicJwk, ...(issuer === undefined ? {} : { issuer }) })),
    };
  }
}
