import { AuthorizationResponseError, ClientError, ResponseBodyError, WWWAuthenticateChallengeError } from 'openid-client';
import { OboError, ProviderUnavailableError } from '../../errors/obo.error.js';
import { DEFAULT_RETRY_AFTER_SECONDS } from '../../outbound/token-acquisition/token-request-failure.js';
import { InteractionRequiredError } from '../errors/interaction-required.error.js';
import { SignInFailedError } from '../errors/sign-in-failed.error.js';

/** What the authority answered, as openid-client reports it: an OAuth `error` (RFC 6749 §4.1.2.1, §5.2) and the HTTP status. */
interface OAuthAnswer {
  readonly error: string;
  /** Undefined for an error in the authorization response (the browser's redirect). */
  readonly status?: number;
  readonly retryAfterSeconds?: number;
}

/** The OAuth error code, fit for a log line and an error field: printable ASCII, at most 64 characters. */
function printable(code: string): string {
  return code.slice(0, 64).replace(/[^\x20-\x7e]/g, '_');
}

function retryAfter(response: Response | undefined): number | undefined {
  const value = Number(response?.headers.get('retry-after') ?? Number.NaN);
  return Number.isInteger(value) && value >= 0 && value <= 3600 ? value : undefined;
}

/** The message of the deepest `Error` in `error`'s cause chain (at most 5 deep), at most 120 characters. */
function innermostMessage(error: Error): string {
  let message = error.message;
  let current: unknown = error.cause;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++, current = current.cause) message = current.message;
  return message.slice(0, 120);
}

/** The authority's OAuth answer inside an openid-client error, if that is what it is. */
function oauthAnswerOf(error: unknown): OAuthAnswer | undefined {
  if (error instanceof ResponseBodyError) return { error: printable(error.error), status: error.status, retryAfterSeconds: retryAfter(error.response) };
  if (error instanceof AuthorizationResponseError) return { error: printable(error.error) };
  if (error instanceof WWWAuthenticateChallengeError) {
    const code = error.cause.map((challenge) => challenge.parameters.error).find((value) => typeof value === 'string');
    return { error: printable(code ?? 'invalid_token'), status: error.status, retryAfterSeconds: retryAfter(error.response) };
  }
  return undefined;
}

/**
 * The authority could not be reached or did not answer in time: fetch's `TypeError` (refused,
 * reset, TLS) or an abort by openid-client's / jose's deadline, possibly wrapped in a `ClientError`.
 */
export function transportFailure(error: unknown): ProviderUnavailableError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++, current = current.cause) {
    if (current.name === 'TimeoutError' || current.name === 'AbortError' || current.name === 'JWKSTimeout') {
      return new ProviderUnavailableError('ERR_OBO_PROVIDER_TIMEOUT', DEFAULT_RETRY_AFTER_SECONDS, 'The identity provider did not answer in time; retry later.', { cause: error });
    }
    if (current instanceof TypeError && current.message === 'fetch failed') {
      return new ProviderUnavailableError('ERR_OBO_PROVIDER_UNAVAILABLE', DEFAULT_RETRY_AFTER_SECONDS, 'The identity provider is unreachable; retry later.', { cause: error });
    }
  }
  return undefined;
}

/** Answers every request fails with alike: throttling, the authority's own failures, our credentials. */
function commonFailure(answer: OAuthAnswer, cause: unknown): OboError | undefined {
  if (answer.status === 429 || (answer.status !== undefined && answer.status >= 500)) {
    const why = answer.status === 429 ? 'throttled' : `status ${answer.status}`;
    return new ProviderUnavailableError('ERR_OBO_PROVIDER_UNAVAILABLE', answer.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS, `The identity provider is unavailable (${why}); retry later.`, { cause });
  }
  if (answer.error === 'invalid_client' || answer.error === 'unauthorized_client') {
    return new OboError('ERR_OBO_CLIENT_CREDENTIALS_INVALID', `The identity provider refused this web app's client (${answer.error}); check clientId, the client credential and that the client may use the authorization-code and refresh-token grants.`, { cause });
  }
  return undefined;
}

/** Transport failures and common answers first, then the caller's meaning of the authority's answer, or of anything else. */
function classified(error: unknown, onAnswer: (answer: OAuthAnswer) => OboError, otherwise: () => OboError): OboError {
  const transport = transportFailure(error);
  if (transport) return transport;
  const answer = oauthAnswerOf(error);
  if (!answer) return otherwise();
  return commonFailure(answer, error) ?? onAnswer(answer);
}

/**
 * A failed code redemption: unreachable -> `ERR_OBO_PROVIDER_UNAVAILABLE` / `_TIMEOUT`; our
 * credentials -> `ERR_OBO_CLIENT_CREDENTIALS_INVALID`; everything else (an error in the callback, a
 * refused code or verifier, a state, nonce or ID token that fails a check) -> {@link SignInFailedError}.
 */
export function signInFailure(error: unknown): OboError {
  return classified(
    error,
    (answer) => {
      const where = answer.status === undefined ? 'in the sign-in response' : `to the code redemption (${answer.status})`;
      return new SignInFailedError(`The authority answered ${answer.error} ${where}; the user must sign in again.`, answer.error, { cause: error });
    },
    () => {
      // openid-client's own checks (state, nonce, iss, aud, exp, signature...): its code, and the
      // innermost message (oauth4webapi's, e.g. "JWT signature verification failed"; never a value).
      const check = error instanceof ClientError && typeof error.code === 'string' ? ` (${printable(error.code)}: ${printable(innermostMessage(error))})` : '';
      return new SignInFailedError(`The sign-in response failed a check${check}; the user must sign in again.`, undefined, { cause: error });
    },
  );
}

/** OAuth errors of a refresh that mean the user must come back to the authority (OpenID Connect Core 3.1.2.6, RFC 6749 §5.2). */
const INTERACTION: Readonly<Record<string, 'consent' | 'login'>> = {
  invalid_grant: 'login',
  interaction_required: 'login',
  login_required: 'login',
  account_selection_required: 'login',
  consent_required: 'consent',
  // RFC 6749 §6: a refresh may not widen the grant; scopes or a resource never granted need the user's consent.
  invalid_scope: 'consent',
  invalid_target: 'consent',
};

/**
 * A failed refresh: the user must interact -> {@link InteractionRequiredError}; unreachable, 429, 5xx
 * -> `ERR_OBO_PROVIDER_UNAVAILABLE` / `_TIMEOUT`; our credentials -> `ERR_OBO_CLIENT_CREDENTIALS_INVALID`;
 * anything else -> `ERR_OBO_PROVIDER_BAD_RESPONSE`.
 */
export function refreshFailure(error: unknown, scopes: readonly string[]): OboError {
  return classified(
    error,
    (answer) => {
      const reason = INTERACTION[answer.error];
      if (reason) return new InteractionRequiredError(reason, scopes, undefined, { cause: error });
      return new OboError('ERR_OBO_PROVIDER_BAD_RESPONSE', `The identity provider refused the refresh with ${answer.error} (${answer.status ?? 'no status'}).`, { cause: error });
    },
    () => new OboError('ERR_OBO_PROVIDER_BAD_RESPONSE', 'The identity provider answered the refresh with something unusable.', { cause: error }),
  );
}

/** Whether the refresh token itself is dead (delete it rather than try it again). */
export function refreshTokenRefused(error: OboError): boolean {
  return error instanceof InteractionRequiredError && error.reason === 'login';
}
