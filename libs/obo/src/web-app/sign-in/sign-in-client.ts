/**
 * The seam between the web app's sign-in routes and the library that speaks the protocol to the
 * authority: msal-node for Entra ID (`MsalSignInClient`), openid-client for any other OpenID Connect
 * authority (`OpenIdSignInClient`). Everything provider-neutral (sessions, state, return URLs,
 * challenges, CSRF) lives outside it. Internal.
 */

/** The signed-in user as the web app keeps it in the session: identifiers and display names, never a token. */
export interface SignedInAccount {
  /**
   * The user's key at this authority, also the partition key of their token cache: Entra's
   * `homeAccountId` (`<oid>.<tid>`), else `<sub>` (one issuer per module).
   */
  readonly accountKey: string;
  /** `iss` of the ID token. */
  readonly issuer: string;
  /** `sub` of the ID token. */
  readonly subject: string;
  /** `sid` of the ID token (the authority's session), when it sent one: back-channel logout names it. */
  readonly sessionId?: string;
  /** Entra `oid` / `tid`, when present. */
  readonly objectId?: string;
  readonly tenantId?: string;
  /** `name` and `preferred_username` (or `email`), for display. */
  readonly name?: string;
  readonly username?: string;
  /** `auth_time` (seconds since the epoch), when the authority sent it. */
  readonly authTime?: number;
}

/** One authorization request in flight: what the callback must find to accept a code. Kept server-side in the session. */
export interface PendingAuthorization {
  /** `state` sent to the authority (32 random bytes, base64url). */
  readonly state: string;
  /** `nonce` sent to the authority; the ID token must carry it. */
  readonly nonce: string;
  /** PKCE `code_verifier` (RFC 7636, S256); only its challenge left the server. */
  readonly codeVerifier: string;
  /** Scopes asked for (besides `openid profile offline_access`). */
  readonly scopes: readonly string[];
  /** The claims request sent (JSON text), when a challenge asked for one. */
  readonly claims?: string;
  /** OpenID Connect `acr_values` sent (space-separated), when a step-up challenge asked for them. */
  readonly acrValues?: string;
  /** OpenID Connect `max_age` sent (seconds): the ID token's `auth_time` must be at most this old. */
  readonly maxAge?: number;
  /** Local path to return to after sign-in (already checked: starts with one `/`). */
  readonly returnUrl: string;
  /** When it was made (ms since the epoch); refused after 10 minutes. */
  readonly createdAt: number;
}

/** What to ask the authority for at its authorization endpoint. */
export interface AuthorizationUrlRequest {
  readonly pending: PendingAuthorization;
  /** `prompt` (OpenID Connect Core 3.1.2.1). */
  readonly prompt?: 'login' | 'consent' | 'select_account' | 'none';
  /** `login_hint`: the signed-in user's username when re-authenticating for a challenge. */
  readonly loginHint?: string;
}

/** An access token for a downstream API, from the user's token cache or a refresh. */
export interface AcquiredUserToken {
  readonly accessToken: string;
  /** Expiry, seconds since the epoch. */
  readonly expiresOn: number;
  /** Scopes the authority granted. */
  readonly scopes: readonly string[];
  /** True when it came from the cache without a token request. */
  readonly fromCache: boolean;
}

/** A silent token request for a signed-in user. */
export interface SilentTokenRequest {
  readonly account: SignedInAccount;
  readonly scopes: readonly string[];
  /** A claims request (JSON text) the token must satisfy: skips the cache. */
  readonly claims?: string;
  /** Skip cached access tokens (a downstream API refused the cached one). */
  readonly forceRefresh?: boolean;
}

/** The result of redeeming an authorization code. */
export interface SignInResult {
  readonly account: SignedInAccount;
}

/** Claims of a validated OpenID Connect back-channel logout token: who to sign out. */
export interface LogoutTokenSubject {
  readonly issuer: string;
  readonly subject?: string;
  readonly sessionId?: string;
}

/**
 * The protocol half of a web app's sign-in. Implementations keep every refresh token and access
 * token in the user's own partition of the {@link WebAppStore} (`tokens:` keys), never in the
 * session and never in another user's partition.
 */
export abstract class SignInClient {
  /**
   * The authority's authorization endpoint URL for `request`: `response_type=code`, the configured
   * `redirect_uri`, `scope` (openid profile offline_access + scopes), `state`, `nonce`,
   * `code_challenge` (S256 of the verifier), `code_challenge_method=S256`, `response_mode=query`,
   * plus `claims`, `acr_values`, `max_age`, `prompt`, `login_hint` when given.
   */
  abstract authorizationUrl(request: AuthorizationUrlRequest): Promise<string>;

  /**
   * Redeems the code of `callback` (the full callback URL the browser arrived at) for `pending`:
   * checks `state` (the caller found `pending` by it), the ID token (signature, `iss`, `aud`, `exp`,
   * `nonce`), sends the PKCE verifier, and stores the user's tokens in their partition.
   * @throws {OboError} `ERR_OBO_SIGN_IN_FAILED` when the authority answered an error or anything fails a check
   */
  abstract redeemCode(callback: URL, pending: PendingAuthorization): Promise<SignInResult>;

  /**
   * An access token for `request.scopes` from the user's cache, or by refresh token.
   * @throws {InteractionRequiredError} `ERR_OBO_INTERACTION_REQUIRED` (consent, claims challenge, no or revoked refresh token)
   * @throws {OboError} provider codes (`ERR_OBO_PROVIDER_UNAVAILABLE`, ...) as TokenAcquisition does
   */
  abstract acquireTokenSilent(request: SilentTokenRequest): Promise<AcquiredUserToken>;

  /**
   * The authority's `end_session_endpoint` URL for `account`, with `client_id` and (when configured)
   * `post_logout_redirect_uri`; never an `id_token_hint` (no token in a URL). `undefined` when it has none.
   */
  abstract endSessionUrl(account: SignedInAccount): Promise<string | undefined>;

  /** Deletes every token of `account` (its whole partition). */
  abstract removeAccount(account: SignedInAccount): Promise<void>;

  /**
   * Validates an OpenID Connect Back-Channel Logout 1.0 logout token (section 2.6): signature by the
   * authority's keys, `iss`, `aud` = client id, `iat`/`exp`, the back-channel logout event, `sub`
   * and/or `sid`, no `nonce`, `jti` not seen before.
   * @throws {OboError} `ERR_OBO_LOGOUT_TOKEN_INVALID`
   */
  abstract validateLogoutToken(logoutToken: string): Promise<LogoutTokenSubject>;
}
