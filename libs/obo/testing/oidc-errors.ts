import { TokenEndpointError } from './token-errors.js';

/** The OAuth 2.0 `error` values {@link LocalOidcAuthority}'s token endpoint answers with. */
export type OidcErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'access_denied'
  | 'consent_required'
  | 'insufficient_user_authentication'
  | 'temporarily_unavailable'
  | 'server_error';

/** An RFC 6749 §5.2 error (no AADSTS code): `{ error, error_description, ...extra }` with `status`. */
export function oauthError(status: number, error: OidcErrorCode, description: string, extra: Readonly<Record<string, unknown>> = {}): TokenEndpointError {
  return new TokenEndpointError(status, error, undefined, description, extra);
}

/** The RFC 6749 §5.2 JSON body of `error`. */
export function oauthErrorBody(error: TokenEndpointError): Record<string, unknown> {
  return { error: error.error, error_description: error.text, ...error.extra };
}
