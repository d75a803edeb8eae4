import { Inject, Injectable } from '@nestjs/common';
import { AcquisitionTelemetry } from '../../observability/acquisition-telemetry.js';
import { InteractionRequiredError } from '../errors/interaction-required.error.js';
import { WebAppContext } from '../context/web-app-context.service.js';
import { RESOLVED_WEB_APP_OPTIONS } from '../options/web-app-options.constants.js';
import type { ResolvedWebAppOptions } from '../options/resolve-web-app-options.js';
import { SignInClient, type AcquiredUserToken, type SignedInAccount } from '../sign-in/sign-in-client.js';

const identity = (token: AcquiredUserToken): AcquiredUserToken => token;

/** Options of {@link WebAppTokenAcquisition.getAccessTokenForUser}. */
export interface WebAppUserTokenOptions {
  /** A claims request (JSON text) the token must satisfy, e.g. from a downstream API's challenge. Skips cached tokens. */
  claims?: string;
  /** Skip cached access tokens and use the refresh token. Default false. */
  forceRefresh?: boolean;
  /** The user to act for. Default: the signed-in user of the current request. */
  account?: SignedInAccount;
}

/**
 * Tokens for web APIs, for the user signed in to this web app, acquired silently: from the user's
 * own token cache partition, else with their refresh token (which never leaves the server). When
 * that cannot work without the user (consent for new scopes, a claims challenge, a revoked refresh
 * token), it throws {@link InteractionRequiredError}; on a route with `@AuthorizeForScopes()` the
 * browser is then sent to the authority and brought back.
 */
@Injectable()
export class WebAppTokenAcquisition {
  /** The `obo.token.acquire` span and cache-lookup counter (no-ops unless the app registers an OpenTelemetry SDK). */
  private readonly telemetry: AcquisitionTelemetry;

  constructor(
    @Inject(SignInClient) private readonly client: SignInClient,
    private readonly context: WebAppContext,
    @Inject(RESOLVED_WEB_APP_OPTIONS) options: ResolvedWebAppOptions,
  ) {
    this.telemetry = new AcquisitionTelemetry(options.shared.provider);
  }

  /**
   * An access token for `scopes` (one resource), for the signed-in user.
   * @throws {InteractionRequiredError} `ERR_OBO_INTERACTION_REQUIRED` (no signed-in user: reason `login`)
   * @throws {OboError} `ERR_OBO_PROVIDER_UNAVAILABLE` (503), `ERR_OBO_PROVIDER_TIMEOUT` (504), `ERR_OBO_CLIENT_CREDENTIALS_INVALID` (500)
   */
  async getAccessTokenForUser(scopes: readonly string[], options: WebAppUserTokenOptions = {}): Promise<string> {
    return (await this.getAuthenticationResultForUser(scopes, options)).accessToken;
  }

  /** Like {@link getAccessTokenForUser}, with the token's expiry (seconds since the epoch), granted scopes and whether it came from the cache. */
  getAuthenticationResultForUser(scopes: readonly string[], options: WebAppUserTokenOptions = {}): Promise<AcquiredUserToken> {
    return this.telemetry.run('user', () => this.acquire(scopes, options), identity);
  }

  private acquire(scopes: readonly string[], options: WebAppUserTokenOptions): Promise<AcquiredUserToken> {
    const account = options.account ?? this.context.account;
    if (!account) throw new InteractionRequiredError('login', scopes);
    return this.client.acquireTokenSilent({ account, scopes, ...(options.claims === undefined ? {} : { claims: options.claims }), ...(options.forceRefresh ? { forceRefresh: true } : {}) });
  }
}
