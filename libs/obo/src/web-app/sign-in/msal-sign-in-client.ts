import { createHash, randomUUID } from 'node:crypto';
import { createRemoteJWKSet, customFetch, type JWTVerifyGetKey, type RemoteJWKSetOptions } from 'jose';
import { fetch } from 'undici';
import { ConfidentialClientApplication, InteractionRequiredAuthError, type AccountInfo, type AuthenticationResult } from '@azure/msal-node';
import { OboError, ProviderUnavailableError } from '../../errors/obo.error.js';
import { fetchJson } from '../../http/fetch-json.js';
import type { ResolvedOboOptions } from '../../options/resolve-obo-options.js';
import { ClientAssertionSource } from '../../outbound/token-acquisition/client-assertion-source.js';
import { msalConfiguration } from '../../outbound/token-acquisition/confidential-client.provider.js';
import { DeadlineNetworkClient } from '../../outbound/token-acquisition/deadline-network-client.js';
import { ProviderCall } from '../../outbound/token-acquisition/provider-call.js';
import { classifyProviderFailure } from '../../outbound/token-acquisition/provider-failure.js';
import { InteractionRequiredError } from '../errors/interaction-required.error.js';
import type { WebAppStore } from '../session/web-app-store.js';
import { LogoutTokenValidator } from './logout-token-validator.js';
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
import { accountFromIdToken, signInFailed } from './signed-in-account.js';
import { stepUpParameters } from './step-up-parameters.js';
import { partitionKey as tokensKey } from './user-token-partition.js';

/** What the msal-node sign-in client needs. Internal. */
export interface MsalSignInSettings {
  /** The shared resolution of authority, client and credential (Entra ID). */
  readonly options: ResolvedOboOptions;
  readonly store: WebAppStore;
  readonly redirectUri: string;
  readonly postLogoutRedirectUri?: string;
  /** How long a user's token partition is kept after its last write, in seconds (the session's absolute timeout). */
  readonly partitionTtlSeconds: number;
}

interface EntraMetadata {
  /** The document as text, for msal-node's `authorityMetadata` (no discovery request per client). */
  readonly text: string;
  readonly issuer: string;
  readonly jwksUri: string;
  readonly endSessionEndpoint?: string;
}

/** Largest discovery document read, in bytes. */
const MAX_METADATA_BYTES = 256 * 1024;

/**
 * Entra ID sign-in through msal-node: `getAuthCodeUrl`, `acquireTokenByCode`, `acquireTokenSilent`.
 * Every operation gets its own `ConfidentialClientApplication` holding one user's token cache at
 * most, loaded from and written back to that user's partition of the store (msal-node's guidance:
 * one client per user or request; a shared client's cache would mix users). The discovery document
 * is fetched once and handed to each client, so a client costs no network request.
 */
export class MsalSignInClient extends SignInClient {
  private readonly network: DeadlineNetworkClient;
  private readonly assertions: ClientAssertionSource | undefined;
  private metadata: Promise<EntraMetadata> | undefined;
  private readonly logoutTokens: LogoutTokenValidator;
  private keys: JWTVerifyGetKey | undefined;
  /** Silent requests under way, by user, scopes, claims and forceRefresh. */
  private readonly inFlight = new Map<string, Promise<AcquiredUserToken>>();

  constructor(private readonly settings: MsalSignInSettings) {
    super();
    const { options } = settings;
    this.network = new DeadlineNetworkClient(options.tokenAcquisition.timeoutMs, options.egress.dispatcher);
    this.assertions = options.credential?.kind === 'assertion' ? new ClientAssertionSource(options.credential) : undefined;
    this.logoutTokens = new LogoutTokenValidator(() => Date.now());
  }

  async authorizationUrl({ pending, prompt, loginHint }: AuthorizationUrlRequest): Promise<string> {
    const application = await this.application();
    return application.getAuthCodeUrl({
      scopes: [...pending.scopes],
      redirectUri: this.settings.redirectUri,
      responseMode: 'query',
      state: pending.state,
      nonce: pending.nonce,
      codeChallenge: s256(pending.codeVerifier),
      codeChallengeMethod: 'S256',
      ...(pending.claims === undefined ? {} : { claims: pending.claims }),
      // msal-node sends neither itself (its `maxAge` does nothing): extra query parameters, checked at the callback.
      ...(pending.acrValues === undefined && pending.maxAge === undefined ? {} : { extraQueryParameters: stepUpParameters(pending) }),
      ...(prompt === undefined ? {} : { prompt }),
      ...(loginHint === undefined ? {} : { loginHint }),
    });
  }

  async redeemCode(callback: URL, pending: PendingAuthorization): Promise<SignInResult> {
    const code = callback.searchParams.get('code');
    if (!code) throw signInFailed('the authority sent no authorization code');
    const application = await this.application();
    let result: AuthenticationResult;
    try {
      result = await this.call([...pending.scopes], (correlationId) =>
        application.acquireTokenByCode(
          { code, scopes: [...pending.scopes], redirectUri: this.settings.redirectUri, codeVerifier: pending.codeVerifier, state: pending.state, nonce: pending.nonce, correlationId, ...(pending.claims === undefined ? {} : { claims: pending.claims }) },
          { code, state: callback.searchParams.get('state') ?? '', nonce: pending.nonce },
        ),
      );
    } catch (error) {
      if (error instanceof ProviderUnavailableError) throw error; // 503 / 504: the authority, not the sign-in, failed
      throw signInFailed('the authority refused the authorization code or its answer failed a check', error);
    }
    const { issuer } = await this.discovery();
    const account = accountFromIdToken(result.idTokenClaims as Record<string, unknown>, {
      expectedIssuer: issuer,
      clientId: this.settings.options.clientId,
      accountKey: result.account?.homeAccountId,
    });
    await this.settings.store.set(tokensKey(account.accountKey), application.getTokenCache().serialize(), this.settings.partitionTtlSeconds);
    return { account };
  }

  /**
   * Concurrent silent requests of one user for the same token share one msal call (and one
   * refresh): two refreshes racing to write the partition back could otherwise keep the older one.
   */
  acquireTokenSilent(request: SilentTokenRequest): Promise<AcquiredUserToken> {
    const key = `${request.account.accountKey}\0${[...request.scopes].sort().join(' ')}\0${request.claims ?? ''}\0${request.forceRefresh === true}`;
    const running = this.inFlight.get(key);
    if (running) return running;
    const acquisition = this.acquireSilently(request).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, acquisition);
    return acquisition;
  }

  private async acquireSilently({ account, scopes, claims, forceRefresh }: SilentTokenRequest): Promise<AcquiredUserToken> {
    const application = await this.application();
    const cache = application.getTokenCache();
    const partition = await this.settings.store.get(tokensKey(account.accountKey));
    if (partition === undefined) throw new InteractionRequiredError('login', scopes);
    cache.deserialize(partition);
    const msalAccount: AccountInfo | null = await cache.getAccountByHomeId(account.accountKey);
    if (!msalAccount) throw new InteractionRequiredError('login', scopes);
    const result = await this.call(scopes, (correlationId) =>
      application.acquireTokenSilent({ account: msalAccount, scopes: [...scopes], correlationId, forceRefresh: forceRefresh === true || claims !== undefined, ...(claims === undefined ? {} : { claims }) }),
    );
    // A hit changes nothing (msal's `hasChanged()` is true after any deserialize, so it cannot tell);
    // only a refresh writes the partition back.
    if (!result.fromCache) await this.settings.store.set(tokensKey(account.accountKey), cache.serialize(), this.settings.partitionTtlSeconds);
    return {
      accessToken: result.accessToken,
      expiresOn: Math.floor((result.expiresOn?.getTime() ?? Date.now()) / 1000),
      scopes: result.scopes,
      fromCache: result.fromCache,
    };
  }

  async endSessionUrl(_account: SignedInAccount): Promise<string | undefined> {
    const endpoint = (await this.discovery()).endSessionEndpoint;
    if (endpoint === undefined) return undefined;
    const url = new URL(endpoint);
    url.searchParams.set('client_id', this.settings.options.clientId);
    if (this.settings.postLogoutRedirectUri !== undefined) url.searchParams.set('post_logout_redirect_uri', this.settings.postLogoutRedirectUri);
    return url.href;
  }

  removeAccount(account: SignedInAccount): Promise<void> {
    return this.settings.store.delete(tokensKey(account.accountKey));
  }

  async validateLogoutToken(logoutToken: string): Promise<LogoutTokenSubject> {
    const { issuer, jwksUri } = await this.discovery();
    const { dispatcher } = this.settings.options.egress;
    const timeoutMs = this.settings.options.tokenAcquisition.timeoutMs;
    this.keys ??= createRemoteJWKSet(new URL(jwksUri), {
      timeoutDuration: timeoutMs,
      [customFetch]: ((url: string, options: object) => fetch(url, { ...options, dispatcher, redirect: 'error' })) as unknown as RemoteJWKSetOptions[typeof customFetch],
    });
    return this.logoutTokens.validate(logoutToken, { issuer, clientId: this.settings.options.clientId, algorithms: [...this.settings.options.algorithms], keys: this.keys });
  }

  /** A fresh msal client: one user's cache at most, no discovery request (the document is given). */
  private async application(): Promise<ConfidentialClientApplication> {
    const metadata = await this.discovery();
    return new ConfidentialClientApplication(msalConfiguration(this.settings.options, this.network, this.assertions, { authorityMetadata: metadata.text }));
  }

  /**
   * Runs one msal request under the token acquisition deadline, seeing the raw error answer: a
   * consent or claims answer needs the user (InteractionRequiredError), the rest maps as for
   * On-Behalf-Of (503, 504, 500 ...).
   */
  private async call(scopes: readonly string[], invoke: (correlationId: string) => Promise<AuthenticationResult | null>): Promise<AuthenticationResult> {
    const deadline = AbortSignal.timeout(this.settings.options.tokenAcquisition.timeoutMs);
    const call = new ProviderCall(randomUUID(), deadline);
    this.network.begin(call);
    try {
      const result = await invoke(call.correlationId);
      if (!result || typeof result.accessToken !== 'string' || result.accessToken === '') throw new OboError('ERR_OBO_PROVIDER_BAD_RESPONSE', 'The identity provider returned no usable access token.');
      return result;
    } catch (error) {
      throw interactionOrFailure(call, error, scopes, deadline.aborted);
    } finally {
      this.network.end(call);
    }
  }

  private discovery(): Promise<EntraMetadata> {
    this.metadata ??= this.fetchDiscovery().catch((error: unknown) => {
      this.metadata = undefined; // try again on the next sign-in rather than remembering a failure
      throw error;
    });
    return this.metadata;
  }

  private async fetchDiscovery(): Promise<EntraMetadata> {
    const { options } = this.settings;
    const url = options.authority.kind === 'entra' ? options.authority.discoveryUrlV2 : '';
    const document = (await fetchJson(url, { timeoutMs: options.tokenAcquisition.timeoutMs, maxBytes: MAX_METADATA_BYTES, dispatcher: options.egress.dispatcher })) as Record<string, unknown>;
    const issuer = document.issuer;
    const jwksUri = document.jwks_uri;
    if (typeof issuer !== 'string' || typeof jwksUri !== 'string' || typeof document.authorization_endpoint !== 'string' || typeof document.token_endpoint !== 'string') {
      throw new OboError('ERR_OBO_PROVIDER_BAD_RESPONSE', `The discovery document at ${url} lacks issuer, jwks_uri, authorization_endpoint or token_endpoint.`);
    }
    const endSession = document.end_session_endpoint;
    return { text: JSON.stringify(document), issuer, jwksUri, endSessionEndpoint: typeof endSession === 'string' ? endSession : undefined };
  }
}

/** RFC 7636 S256: base64url(SHA-256(verifier)). */
export function s256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

function interactionOrFailure(call: ProviderCall, error: unknown, scopes: readonly string[], deadlineExpired: boolean): OboError {
  const answer = call.lastErrorAnswer;
  const claims = answer?.claims ?? (error instanceof InteractionRequiredAuthError ? error.claims || undefined : undefined);
  if (claims !== undefined && (answer === undefined || answer.error === 'interaction_required' || answer.error === 'invalid_grant')) {
    return new InteractionRequiredError('claims', scopes, claims, { cause: error });
  }
  const consent = answer?.suberror === 'consent_required' || answer?.error === 'consent_required' || answer?.errorCodes.some((code) => code === 65001 || code === 65004);
  if (consent) return new InteractionRequiredError('consent', scopes, undefined, { cause: error });
  if (answer?.error === 'invalid_grant' || answer?.error === 'interaction_required' || answer?.error === 'login_required' || error instanceof InteractionRequiredAuthError) {
    return new InteractionRequiredError('login', scopes, undefined, { cause: error });
  }
  return classifyProviderFailure(call, error, scopes, deadlineExpired).error;
}
