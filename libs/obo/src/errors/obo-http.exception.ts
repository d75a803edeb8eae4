import { HttpException, HttpStatus } from '@nestjs/common';
import type { OboErrorCode } from './obo-error-code.js';
import { formatBearerChallenge, type BearerChallenge } from './www-authenticate.js';

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

function challenge(params: BearerChallenge): Record<string, string> {
  return { ...NO_STORE, 'WWW-Authenticate': formatBearerChallenge(params) };
}

/** 401 with a bare challenge: no credentials were presented (RFC 6750 §3.1). */
export function tokenMissing(realm?: string): OboHttpException {
  return new OboHttpException(HttpStatus.UNAUTHORIZED, 'ERR_OBO_TOKEN_MISSING', 'A bearer token is required.', challenge({ realm }));
}

const INVALID_REQUEST = 'The request carries a malformed or duplicated access token.';
/** 400 `invalid_request`: malformed `Authorization`, two headers, or two transports. */
export function invalidRequest(realm?: string): OboHttpException {
  return new OboHttpException(
    HttpStatus.BAD_REQUEST,
    'ERR_OBO_INVALID_REQUEST',
    INVALID_REQUEST,
    challenge({ realm, error: 'invalid_request', errorDescription: INVALID_REQUEST }),
  );
}

const INVALID_TOKEN = 'The access token is invalid.';
const EXPIRED_TOKEN = 'The access token has expired.';
/** 401 `invalid_token`, one generic description (expired tokens get their own, so clients refresh). */
export function invalidToken(realm?: string, expired = false, cause?: unknown): OboHttpException {
  const message = expired ? EXPIRED_TOKEN : INVALID_TOKEN;
  return new OboHttpException(
    HttpStatus.UNAUTHORIZED,
    expired ? 'ERR_OBO_TOKEN_EXPIRED' : 'ERR_OBO_TOKEN_INVALID',
    message,
    challenge({ realm, error: 'invalid_token', errorDescription: message }),
    { cause },
  );
}

const INSUFFICIENT_SCOPE = 'The access token lacks the scope or app permission this resource requires.';
/** 403 `insufficient_scope` naming the scopes and app permissions the route accepts. */
export function insufficientScope(accepted: readonly string[], realm?: string): OboHttpException {
  return new OboHttpException(
    HttpStatus.FORBIDDEN,
    'ERR_OBO_INSUFFICIENT_SCOPE',
    INSUFFICIENT_SCOPE,
    challenge({ realm, error: 'insufficient_scope', errorDescription: INSUFFICIENT_SCOPE, scope: accepted.join(' ') || undefined }),
  );
}

const CLIENT_NOT_ALLOWED = 'The calling client application is not allowed.';
/** 403: the token's `azp`/`appid` is not on the configured allow-list. */
export function clientNotAllowed(realm?: string): OboHttpException {
  return new OboHttpException(
    HttpStatus.FORBIDDEN,
    'ERR_OBO_CLIENT_NOT_ALLOWED',
    CLIENT_NOT_ALLOWED,
    challenge({ realm, error: 'insufficient_scope', errorDescription: CLIENT_NOT_ALLOWED }),
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
