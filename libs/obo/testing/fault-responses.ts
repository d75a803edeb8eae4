import { aadstsText, entraErrorBody, invalidClient, invalidGrant, TokenEndpointError } from './token-errors.js';
import type { BadTokenResponseVariant, TokenFault } from './token-faults.js';

/** Body of a 200 token response that is not valid JSON (`malformed-json` fault). */
export const MALFORMED_TOKEN_JSON = '{"token_type":"Bearer","expires_in":3599,"access_token":"eyJ0eXAiOiJKV1Qi';

/** `expires_in` of the `expires-in-absurd` variant: about 100 years. */
export const ABSURD_EXPIRES_IN = 3_153_600_000;

/** The error an error-shaped fault answers with, or undefined for the other kinds. */
export function faultError(fault: TokenFault, clientId: string): TokenEndpointError | undefined {
  switch (fault.kind) {
    case 'claims-challenge': {
      const codes = fault.errorCodes ?? [50076];
      const code = codes[0] ?? 50076;
      return new TokenEndpointError(400, fault.error ?? 'invalid_grant', code, aadstsText(code), {
        error_codes: codes,
        ...(fault.suberror !== undefined ? { suberror: fault.suberror } : {}),
        claims: fault.claims,
      });
    }
    case 'consent-required':
      return new TokenEndpointError(400, 'invalid_grant', 65001, aadstsText(65001), { suberror: 'consent_required' });
    case 'invalid-client':
      return invalidClient(clientId);
    case 'invalid-grant':
      return invalidGrant(fault.code);
    default:
      return undefined;
  }
}

/** Entra-like body of a `status` fault without an explicit body. */
export function statusFaultBody(status: number, correlationId: string): Record<string, unknown> {
  if (status === 429) {
    return entraErrorBody('temporarily_unavailable', 50196, 'The server is temporarily throttling requests; retry later.', correlationId);
  }
  if (status === 503 || status === 504) {
    return entraErrorBody('temporarily_unavailable', 90033, 'A transient error has occurred. Please try again.', correlationId);
  }
  if (status >= 500) return entraErrorBody('server_error', 90055, 'The server encountered an unexpected error.', correlationId);
  return entraErrorBody('invalid_request', 90014, `Injected status ${status}.`, correlationId);
}

/** A copy of a successful token response broken the way `variant` says. */
export function spoilTokenResponse(body: Readonly<Record<string, unknown>>, variant: BadTokenResponseVariant): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...body };
  switch (variant) {
    case 'missing-access-token':
      delete copy.access_token;
      break;
    case 'token-type-n_a':
      copy.token_type = 'N_A';
      break;
    case 'expires-in-zero':
      copy.expires_in = 0;
      if ('ext_expires_in' in copy) copy.ext_expires_in = 0;
      break;
    case 'expires-in-absurd':
      copy.expires_in = ABSURD_EXPIRES_IN;
      if ('ext_expires_in' in copy) copy.ext_expires_in = ABSURD_EXPIRES_IN;
      break;
  }
  return copy;
}
