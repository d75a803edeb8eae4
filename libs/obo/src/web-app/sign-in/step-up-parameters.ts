import { SignInFailedError } from '../errors/sign-in-failed.error.js';
import type { PendingAuthorization, SignedInAccount } from './sign-in-client.js';

/** Clock skew allowed on `auth_time` against `max_age`, in seconds (the inbound validator's default). */
const AUTH_TIME_TOLERANCE_SECONDS = 60;

/** OpenID Connect Core 3.1.2.1 `acr_values` and `max_age` of a pending authorization, as query parameters. */
export function stepUpParameters(pending: PendingAuthorization): Record<string, string> {
  return {
    ...(pending.acrValues === undefined ? {} : { acr_values: pending.acrValues }),
    ...(pending.maxAge === undefined ? {} : { max_age: String(pending.maxAge) }),
  };
}

/**
 * When `max_age` was sent, the ID token must say when the user authenticated, and no longer ago than
 * that (OpenID Connect Core 3.1.3.7 step 13): an authority that ignored `max_age` must not satisfy a
 * step-up.
 * @throws {SignInFailedError} `ERR_OBO_SIGN_IN_FAILED`
 */
export function checkAuthTime(account: SignedInAccount, pending: PendingAuthorization, nowSeconds: number): void {
  if (pending.maxAge === undefined) return;
  const authTime = account.authTime;
  if (authTime === undefined || authTime > nowSeconds + AUTH_TIME_TOLERANCE_SECONDS || nowSeconds - authTime > pending.maxAge + AUTH_TIME_TOLERANCE_SECONDS) {
    throw new SignInFailedError('The ID token does not show an authentication as recent as max_age asked for; the user must sign in again.');
  }
}
