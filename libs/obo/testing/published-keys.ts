import type { AuthorityKey } from './authority-keys.js';

/** One published JWK: the public members exactly as served, the key pair behind it (if any). */
interface PublishedKey {
  readonly jwk: Record<string, unknown>;
  readonly key?: AuthorityKey;
  readonly issuer?: string;
  /** Served only in the app-specific key set `?appid=<appId>`. */
  readonly appId?: string;
}

/** The keys an authority publishes in its JWKS, each with an optional own `issuer` and app. */
export class PublishedKeys {
  private readonly keys = new Map<string, PublishedKey>();

  /** Adds (or replaces) `key`; `issuer` overrides the JWKS-wide default issuer for it. */
  publish(key: AuthorityKey, issuer?: string): void {
    this.keys.set(key.kid, { jwk: key.publicJwk, key, ...(issuer === undefined ? {} : { issuer }) });
  }

  /**
   * Adds (or replaces, by its `kid`) a JWK exactly as given, optionally only in the app-specific
   * set of `appId`; `key` is the pair behind it, when there is one (tokens signed with it verify).
   */
  publishJwk(jwk: Record<string, unknown>, options: { key?: AuthorityKey; appId?: string } = {}): void {
    this.keys.set(String(jwk.kid), { jwk, ...options });
  }

  /** Removes the key `kid`. */
  unpublish(kid: string): void {
    this.keys.delete(kid);
  }

  /** The published key pair `kid`, if any. */
  get(kid: string): AuthorityKey | undefined {
    return this.keys.get(kid)?.key;
  }

  /** The tenant-wide public JWKs, without issuers. */
  publicJwks(): Record<string, unknown>[] {
    return [...this.keys.values()].filter((k) => k.appId === undefined).map(({ jwk }) => jwk);
  }

  /**
   * The JWKS document; keys without their own issuer get `defaultIssuer` (if any). With `appId`,
   * the app-specific set: the tenant-wide keys plus the keys published for that app only.
   */
  jwks(defaultIssuer: string | undefined, appId?: string | null): { keys: Record<string, unknown>[] } {
    return {
      keys: [...this.keys.values()]
        .filter((k) => k.appId === undefined || k.appId === appId)
        .map(({ jwk, issuer = defaultIssuer }) => ({ ...jwk, ...(issuer === undefined ? {} : { issuer }) })),
    };
  }
}
