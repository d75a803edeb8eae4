/**
 * Stable error codes of nestjs-obo. Switch on these, never on messages.
 *
 * - `ERR_OBO_CONFIG_INVALID`: a module option is missing or wrong; the app does not start.
 * - `ERR_OBO_TOKEN_MISSING`: no bearer token was presented (401, bare `Bearer` challenge).
 * - `ERR_OBO_INVALID_REQUEST`: the token was sent malformed, twice, or by two methods (400).
 * - `ERR_OBO_TOKEN_INVALID`: the token failed validation (401 `invalid_token`).
 * - `ERR_OBO_TOKEN_EXPIRED`: the token is correctly signed but expired (401 `invalid_token`).
 * - `ERR_OBO_INSUFFICIENT_SCOPE`: the token lacks every scope or app permission the route accepts (403).
 * - `ERR_OBO_CLIENT_NOT_ALLOWED`: the calling client application is not on the allow-list (403).
 * - `ERR_OBO_SIGNING_KEYS_UNAVAILABLE`: the authority's metadata or signing keys cannot be fetched (503).
 */
export type OboErrorCode =
  | 'ERR_OBO_CONFIG_INVALID'
  | 'ERR_OBO_TOKEN_MISSING'
  | 'ERR_OBO_INVALID_REQUEST'
  | 'ERR_OBO_TOKEN_INVALID'
  | 'ERR_OBO_TOKEN_EXPIRED'
  | 'ERR_OBO_INSUFFICIENT_SCOPE'
  | 'ERR_OBO_CLIENT_NOT_ALLOWED'
  | 'ERR_OBO_SIGNING_KEYS_UNAVAILABLE';
