/** One token request to the identity provider. */
export interface ExchangeRequest {
  /** The user's incoming access token (On-Behalf-Of); absent for app tokens. */
  readonly assertion?: string;
  readonly scopes: readonly string[];
  /** Generic authorities: the RFC 8693 / client-credentials `audience` of the token (Auth0's API identifier, Okta's authorization-server audience, Keycloak's client id). Never on Entra ID. */
  readonly audience?: string;
  /** Generic authorities: the RFC 8707 `resource` of the token, an absolute URI. Never on Entra ID. */
  readonly resource?: string;
  /** Tenant whose authority is asked (a generic authority: its issuer). */
  readonly tenantId: string;
  /** A claims challenge to satisfy (JSON text). */
  readonly claims?: string;
  /** Caller's correlation id, for logs; the provider request uses a unique one. */
  readonly correlationId?: string;
}

/** A token the provider issued, reduced to what callers need. */
export interface ExchangedToken {
  readonly accessToken: string;
  /** Expiry, epoch milliseconds. */
  readonly expiresOn: number;
  readonly scopes: readonly string[];
}

/**
 * The seam between {@link TokenAcquisition} (cache, single flight, the Zero Trust rules) and one
 * identity provider's token endpoint: `MsalTokenExchanger` (Entra ID through msal-node: On-Behalf-Of
 * and client credentials) or `Rfc8693TokenExchanger` (any other authority: RFC 8693 token exchange
 * and client credentials). Both run their requests through `TokenRequestRunner` (deadline, one
 * retry, the 429 gate, cold-start single flight, the invalid_scope breaker). Also the Nest
 * injection token.
 */
export abstract class TokenExchanger {
  /**
   * A token for `request.scopes` On-Behalf-Of the user whose token is `request.assertion`.
   * @throws {OboError} `ERR_OBO_CLAIMS_CHALLENGE`, `ERR_OBO_CONSENT_REQUIRED`, `ERR_OBO_ASSERTION_REJECTED`, `ERR_OBO_PROVIDER_*` ...
   */
  abstract onBehalfOf(request: ExchangeRequest): Promise<ExchangedToken>;

  /**
   * An app-only token (client credentials): on Entra ID for `request.scopes` (one `<resource>/.default`),
   * elsewhere for `request.audience` / `request.resource` with `request.scopes` (possibly none).
   * @throws {OboError} `ERR_OBO_CLIENT_CREDENTIALS_INVALID`, `ERR_OBO_PROVIDER_*` ...
   */
  abstract clientCredentials(request: ExchangeRequest): Promise<ExchangedToken>;
}
