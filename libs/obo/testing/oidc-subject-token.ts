import { createPublicKey } from 'node:crypto';
import { compactVerify } from 'jose';
import { peekHeader } from './assertion-validation.js';
import type { AuthorityKey } from './authority-keys.js';
import { peekClaims } from './form-body.js';
import { oauthError } from './oidc-errors.js';
import { actDepth } from './oidc-mint-options.js';
import type { OidcClientRegistration } from './oidc-registrations.js';
import type { TokenEndpointError } from './token-errors.js';

/** How a token endpoint answers a subject token it will not exchange: RFC 8693 §2.2.2 says `invalid_request`; some servers say `invalid_grant`. */
export type SubjectTokenErrorCode = 'invalid_request' | 'invalid_grant';

/** Header `typ` values of access tokens (anything else, e.g. an ID token's, is refused). */
const ACCESS_TOKEN_TYPS: ReadonlySet<string> = new Set(['jwt', 'at+jwt', 'application/at+jwt']);

/** What validating a subject token needs. */
export interface SubjectTokenContext {
  readonly issuer: string;
  /** A published key by `kid`. */
  publishedKey(kid: string): AuthorityKey | undefined;
  /** The authenticated caller: the token's `aud` must be one of its {@link OidcClientRegistration.apis}. */
  readonly caller: OidcClientRegistration;
  /** A token with this many nested `act` levels (or more) is refused (Auth0: 5). */
  readonly maxActDepth: number;
  /** The `error` of a refused subject token. */
  readonly errorCode: SubjectTokenErrorCode;
}

/** The user a subject token was issued for. */
export interface SubjectUser {
  /** `sub`. */
  readonly subject: string;
  /** Okta `uid`, when present. */
  readonly userId?: string;
  /** The token's own `act` claim, when present (nested into the new one). */
  readonly act?: unknown;
  /** Every claim of the token. */
  readonly claims: Readonly<Record<string, unknown>>;
}

/**
 * Validates an RFC 8693 subject token as a first-party On-Behalf-Of exchange needs (Auth0's rules):
 * signed by a published key, `iss` this issuer, an access token (`typ` `JWT`/`at+jwt`, no `nonce`),
 * `exp` not passed, `aud` an API the caller owns, a user's token (not app-only), fewer than
 * `maxActDepth` nested actors. Failures: 400 with {@link SubjectTokenContext.errorCode}; too deep a
 * chain: 400 `invalid_request`.
 */
export async function validateSubjectToken(token: string, context: SubjectTokenContext): Promise<SubjectUser> {
  const refuse = (why: string): TokenEndpointError => oauthError(400, context.errorCode, `Invalid subject_token: ${why}`);
  const header = peekHeader(token);
  const claims = peekClaims(token);
  if (!header || !claims) throw refuse('not a JWT.');
  const key = typeof header.kid === 'string' ? context.publishedKey(header.kid) : undefined;
  if (!key || header.alg !== key.alg) throw refuse('signed by an unknown key.');
  try {
    await compactVerify(token, createPublicKey({ key: key.publicJwk as never, format: 'jwk' }), { algorithms: [key.alg] });
  } catch {
    throw refuse('bad signature.');
  }
  if (claims.iss !== context.issuer) throw refuse('issued by another authority.');
  if ((header.typ !== undefined && !ACCESS_TOKEN_TYPS.has(String(header.typ).toLowerCase())) || claims.nonce !== undefined) {
    throw refuse('not an access token.');
  }
  if (typeof claims.exp !== 'number' || claims.exp <= Math.floor(Date.now() / 1000)) throw refuse('expired.');
  const audiences = typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud : [];
  if (!audiences.some((aud) => (context.caller.apis ?? []).includes(aud as string))) throw refuse('its audience is not an API of the calling client.');
  if (typeof claims.sub !== 'string' || isAppOnly(claims)) throw refuse('not a user token.');
  const depth = actDepth(claims.act);
  if (depth >= context.maxActDepth) {
    throw oauthError(400, 'invalid_request', `Delegation chain (act claim) depth exceeds the limit of ${context.maxActDepth}.`);
  }
  return {
    subject: claims.sub,
    ...(typeof claims.uid === 'string' ? { userId: claims.uid } : {}),
    ...(claims.act !== undefined ? { act: claims.act } : {}),
    claims,
  };
}

/** Whether `claims` are of an app-only token in any dialect (Auth0 `@clients`/`gty`, RFC 9068 / Okta `sub` = client, Keycloak service account). */
export function isAppOnly(claims: Readonly<Record<string, unknown>>): boolean {
  const sub = claims.sub;
  if (typeof sub === 'string' && sub.endsWith('@clients')) return true;
  if (claims.gty === 'client-credentials') return true;
  if (typeof claims.preferred_username === 'string' && claims.preferred_username.startsWith('service-account-')) return true;
  return claims.uid === undefined && sub !== undefined && (sub === claims.client_id || sub === claims.cid);
}
