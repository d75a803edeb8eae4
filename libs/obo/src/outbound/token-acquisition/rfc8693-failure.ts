import { OboError, ScopedOboError, StepUpRequiredError } from '../../errors/obo.error.js';
import { readStepUpParams } from '../../errors/step-up-params.js';
import type { TokenEndpointAnswer } from './token-endpoint-post.js';
import type { ExchangeRequest } from './token-exchanger.js';
import { DEFAULT_RETRY_AFTER_SECONDS, refusal, unavailableFailure, type ProviderFailure } from './token-request-failure.js';

/** Which grant was asked: the user's token exchange, or client credentials for this API itself. */
export type GrantKind = 'exchange' | 'app';

/**
 * `invalid_request` about the subject token: RFC 8693 §2.2.2 sends a rejected `subject_token` as
 * `invalid_request` (Keycloak: "Invalid token"; Auth0: "Delegation chain ... depth exceeds"). Our own
 * request mistakes (a token type, the requested audience) stay configuration errors.
 */
const ABOUT_SUBJECT_TOKEN = /subject[ _-]?token|\b(invalid|expired|revoked|inactive|malformed)\b[^.]{0,20}\btoken\b|\btoken\b[^.]{0,20}\b(invalid|expired|revoked|inactive|not active|malformed)\b|delegation chain|\bact\b/i;
const ABOUT_OUR_REQUEST = /token[ _-]?type|actor[ _-]?token|requested|audience|resource|scope/i;

/** The error code and description, fit for a log line (printable ASCII, bounded); never reflected to a client. */
function described(body: Readonly<Record<string, unknown>>): string {
  const text = (value: unknown, max: number) => (typeof value === 'string' ? value.slice(0, max).replace(/[^\x20-\x7e]/g, '_') : undefined);
  const error = text(body.error, 64) ?? 'no error code';
  const description = text(body.error_description, 200);
  return description === undefined ? error : `${error}: ${JSON.stringify(description)}`;
}

function target(request: ExchangeRequest): string {
  const parts = [request.audience === undefined ? undefined : `audience "${request.audience}"`, request.resource === undefined ? undefined : `resource "${request.resource}"`];
  return parts.filter((p) => p !== undefined).join(' and ') || 'no audience or resource';
}

/**
 * Turns a token endpoint's error answer (RFC 6749 §5.2, RFC 8693 §2.2.2) into what our client can
 * act on:
 * - 429 and 5xx: the provider's trouble, 503 with its `Retry-After` (429 also closes the gate);
 * - `invalid_grant`, or `invalid_request` about the subject token: the user's token was refused,
 *   401 `invalid_token` (for client credentials, our credentials: 500);
 * - `insufficient_user_authentication` (RFC 9470) with `acr_values` / `max_age`: relayed as a 401 step-up;
 * - `consent_required`, `access_denied`: 403 `insufficient_scope`;
 * - `invalid_scope`, `invalid_target`: our scopes or target, 500 and the breaker;
 * - `invalid_client`, `unauthorized_client`: our credentials or the client's rights, 500;
 * - `unsupported_grant_type` and other `invalid_request`: our configuration, 500;
 * - anything else: 502.
 */
export function classifyTokenEndpointError(answer: TokenEndpointAnswer, request: ExchangeRequest, kind: GrantKind, cause?: unknown): ProviderFailure {
  const { status, body } = answer;
  if (status === 429) return unavailableFailure('throttled', answer.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS, cause, true, true);
  if (status >= 500) return unavailableFailure(`status ${status}`, answer.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS, cause, true);
  const error = typeof body.error === 'string' ? body.error : undefined;
  const description = typeof body.error_description === 'string' ? body.error_description : '';
  const user = kind === 'exchange';
  const credentials = (why: string) =>
    refusal(new OboError('ERR_OBO_CLIENT_CREDENTIALS_INVALID', `The identity provider refused this API\u2019s ${why} (${described(body)}); check clientId, the client credential, clientAuthentication, and that the client may use this grant.`, { cause }));
  const configuration = () =>
    refusal(new OboError('ERR_OBO_CONFIG_INVALID', `The identity provider refused the ${user ? 'token-exchange' : 'client-credentials'} request (${described(body)}); check tokenExchange, the downstream API's audience/resource and scopes, and the client's settings at the authority.`, { cause }));
  switch (error) {
    case 'insufficient_user_authentication':
      if (!user) break;
      return refusal(new StepUpRequiredError(...stepUp(body), { cause }));
    case 'invalid_grant':
      return user ? assertionRejected(cause) : credentials('client credentials');
    case 'invalid_request':
      return user && ABOUT_SUBJECT_TOKEN.test(description) && !ABOUT_OUR_REQUEST.test(description) ? assertionRejected(cause) : configuration();
    case 'consent_required':
    case 'access_denied':
      if (!user) return credentials('access to the target');
      return refusal(new ScopedOboError('ERR_OBO_CONSENT_REQUIRED', request.scopes, 'The authority refused to issue a token for this user and target: consent or access is missing.', { cause }));
    case 'invalid_scope':
    case 'invalid_target': {
      const what = error === 'invalid_scope' ? `the scopes "${request.scopes.join(' ')}" for ${target(request)}` : target(request);
      const message = `The identity provider refused ${what} (${described(body)}); fix the downstream API's audience, resource or scopes, or the getAccessToken call.`;
      return refusal(new OboError('ERR_OBO_INVALID_SCOPE', message, { cause }));
    }
    case 'invalid_client':
      return credentials('client credentials');
    case 'unauthorized_client':
      return credentials(`use of the ${user ? 'token-exchange' : 'client-credentials'} grant`);
    case 'unsupported_grant_type':
      return configuration();
  }
  return refusal(new OboError('ERR_OBO_PROVIDER_BAD_RESPONSE', `The identity provider answered ${status} ${error === undefined ? 'without an error code' : described(body)}.`, { cause }));
}

function assertionRejected(cause: unknown): ProviderFailure {
  return refusal(new OboError('ERR_OBO_ASSERTION_REJECTED', 'The identity provider refused the incoming token for the exchange; the client must get a new one.', { cause }));
}

function stepUp(body: Readonly<Record<string, unknown>>): [string | undefined, number | undefined] {
  const { acrValues, maxAge } = readStepUpParams(body.acr_values, body.max_age);
  return [acrValues, maxAge];
}
