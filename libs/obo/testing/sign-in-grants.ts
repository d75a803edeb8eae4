import { randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';

/** Who signed in and how: what an authorization code and a refresh token carry. */
export interface SignInFacts {
  /** The user's `oid`. */
  readonly oid: string;
  /** The client the grant was issued to. */
  readonly clientId: string;
  /** The authority session (`sid`). */
  readonly sid: string;
  /** `auth_time` (seconds since the epoch). */
  readonly authTime: number;
  /** True when the authentication included MFA. */
  readonly mfa: boolean;
}

/** An authorization code's binding (RFC 6749 4.1.2, RFC 7636, OpenID Connect Core 3.1.2.1). */
export interface AuthorizationCodeGrant extends SignInFacts {
  readonly redirectUri: string;
  /** PKCE S256 `code_challenge`. */
  readonly codeChallenge: string;
  readonly nonce?: string;
  /** Every scope of the authorization request. */
  readonly scopes: readonly string[];
  /** The `claims` request (JSON text), when there was one. */
  readonly claims?: string;
}

/** A refresh token's record; `revoked` once its session or user was signed out. */
export interface RefreshTokenGrant extends SignInFacts {
  revoked: boolean;
}

/** Lifetime of an authorization code (10 minutes). */
export const CODE_LIFETIME_MS = 10 * 60 * 1000;
/** Lifetime of a refresh token (90 days, Entra's default inactivity limit). */
const REFRESH_TOKEN_LIFETIME_MS = 90 * 24 * 3600 * 1000;

/** Issued authorization codes (single use) and refresh tokens (opaque, server-side) of one authority. */
export class SignInGrants {
  private readonly codes = new LRUCache<string, { grant: AuthorizationCodeGrant; redeemed: boolean }>({ max: 10_000, ttl: CODE_LIFETIME_MS });
  private readonly refreshTokens = new LRUCache<string, RefreshTokenGrant>({ max: 100_000, ttl: REFRESH_TOKEN_LIFETIME_MS });

  /** Issues a random code bound to `grant`. */
  issueCode(grant: AuthorizationCodeGrant): string {
    const code = randomBytes(32).toString('base64url');
    this.codes.set(code, { grant, redeemed: false });
    return code;
  }

  /**
   * Takes `code` for redemption: `undefined` when unknown or expired, `'redeemed'` when used
   * before; otherwise marks it used (whatever the outcome of the redemption) and returns its grant.
   */
  redeemCode(code: string): AuthorizationCodeGrant | 'redeemed' | undefined {
    const entry = this.codes.get(code, { updateAgeOnGet: false });
    if (!entry) return undefined;
    if (entry.redeemed) return 'redeemed';
    entry.redeemed = true;
    return entry.grant;
  }

  /** Issues an opaque refresh token for `facts`. */
  issueRefreshToken(facts: SignInFacts): string {
    const token = randomBytes(48).toString('base64url');
    this.refreshTokens.set(token, { ...facts, revoked: false });
    return token;
  }

  /** The record of `token`, if it was issued and has not expired. */
  refreshToken(token: string): RefreshTokenGrant | undefined {
    return this.refreshTokens.get(token);
  }

  /** Revokes every refresh token matching `who` (by session `sid` or by user `oid`); returns how many. */
  revoke(who: { sid: string } | { oid: string }): number {
    let count = 0;
    for (const record of this.refreshTokens.values()) {
      const matches = 'sid' in who ? record.sid === who.sid : record.oid === who.oid;
      if (matches && !record.revoked) {
        record.revoked = true;
        count++;
      }
    }
    return count;
  }

  /** The user `oid` behind a code or refresh token, for fault matching and counters (no side effect). */
  userOf(form: Readonly<Record<string, string>>): string | undefined {
    if (form.code !== undefined) return this.codes.peek(form.code)?.grant.oid;
    if (form.refresh_token !== undefined) return this.refreshTokens.peek(form.refresh_token)?.oid;
    return undefined;
  }
}
