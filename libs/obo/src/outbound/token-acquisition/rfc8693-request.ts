import type { ResolvedTokenExchange } from '../../options/resolve-outbound-options.js';
import type { ExchangeRequest } from './token-exchanger.js';

/** RFC 8693 §2.1: the token-exchange grant. */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';

/** `audience` (RFC 8693) and `resource` (RFC 8707) when given, and `scope` space-joined when there is any. */
function appendTarget(form: URLSearchParams, request: ExchangeRequest): void {
  if (request.audience !== undefined) form.set('audience', request.audience);
  if (request.resource !== undefined) form.set('resource', request.resource);
  if (request.scopes.length > 0) form.set('scope', request.scopes.join(' '));
}

/**
 * The body of an RFC 8693 On-Behalf-Of request (§2.1): the grant, the user's validated token as
 * `subject_token` with its configured type, `requested_token_type` unless configured away, then the
 * target. Client authentication is added separately.
 */
export function tokenExchangeForm(request: ExchangeRequest & { readonly assertion: string }, exchange: ResolvedTokenExchange): URLSearchParams {
  const form = new URLSearchParams();
  form.set('grant_type', TOKEN_EXCHANGE_GRANT);
  form.set('subject_token', request.assertion);
  form.set('subject_token_type', exchange.subjectTokenType);
  if (exchange.requestedTokenType !== undefined) form.set('requested_token_type', exchange.requestedTokenType);
  appendTarget(form, request);
  return form;
}

/** The body of a client-credentials request (RFC 6749 §4.4) for the target. */
export function clientCredentialsForm(request: ExchangeRequest): URLSearchParams {
  const form = new URLSearchParams();
  form.set('grant_type', 'client_credentials');
  appendTarget(form, request);
  return form;
}
