import { HttpException, HttpStatus } from '@nestjs/common';
import type { OboErrorCode } from './obo-error-code.js';
import { formatBearerChallenge, type BearerChallenge, type ChallengeOrigin } from './www-authenticate.js';

/** JSON body of every rejection: a status, a stable code and one generic sentence per class. */
export interface OboErrorBody {
  statusCode: number;
  code: OboErrorCode;
  message: string;
}

/**
 * An HTTP rejection decided by a nestjs-obo guard. It carries the response headers
 * (`WWW-Authenticate`, `Retry-After`, `Cache-Control: no-store`) next to a body that holds
 * nothing from the token, a library or the identity provider.
 */
export class OboHttpException extends HttpException {
  constructor(
    status: number,
    readonly code: OboErrorCode,
    message: string,
    readonly headers: Readonly<Record<string, string>>,
    options?: { cause?: unknown },
  ) {
    super({ statusCode: status, code, message } satisfies OboErrorBody, status, options);
  }
}

const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' } as const;

function challenge(origin: ChallengeOrigin, params: BearerChallenge): Record<string, string> {
  return { ...NO_STORE, 'WWW-Authenticate': formatBearerChallenge({ realm: origin.realm, ...params, resourceMetadata: origin.resourceMetadata }) };
}

/** 401 with a bare challenge: no credentials were presented (RFC 6750 §3.1). */
export function tokenMissing(origin: ChallengeOrigin): OboHttpException {
  return new OboHttpException(HttpStatus.UNAUTHORIZED, 'ERR_OBO_TOKEN_MISSING', 'A bearer token is required.', challenge(origin, {}));
}

const INVALID_REQUEST = 'The request carries a malformed or duplicated access token.';
/** 400 `invalid_request`: malformed `Authorization`, two headers, or two transports. */
export function invalidRequest(origin: ChallengeOrigin): OboHttpException {
  return new OboHttpException(
    HttpStatus.BAD_REQUEST,
    'ERR_OBO_INVALID_REQUEST',
    INVALID_REQUEST,
    challenge(origin, { error: 'invalid_request', errorDescription: INVALID_REQUEST }),
  );
}

const INVALID_TOKEN = 'The access token is invalid.';
const EXPIRED_TOKEN = 'The access token has expired.';
/** 401 `invalid_token`, one generic description (expired tokens get their own, so clients refresh). */
export function invalidToken(origin: ChallengeOrigin, expired = false, cause?: unknown): OboHttpException {
  const message = expired ? EXPIRED_TOKEN : INVALID_TOKEN;
  return new OboHttpException(
    HttpStatus.UNAUTHORIZED,
    expired ? 'ERR_OBO_TOKEN_EXPIRED' : 'ERR_OBO_TOKEN_INVALID',
    message,
    challenge(origin, { error: 'invalid_token', errorDescription: message }),
    { cause },
  );
}

const INSUFFICIENT_SCOPE = 'The access token lacks the scope or app permission this resource requires.';
/** 403 `insufficient_scope` naming the scopes and app permissions the route accepts (as a client requests them). */
export function insufficientScope(accepted: readonly string[], origin: ChallengeOrigin): OboHttpException {
  return new OboHttpException(
    HttpStatus.FORBIDDEN,
    'ERR_OBO_INSUFFICIENT_SCOPE',
    INSUFFICIENT_SCOPE,
    challenge(origin, { error: 'insufficient_scope', errorDescription: INSUFFICIENT_SCOPE, scope: accepted.join(' ') || undefined }),
  );
}

const CLIENT_NOT_ALLOWED = 'The calling client application is not allowed.';
/** 403: the token's `azp`/`appid` is not on the configured allow-list. */
export function clientNotAllowed(origin: ChallengeOrigin): OboHttpException {
  return new OboHttpException(
    HttpStatus.FORBIDDEN,
    'ERR_OBO_CLIENT_NOT_ALLOWED',
    CLIENT_NOT_ALLOWED,
    challenge(origin, { error: 'insufficient_scope', errorDescription: CLIENT_NOT_ALLOWED }),
  );
}

/** 503 with `Retry-After`: keys or metadata cannot be fetched, so no token can be judged. */
export function signingKeysUnavailable(retryAfterSeconds: number): OboHttpException {
  return new OboHttpException(
    HttpStatus.SERVICE_UNAVAILABLE,
    'ERR_OBO_SIGNING_KEYS_UNAVAILABLE',
    'Access tokens cannot be validated right now; retry later.',
    { ...NO_STORE, 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) },
  );
}

const INSUFFICIENT_AUTHENTICATION = 'The user must authenticate again to meet the authentication requirements.';

/**
 * 401 for a token whose user authentication falls short of the route's (RFC 9470 §3):
 * `error="insufficient_user_authentication"` with `acr_values` and/or `max_age`; at an Entra ID
 * authority (`entra` given) Entra's claims challenge instead, `error="insufficient_claims"` with
 * `claims` asking for one of the authentication context ids in `acrs`, the authorize URI and the
 * client id, the form msal-based clients act on.
 */
export function insufficientUserAuthentication(
  requirement: { readonly acrValues?: readonly string[]; readonly maxAge?: number },
  origin: ChallengeOrigin,
  entra?: { readonly authorizationUri: string; readonly clientId: string },
): OboHttpException {
  const params: BearerChallenge = entra
    ? { authorizationUri: entra.authorizationUri, clientId: entra.clientId, error: 'insufficient_claims', errorDescription: INSUFFICIENT_AUTHENTICATION, claims: acrsClaimsRequest(requirement.acrValues ?? []) }
    : { error: 'insufficient_user_authentication', errorDescription: INSUFFICIENT_AUTHENTICATION, acrValues: requirement.acrValues?.join(' '), maxAge: requirement.maxAge };
  return new OboHttpException(HttpStatus.UNAUTHORIZED, entra ? 'ERR_OBO_CLAIMS_CHALLENGE' : 'ERR_OBO_STEP_UP_REQUIRED', INSUFFICIENT_AUTHENTICATION, challenge(origin, params));
}

/** Base64 of `{"access_token":{"acrs":{"essential":true,"value":"c1"}}}` (`values` for several), Entra's form. */
function acrsClaimsRequest(acrs: readonly string[]): string {
  const acrsRequest = acrs.length === 1 ? { essential: true, value: acrs[0] } : { essential: true, values: acrs };
  return Buffer.from(JSON.stringify({ access_token: { acrs: acrsRequest } }), 'utf8').toString('base64');
}
