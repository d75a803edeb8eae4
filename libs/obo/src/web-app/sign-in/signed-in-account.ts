import { SignInFailedError } from '../errors/sign-in-failed.error.js';
import type { SignedInAccount } from './sign-in-client.js';

/** `ERR_OBO_SIGN_IN_FAILED`: the sign-in cannot complete; `reason` is safe to log (no token, no code). */
export function signInFailed(reason: string, cause?: unknown): SignInFailedError {
  return new SignInFailedError(`Sign-in failed: ${reason}; the user must sign in again.`, undefined, { cause });
}

/** What the ID token's claims are checked against. */
export interface IdTokenExpectations {
  /** The discovered issuer; Entra's multi-tenant `{tenantid}` template is filled from `tid`. */
  readonly expectedIssuer: string;
  readonly clientId: string;
  /** msal-node's `homeAccountId`, when the client library built one; else `sub`. */
  readonly accountKey?: string;
}

const text = (value: unknown, max = 512): string | undefined => (typeof value === 'string' && value.length > 0 && value.length <= max ? value : undefined);

/**
 * The signed-in account from ID token claims the client library already verified (nonce, and the
 * token came straight from the token endpoint over TLS: OpenID Connect Core 3.1.3.7). Checks again
 * what this module relies on: `iss` (the configured authority), `aud` (this client), `sub`, `exp`.
 * @throws {OboError} `ERR_OBO_SIGN_IN_FAILED`
 */
export function accountFromIdToken(claims: Record<string, unknown> | undefined, expected: IdTokenExpectations, nowSeconds = Date.now() / 1000): SignedInAccount {
  if (!claims) throw signInFailed('the authority sent no ID token');
  const tid = text(claims.tid, 64);
  const issuer = text(claims.iss);
  const wantedIssuer = tid === undefined ? expected.expectedIssuer : expected.expectedIssuer.replace('{tenantid}', tid);
  if (issuer === undefined || issuer !== wantedIssuer) throw signInFailed('the ID token was issued by another authority');
  const aud = claims.aud;
  if (!(aud === expected.clientId || (Array.isArray(aud) && aud.includes(expected.clientId)))) throw signInFailed('the ID token is for another client');
  const subject = text(claims.sub, 255);
  if (subject === undefined) throw signInFailed('the ID token has no subject');
  if (typeof claims.exp !== 'number' || claims.exp + 300 < nowSeconds) throw signInFailed('the ID token has expired');
  const authTime = typeof claims.auth_time === 'number' ? claims.auth_time : undefined;
  return {
    accountKey: expected.accountKey ?? subject,
    issuer,
    subject,
    sessionId: text(claims.sid, 255),
    objectId: text(claims.oid, 64),
    tenantId: tid,
    name: text(claims.name, 256),
    username: text(claims.preferred_username, 256) ?? text(claims.email, 256),
    authTime,
  };
}
