import { AuthError, InteractionRequiredAuthError } from '@azure/msal-node';
import { ClaimsChallengeError, OboError, ScopedOboError } from '../../errors/obo.error.js';
import type { ProviderAnswer, ProviderCall } from './provider-call.js';
import { DEFAULT_RETRY_AFTER_SECONDS as DEFAULT_RETRY_AFTER, timeoutFailure, unavailableFailure as unavailable, type ProviderFailure } from './token-request-failure.js';

export type { ProviderFailure } from './token-request-failure.js';

const CONSENT_CODES = new Set([65001, 65004]);
const ASSERTION_CODES = new Set([500133, 50013, 50173, 50132]);
const CLIENT_CODES = new Set([7000215, 7000222, 700016, 700027, 7000112]);
/** AADSTS700024: "Client assertion is not within its valid time range". */
const ASSERTION_TIME_CODE = 700024;
/** `invalid_scope` answers: unknown permission (70011), several resources (28000), client credentials without `.default` (1002012). */
const SCOPE_CODES = new Set([70011, 28000, 1002012]);

function fromAnswer(answer: ProviderAnswer, scopes: readonly string[], cause: unknown): ProviderFailure {
  const has = (codes: ReadonlySet<number>) => answer.errorCodes.some((c) => codes.has(c));
  if (answer.status === 429) return unavailable('throttled', answer.retryAfterSeconds ?? DEFAULT_RETRY_AFTER, cause, true, true);
  if (answer.status >= 500) return unavailable(`status ${answer.status}`, answer.retryAfterSeconds ?? DEFAULT_RETRY_AFTER, cause, true);
  const error = answer.error;
  // Conditional Access / MFA: msal keeps `claims` only for some shapes, we keep it for all.
  if (answer.claims && (error === 'invalid_grant' || error === 'interaction_required')) {
    return { error: new ClaimsChallengeError(answer.claims, scopes, { cause }), retryable: false, throttled: false };
  }
  if (error === 'consent_required' || has(CONSENT_CODES)) {
    return { error: new ScopedOboError('ERR_OBO_CONSENT_REQUIRED', scopes, 'The user or an admin must consent to the downstream scopes.', { cause }), retryable: false, throttled: false };
  }
  if (error === 'invalid_scope' || has(SCOPE_CODES)) {
    const code = answer.errorCodes.length > 0 ? `, AADSTS${answer.errorCodes[0]}` : '';
    const message = `The identity provider refused the scopes "${scopes.join(' ')}" (${error ?? 'invalid_scope'}${code}); fix them in downstreamApis or the getAccessToken call: one resource per request, ".default" alone, permissions the resource exposes.`;
    return { error: new OboError('ERR_OBO_INVALID_SCOPE', message, { cause }), retryable: false, throttled: false };
  }
  if (answer.errorCodes.includes(ASSERTION_TIME_CODE)) {
    const message = 'The identity provider refused this API\u2019s client assertion as expired or not yet valid (AADSTS700024): make the clientAssertion callback or federated token file provide a current assertion, and check the clocks of this machine and of the assertion\u2019s issuer.';
    return { error: new OboError('ERR_OBO_CLIENT_CREDENTIALS_INVALID', message, { cause }), retryable: false, throttled: false, assertionExpired: true };
  }
  if (error === 'invalid_client' || error === 'unauthorized_client' || has(CLIENT_CODES)) {
    return { error: new OboError('ERR_OBO_CLIENT_CREDENTIALS_INVALID', 'The identity provider refused this API\u2019s client credentials; check the client secret, certificate or assertion.', { cause }), retryable: false, throttled: false };
  }
  if (error === 'invalid_grant' || error === 'interaction_required' || has(ASSERTION_CODES)) {
    return { error: new OboError('ERR_OBO_ASSERTION_REJECTED', 'The identity provider refused the incoming token; the client must get a new one.', { cause }), retryable: false, throttled: false };
  }
  return { error: new OboError('ERR_OBO_PROVIDER_BAD_RESPONSE', `The identity provider answered ${answer.status} ${error ?? 'without an error code'}.`, { cause }), retryable: false, throttled: false };
}

/**
 * Turns what happened during one attempt into a typed error. The raw answer seen by our network
 * client wins over msal's error class, which loses `claims` for `invalid_grant` without a suberror.
 */
export function classifyProviderFailure(call: ProviderCall, cause: unknown, scopes: readonly string[], deadlineExpired: boolean): ProviderFailure {
  if (deadlineExpired || call.transportFailure === 'timeout') return timeoutFailure(cause);
  if (call.lastErrorAnswer) return fromAnswer(call.lastErrorAnswer, scopes, cause);
  if (call.transportFailure === 'network') return unavailable('unreachable', DEFAULT_RETRY_AFTER, cause, true);
  if (call.transportFailure === 'bad-response') {
    return { error: new OboError('ERR_OBO_PROVIDER_BAD_RESPONSE', 'The identity provider answered with an unusable body.', { cause }), retryable: false, throttled: false };
  }
  if (cause instanceof InteractionRequiredAuthError && cause.claims) {
    return { error: new ClaimsChallengeError(cause.claims, scopes, { cause }), retryable: false, throttled: false };
  }
  if (cause instanceof OboError) return { error: cause, retryable: false, throttled: false };
  // msal answered from its own state (no request was made) or failed parsing: not the caller's fault.
  const detail = cause instanceof AuthError ? cause.errorCode : 'unexpected error';
  return { error: new OboError('ERR_OBO_PROVIDER_BAD_RESPONSE', `Token acquisition failed (${detail}).`, { cause }), retryable: false, throttled: false };
}
