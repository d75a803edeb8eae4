import { createRemoteJWKSet, customFetch as joseCustomFetch, type JWTVerifyGetKey, type RemoteJWKSetOptions } from 'jose';
import {
  authorizationCodeGrant,
  buildAuthorizationUrl,
  buildEndSessionUrl,
  calculatePKCECodeChallenge,
  refreshTokenGrant,
  type Configuration,
  type TokenEndpointResponse,
} from 'openid-client';
import type { Dispatcher } from 'undici';
import { OboConfigurationError, OboError } from '../../errors/obo.error.js';
import { InteractionRequiredError } from '../errors/interaction-required.error.js';
import { SignInFailedError } from '../errors/sign-in-failed.error.js';
import type { WebAppStore } from '../session/web-app-store.js';
import { LogoutTokenValidator } from './logout-token-validator.js';
import { clientAuthOf, type WebAppClientCredential } from './openid-client-auth.js';
import { discoverConfiguration, egressFetch } from './openid-configuration.js';
import { refreshFailure, refreshTokenRefused, signInFailure, transportFailure } from './openid-failure.js';
import { accountFromIdToken } from './signed-in-account.js';
import { stepUpParameters } from './step-up-parameters.js';
import {
  SignInClient,
  type AcquiredUserToken,
  type AuthorizationUrlRequest,
  type LogoutTokenSubject,
  type PendingAuthorization,
  type SignedInAccount,
  type SignInResult,
  type SilentTokenRequest,
} from './sign-in-client.js';
import { partitionKey, readPartition, scopeKey, writePartition, type UserTokenPartition } from './user-token-partition.js';

/** Scopes every sign-in asks for besides the app's. */
export const SIGN_IN_SCOPES = ['openid', 'profile', 'offline_access'] as const;
/** A cached access token this close to its expiry is refreshed instead, in seconds. */
export const REFRESH_MARGIN_SECONDS = 300;
/** A sign-in request older than this is refused at the callback, in ms. */
export const PENDING_AUTHORIZATION_LIFETIME_MS = 10 * 60 * 1000;

/** RFC 7636 §4.1: 43 to 128 unreserved characters. */
const PKCE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

/** A protected resource (RFC 8707) and the scopes that belong to it. */
export interface OpenIdResource {
  /** The resource indicator sent as `resource` (an absolute URI). */
  readonly resource: string;
  /** Its scopes, as requested from the authority. */
  readonly scopes: readonly string[];
}

/** Options of {@link OpenIdSignInClient}. */
export interface OpenIdSignInClientOptions extends WebAppClientCredential {
  /** The authority's issuer; its metadata is read once from `<issuer>/.well-known/openid-configuration`, whose `issuer` must match byte for byte. */
  readonly issuer: URL;
  readonly clientId: string;
  /** The registered callback URL (no query, no fragment); codes arriving anywhere else are refused. */
  readonly redirectUri: URL;
  /** Where the authority sends the browser after sign-out (`post_logout_redirect_uri`). */
  readonly postLogoutRedirectUri?: URL;
  /** Where each user's refresh token and access tokens live (`tokens:` + a hash of the account key). */
  readonly store: WebAppStore;
  /**
   * Resources (RFC 8707) for downstream APIs: a token request whose scopes belong to one of them
   * sends `resource`, and so does the authorization request. Default: none (scopes only).
   */
  readonly resources?: readonly OpenIdResource[];
  /** The module's egress dispatcher (proxy, extra CAs): discovery, token requests and keys go through it. Default: Node's fetch. */
  readonly dispatcher?: Dispatcher;
  /** Deadline of each request to the authority, in ms. Default 10,000. */
  readonly timeoutMs?: number;
  /** How long a user's tokens are kept after their last refresh, in seconds. Default 28,800 (the session's absolute timeout). */
  readonly tokensTtlSeconds?: number;
  /** The clock, ms since the epoch. Default `Date.now`. */
  readonly now?: () => number;
}

function urlWithoutQuery(url: URL): string {
  const copy = new URL(url.href);
  copy.search = '';
  copy.hash = '';
  return copy.href;
}

/**
 * {@link SignInClient} for any OpenID Connect authority, with panva's openid-client 6 (OpenID
 * Certified): authorization code + PKCE S256 with state and nonce, ID tokens checked including their
 * signature, refresh tokens for silent acquisition kept in each user's own store partition, RP-initiated
 * logout and back-channel logout tokens (jose).
 */
export class OpenIdSignInClient extends SignInClient {
  private readonly now: () => number;
  private readonly timeoutMs: number;
  private readonly tokensTtlSeconds: number;
  private readonly logoutTokens: LogoutTokenValidator;
  private readonly inFlight = new Map<string, Promise<AcquiredUserToken>>();
  private configuring?: Promise<Configuration>;
  private keys?: JWTVerifyGetKey;

  /** @throws {OboConfigurationError} for a redirect URI with a query or fragment, or a bad timeout or TTL */
  constructor(private readonly options: OpenIdSignInClientOptions) {
    super();
    if (options.redirectUri.search || options.redirectUri.hash) throw new OboConfigurationError('redirectUri', 'must have no query and no fragment: the authority compares it exactly.');
    this.now = options.now ?? Date.now;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.tokensTtlSeconds = options.tokensTtlSeconds ?? 28_800;
    if (!Number.isInteger(this.timeoutMs) || this.timeoutMs < 1) throw new OboConfigurationError('timeoutMs', 'must be a whole number of milliseconds >= 1.');
    if (!Number.isInteger(this.tokensTtlSeconds) || this.tokensTtlSeconds < 1) throw new OboConfigurationError('tokensTtlSeconds', 'must be a whole number of seconds >= 1.');
    this.logoutTokens = new LogoutTokenValidator(this.now);
  }

  override async authorizationUrl({ pending, prompt, loginHint }: AuthorizationUrlRequest): Promise<string> {
    const config = await this.configuration();
    const parameters = new URLSearchParams({
      redirect_uri: this.options.redirectUri.href,
      response_type: 'code',
      response_mode: 'query',
      scope: [...new Set([...SIGN_IN_SCOPES, ...pending.scopes])].join(' '),
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: await calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: 'S256',
    });
    for (const resource of this.resourcesOf(pending.scopes)) parameters.append('resource', resource);
    if (pending.claims !== undefined) parameters.set('claims', pending.claims);
    for (const [name, value] of Object.entries(stepUpParameters(pending))) parameters.set(name, value);
    if (prompt !== undefined) parameters.set('prompt', prompt);
    if (loginHint !== undefined) parameters.set('login_hint', loginHint);
    return buildAuthorizationUrl(config, parameters).href;
  }

  override async redeemCode(callback: URL, pending: PendingAuthorization): Promise<SignInResult> {
    if (this.now() - pending.createdAt > PENDING_AUTHORIZATION_LIFETIME_MS) throw new SignInFailedError('The sign-in request is older than 10 minutes; the user must sign in again.');
    if (urlWithoutQuery(callback) !== this.options.redirectUri.href) throw new SignInFailedError('The sign-in response arrived at another URL than the configured redirectUri.');
    // Never redeem a code without the checks that bind it to this browser (openid-client would skip an empty one).
    if (!pending.state || !pending.nonce || !PKCE_VERIFIER.test(pending.codeVerifier)) throw new SignInFailedError('The pending sign-in lacks a state, a nonce or an RFC 7636 code verifier; the user must sign in again.');
    const config = await this.configuration();
    // A single resource among the requested scopes: the code's access token is for it, and is cached.
    const resources = this.resourcesOf(pending.scopes);
    const resource = resources.length === 1 ? resources[0] : undefined;
    let response: TokenEndpointResponse & { claims(): Record<string, unknown> | undefined };
    try {
      response = await authorizationCodeGrant(
        config,
        callback,
        { pkceCodeVerifier: pending.codeVerifier, expectedState: pending.state, expectedNonce: pending.nonce, idTokenExpected: true },
        resource === undefined ? undefined : { resource },
      );
    } catch (error) {
      throw signInFailure(error);
    }
    const claims = response.claims();
    if (!claims || typeof claims.sub !== 'string') throw new SignInFailedError('The authority sent no ID token with a subject.');
    const account = accountFromIdToken(claims, { expectedIssuer: config.serverMetadata().issuer, clientId: this.options.clientId }, this.now() / 1000);
    const previous = pending.claims === undefined ? await readPartition(this.options.store, account.accountKey) : undefined;
    const tokens: Record<string, UserTokenPartition['tokens'][string]> = { ...previous?.tokens };
    const appScopes = pending.scopes.filter((scope) => !(SIGN_IN_SCOPES as readonly string[]).includes(scope));
    const issued = this.issuedToken(response, appScopes);
    if (appScopes.length > 0 && issued) tokens[scopeKey(appScopes, resource)] = issued;
    const refreshToken = response.refresh_token ?? previous?.refreshToken;
    await writePartition(this.options.store, account.accountKey, { ...(refreshToken === undefined ? {} : { refreshToken }), tokens }, this.seconds(), this.tokensTtlSeconds);
    return { account };
  }

  override async acquireTokenSilent(request: SilentTokenRequest): Promise<AcquiredUserToken> {
    if (request.scopes.length === 0) throw new OboError('ERR_OBO_INVALID_SCOPE', 'acquireTokenSilent needs at least one scope.');
    if (request.claims !== undefined) {
      // OpenID Connect has no claims parameter on the token endpoint: a claims request is for the authorization endpoint.
      throw new InteractionRequiredError('claims', request.scopes, request.claims);
    }
    const resource = this.resourceFor(request.scopes);
    const key = scopeKey(request.scopes, resource);
    const flight = `${request.account.accountKey}\n${key}\n${request.forceRefresh === true}`;
    const running = this.inFlight.get(flight);
    if (running) return running;
    const acquisition = this.acquire(request, resource, key).finally(() => this.inFlight.delete(flight));
    this.inFlight.set(flight, acquisition);
    return acquisition;
  }

  override async endSessionUrl(_account: SignedInAccount): Promise<string | undefined> {
    const config = await this.configuration();
    if (!config.serverMetadata().end_session_endpoint) return undefined;
    // client_id instead of an ID token by default (RP-Initiated Logout 1.0 §2): no token in a URL.
    const parameters: Record<string, string> = { client_id: this.options.clientId };
    if (this.options.postLogoutRedirectUri) parameters.post_logout_redirect_uri = this.options.postLogoutRedirectUri.href;
    return buildEndSessionUrl(config, parameters).href;
  }

  override async removeAccount(account: SignedInAccount): Promise<void> {
    await this.options.store.delete(partitionKey(account.accountKey));
  }

  override async validateLogoutToken(logoutToken: string): Promise<LogoutTokenSubject> {
    const config = await this.configuration();
    const metadata = config.serverMetadata();
    if (!metadata.jwks_uri) throw new OboError('ERR_OBO_PROVIDER_BAD_RESPONSE', `The authority's metadata (${this.options.issuer.href}) has no jwks_uri; logout tokens cannot be checked.`);
    this.keys ??= createRemoteJWKSet(new URL(metadata.jwks_uri), { timeoutDuration: this.timeoutMs, ...(this.options.dispatcher ? { [joseCustomFetch]: egressFetch(this.options.dispatcher) as unknown as RemoteJWKSetOptions[typeof joseCustomFetch] } : {}) });
    const algorithms = (metadata.id_token_signing_alg_values_supported ?? ['RS256']).filter((alg) => alg !== 'none' && !alg.startsWith('HS'));
    try {
      return await this.logoutTokens.validate(logoutToken, { issuer: metadata.issuer, clientId: this.options.clientId, algorithms, keys: this.keys });
    } catch (error) {
      if (error instanceof OboError) throw error;
      throw transportFailure(error) ?? new OboError('ERR_OBO_PROVIDER_BAD_RESPONSE', 'The authority\u2019s signing keys could not be read to check a logout token.', { cause: error });
    }
  }

  private async acquire(request: SilentTokenRequest, resource: string | undefined, key: string): Promise<AcquiredUserToken> {
    const { account, scopes } = request;
    const partition = await readPartition(this.options.store, account.accountKey);
    if (partition?.refreshToken === undefined) throw new InteractionRequiredError('login', scopes);
    const cached = partition.tokens[key];
    if (cached && request.forceRefresh !== true && cached.expiresOn - this.seconds() > REFRESH_MARGIN_SECONDS) {
      return { accessToken: cached.accessToken, expiresOn: cached.expiresOn, scopes: cached.scopes, fromCache: true };
    }
    const config = await this.configuration();
    let response: TokenEndpointResponse;
    try {
      response = await refreshTokenGrant(config, partition.refreshToken, { scope: scopes.join(' '), ...(resource === undefined ? {} : { resource }) });
    } catch (error) {
      const failure = refreshFailure(error, scopes);
      if (refreshTokenRefused(failure)) await this.options.store.delete(partitionKey(account.accountKey));
      throw failure;
    }
    const issued = this.issuedToken(response, scopes);
    if (!issued) throw new OboError('ERR_OBO_PROVIDER_BAD_RESPONSE', 'The identity provider answered the refresh without a bearer access token and its lifetime.');
    // Read again: another request may have stored a token for other scopes meanwhile, or the user
    // signed out (the partition is gone: nothing is written back, the refresh token stays forgotten).
    const latest = await readPartition(this.options.store, account.accountKey);
    if (latest?.refreshToken === undefined) return { ...issued, fromCache: false };
    const refreshToken = response.refresh_token ?? latest.refreshToken;
    await writePartition(this.options.store, account.accountKey, { refreshToken, tokens: { ...latest.tokens, [key]: issued } }, this.seconds(), this.tokensTtlSeconds);
    return { ...issued, fromCache: false };
  }

  /** The access token of a token response, when it is a bearer token with a lifetime: what may be cached. */
  private issuedToken(response: TokenEndpointResponse, requested: readonly string[]): UserTokenPartition['tokens'][string] | undefined {
    if (response.token_type.toLowerCase() !== 'bearer' || typeof response.expires_in !== 'number' || response.expires_in <= 0) return undefined;
    // RFC 6749 §5.1: `scope` is omitted when it is what was asked.
    const granted = typeof response.scope === 'string' ? response.scope.split(' ').filter(Boolean) : [...requested];
    if (!requested.every((scope) => granted.includes(scope))) return undefined;
    return { accessToken: response.access_token, expiresOn: this.seconds() + response.expires_in, scopes: granted };
  }

  /** The resource indicators of the configured resources any of `scopes` belongs to. */
  private resourcesOf(scopes: readonly string[]): string[] {
    return (this.options.resources ?? []).filter((item) => item.scopes.some((scope) => scopes.includes(scope))).map((item) => item.resource);
  }

  /** The one resource a token request's scopes belong to (a token has one audience), if any. */
  private resourceFor(scopes: readonly string[]): string | undefined {
    const resources = this.resourcesOf(scopes);
    if (resources.length > 1) throw new OboError('ERR_OBO_INVALID_SCOPE', `The scopes "${scopes.join(' ')}" belong to ${resources.length} resources; ask for one resource's scopes per token.`);
    return resources[0];
  }

  private seconds(): number {
    return Math.floor(this.now() / 1000);
  }

  /** openid-client's configuration from the authority's discovery document, once; a failure is not remembered. */
  private configuration(): Promise<Configuration> {
    this.configuring ??= this.discover().catch((error: unknown) => {
      this.configuring = undefined;
      throw error;
    });
    return this.configuring;
  }

  private async discover(): Promise<Configuration> {
    const { issuer, clientId, redirectUri, dispatcher } = this.options;
    return discoverConfiguration({ issuer, clientId, redirectUri, clientAuth: await clientAuthOf(this.options), timeoutMs: this.timeoutMs, dispatcher });
  }
}
