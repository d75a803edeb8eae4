import type { DownstreamApiOptions, OboModuleOptions } from '../../options/obo-module-options.interface.js';
import type { SessionOptions } from '../session/session-options.interface.js';

/** The authority and credential fields a web app shares with {@link OboModuleOptions}, with the same meaning. */
type SharedAuthorityOptions = Pick<
  OboModuleOptions,
  | 'instance'
  | 'azureCloudInstance'
  | 'tenantId'
  | 'issuer'
  | 'clientId'
  | 'clientSecret'
  | 'clientCertificate'
  | 'clientAssertion'
  | 'clientPrivateKey'
  | 'clientAuthentication'
  | 'knownAuthorities'
  | 'egress'
>;

/**
 * Options of `OboWebAppModule`: a web app that signs users in (authorization code flow with PKCE)
 * and calls web APIs for them with tokens acquired silently. Entra ID (`tenantId`, through
 * msal-node) or any OpenID Connect authority (`issuer`, through openid-client).
 */
export interface OboWebAppModuleOptions extends SharedAuthorityOptions {
  /** The web app's application (client) id. Required. */
  clientId: string;
  /**
   * The absolute redirect URI registered at the authority, e.g. `https://app.contoso.com/auth/redirect`.
   * Its path is where this module answers the authority's callback. `https` unless the host is loopback.
   */
  redirectUri: string;
  /** Where the authority sends the browser after sign-out (registered there too). Default: none (the authority's own page). */
  postLogoutRedirectUri?: string;
  /**
   * Scopes asked at sign-in besides `openid profile offline_access` (consented up front), e.g. the
   * Original API's `api://<id>/access_as_user`. Default: none (incremental consent asks later).
   */
  scopes?: readonly string[];
  /** Sessions: store, timeouts, cookie name. Default: in memory, 30 min idle, 8 h absolute. */
  session?: SessionOptions;
  /** Path that starts a sign-in (`GET <path>?returnUrl=/local/path`). Default `/auth/sign-in`. */
  signInPath?: string;
  /** Path that signs out (`POST`, with the session's CSRF token). Default `/auth/sign-out`. */
  signOutPath?: string;
  /** Path of the OpenID Connect back-channel logout endpoint (`POST logout_token=...`). Default `/auth/backchannel-logout`. */
  backchannelLogoutPath?: string;
  /** Named web APIs the app calls for the signed-in user with `WebAppDownstreamApi` (`tokenKind` is always `user`). */
  downstreamApis?: Readonly<Record<string, Omit<DownstreamApiOptions, 'tokenKind'>>>;
  /** Deadline of each token request, ms. Default 10,000. */
  tokenTimeoutMs?: number;
}
