/** One token request to the identity provider. */
export interface ExchangeRequest {
  /** The user's incoming access token (On-Behalf-Of); absent for app tokens. */
  readonly assertion?: string;
  readonly scopes: readonly string[];
  /** Tenant whose authority is asked. */
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
 * identity provider's token endpoint. `MsalTokenExchanger` (Entra ID through msal-node: On-Behalf-Of
 * and client credentials) is the implementation today; an RFC 8693 token-exchange implementation
 * for other authorities is the next (issue 10). Also the Nest injection token.
 */
export abstract class TokenExchanger {
  /**
   * A token for `request.scopes` On-Behalf-Of the user whose token is `request.assertion`.
   * @throws {OboError} `ERR_OBO_CLAIMS_CHALLENGE`, `ERR_OBO_CONSENT_REQUIRED`, `ERR_OBO_ASSERTION_REJECTED`, `ERR_OBO_PROVIDER_*` ...
   */
  abstract onBehalfOf(request: ExchangeRequest): Promise<ExchangedToken>;

  /**
   * An app-only token (client credentials) for `request.scopes` (one `<resource>/.default`).
   * @throws {OboError} `ERR_OBO_CLIENT_CREDENTIALS_INVALID`, `ERR_OBO_PROVIDER_*` ...
   */
  abstract clientCredentials(request: ExchangeRequest): Promise<ExchangedToken>;
}
