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
 * - `ERR_OBO_NO_USER`: a user token was requested outside a request with an authenticated user (500, a bug in the app).
 * - `ERR_OBO_APP_ONLY_CALLER`: On-Behalf-Of was requested for an app-only caller; OBO needs a user (403).
 * - `ERR_OBO_APP_TOKEN_IN_USER_CONTEXT`: an app-only token was requested while serving a user, without opting in (500, a bug in the app).
 * - `ERR_OBO_CLAIMS_CHALLENGE`: Conditional Access, MFA or CAE needs the user to sign in again with claims (401 `insufficient_claims`).
 * - `ERR_OBO_STEP_UP_REQUIRED`: the authority wants the user to authenticate again, at a higher level (`acr_values`) or more recently (`max_age`) (401 `insufficient_user_authentication`, RFC 9470).
 * - `ERR_OBO_DELEGATION_TOO_DEEP`: the incoming token already carries 5 nested actors (`act`), more than a token exchange accepts; nothing was sent (401 `invalid_token`).
 * - `ERR_OBO_CONSENT_REQUIRED`: the user or an admin must consent to the downstream scopes (403 `insufficient_scope`).
 * - `ERR_OBO_ASSERTION_REJECTED`: the identity provider refused the incoming token for On-Behalf-Of (401 `invalid_token`).
 * - `ERR_OBO_CLIENT_CREDENTIALS_INVALID`: the identity provider refused this API's own credentials (500; fix the configuration).
 * - `ERR_OBO_INVALID_SCOPE`: the identity provider refused the requested scopes (`invalid_scope`) or target (`invalid_target`); not retried, not asked again for 30 s (500; fix the scopes, audience or resource).
 * - `ERR_OBO_PROVIDER_UNAVAILABLE`: the identity provider throttled, failed or was unreachable (503 with `Retry-After`).
 * - `ERR_OBO_PROVIDER_TIMEOUT`: the identity provider did not answer within the deadline (504 with `Retry-After`).
 * - `ERR_OBO_PROVIDER_BAD_RESPONSE`: the identity provider answered something unusable (502).
 * - `ERR_OBO_DOWNSTREAM_FAILED`: the downstream API failed or refused the token (502).
 * - `ERR_OBO_DOWNSTREAM_TIMEOUT`: the downstream API did not answer within its timeout (504).
 * - `ERR_OBO_INTERNAL`: response code for errors that are the server's own (configuration, credentials, app bugs); details are in the log only (500).
 * - `ERR_OBO_CSRF_REJECTED`: a web app's state-changing request (POST, PUT, PATCH, DELETE, sign-out) lacked the session's CSRF token or came from another site (403).
 * - `ERR_OBO_SESSION_STORE_UNAVAILABLE`: the web app's session store (Redis) failed or did not answer in time; sessions fail closed (503 with `Retry-After`).
 * - `ERR_OBO_INTERACTION_REQUIRED`: a web app cannot get the user's token silently (consent for new scopes, a claims challenge, no or revoked refresh token): send the browser to the authority (`InteractionRequiredError`).
 * - `ERR_OBO_SIGN_IN_FAILED`: a web app's sign-in callback was refused: the authority answered an error, or the state, code, PKCE verifier or ID token failed a check (`SignInFailedError`).
 * - `ERR_OBO_LOGOUT_TOKEN_INVALID`: a back-channel logout token failed validation (signature, iss, aud, iat/exp, events, sub/sid, nonce, replayed jti); nobody is signed out (400).
 */
export type OboErrorCode =
  | 'ERR_OBO_CONFIG_INVALID'
  | 'ERR_OBO_TOKEN_MISSING'
  | 'ERR_OBO_INVALID_REQUEST'
  | 'ERR_OBO_TOKEN_INVALID'
  | 'ERR_OBO_TOKEN_EXPIRED'
  | 'ERR_OBO_INSUFFICIENT_SCOPE'
  | 'ERR_OBO_CLIENT_NOT_ALLOWED'
  | 'ERR_OBO_SIGNING_KEYS_UNAVAILABLE'
  | 'ERR_OBO_NO_USER'
  | 'ERR_OBO_APP_ONLY_CALLER'
  | 'ERR_OBO_APP_TOKEN_IN_USER_CONTEXT'
  | 'ERR_OBO_CLAIMS_CHALLENGE'
  | 'ERR_OBO_STEP_UP_REQUIRED'
  | 'ERR_OBO_DELEGATION_TOO_DEEP'
  | 'ERR_OBO_CONSENT_REQUIRED'
  | 'ERR_OBO_ASSERTION_REJECTED'
  | 'ERR_OBO_CLIENT_CREDENTIALS_INVALID'
  | 'ERR_OBO_INVALID_SCOPE'
  | 'ERR_OBO_PROVIDER_UNAVAILABLE'
  | 'ERR_OBO_PROVIDER_TIMEOUT'
  | 'ERR_OBO_PROVIDER_BAD_RESPONSE'
  | 'ERR_OBO_DOWNSTREAM_FAILED'
  | 'ERR_OBO_DOWNSTREAM_TIMEOUT'
  | 'ERR_OBO_INTERACTION_REQUIRED'
  | 'ERR_OBO_SIGN_IN_FAILED'
  | 'ERR_OBO_LOGOUT_TOKEN_INVALID'
  | 'ERR_OBO_INTERNAL'
  | 'ERR_OBO_SESSION_STORE_UNAVAILABLE'
  | 'ERR_OBO_CSRF_REJECTED';
