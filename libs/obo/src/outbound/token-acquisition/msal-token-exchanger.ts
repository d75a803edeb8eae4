import { internList } from '../../context/interned.js';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type { AuthError, AuthenticationResult } from '@azure/msal-node';
import { tenantAuthority } from '../../authority/entra-authority.js';
import { OboError, ProviderUnavailableError } from '../../errors/obo.error.js';
import { RESOLVED_OBO_OPTIONS } from '../../options/obo-options.constants.js';
import type { ResolvedOboOptions } from '../../options/resolve-obo-options.js';
import { CONFIDENTIAL_CLIENT, type ConfidentialClient } from './confidential-client.provider.js';
import { explainResolutionFailure, isResolutionFailure } from './authority-resolution.js';
import { ProviderCall } from './provider-call.js';
import { checkIssuedToken } from './issued-token-check.js';
import { classifyProviderFailure } from './provider-failure.js';
import { TokenExchanger, type ExchangedToken, type ExchangeRequest } from './token-exchanger.js';
import { abortable, TokenRequestRunner, type AttemptOutcome } from './token-request-runner.js';

export type { ExchangedToken, ExchangeRequest } from './token-exchanger.js';
export { SCOPE_BREAKER_MS } from './token-request-runner.js';

type Invoke = (client: ConfidentialClient, authority: string, correlationId: string) => Promise<AuthenticationResult | null>;

const MAX_LIFETIME_MS = 48 * 3600 * 1000;
/** How long an authority msal-node could not resolve is answered 503 without asking it again (its metadata or issuer is wrong). */
export const UNRESOLVED_AUTHORITY_MS = 30_000;
/** The same when only the discovery request failed (unreachable, 5xx, 429): the provider's outage, shorter. */
const UNREACHABLE_AUTHORITY_MS = 5_000;
/** Unresolvable authorities remembered at most (one per tenant on a multi-tenant API). */
const MAX_REMEMBERED_REFUSALS = 1_000;

/**
 * Runs On-Behalf-Of and client-credentials requests through the module's msal client, under the
 * provider-neutral {@link TokenRequestRunner} (deadline, one retry, 429 gate, cold-start single
 * flight, invalid_scope breaker), with what is Entra's: AADSTS error parsing, authorities msal-node
 * cannot resolve, a fresh client assertion after AADSTS700024, answer validation, and an msal cache
 * kept empty (our TokenCache caches; msal's own cache would grow per user and be scanned linearly on
 * every call).
 */
@Injectable()
export class MsalTokenExchanger extends TokenExchanger {
  private readonly logger = new Logger('TokenAcquisition');
  private readonly runner: TokenRequestRunner;
  /** Authorities msal-node could not resolve, and why (forgotten after 30 s, or 5 s when only the request failed). */
  private readonly unresolvedAuthorities = new LRUCache<string, string>({ max: MAX_REMEMBERED_REFUSALS, ttl: UNRESOLVED_AUTHORITY_MS });
  /** Provider calls made (attempts that reached msal), for tests and benchmarks. */
  providerCalls = 0;

  constructor(
    @Inject(RESOLVED_OBO_OPTIONS) private readonly options: ResolvedOboOptions,
    @Inject(CONFIDENTIAL_CLIENT) private readonly client: ConfidentialClient | null,
  ) {
    super();
    this.runner = new TokenRequestRunner(options.tokenAcquisition.timeoutMs, this.logger, 'entra');
  }

  /** OAuth 2.0 On-Behalf-Of (jwt-bearer grant, `requested_token_use=on_behalf_of`). */
  onBehalfOf(request: ExchangeRequest): Promise<ExchangedToken> {
    return this.exchange(request, (client, authority, correlationId) =>
      client.application.acquireTokenOnBehalfOf({
        oboAssertion: request.assertion!,
        scopes: [...request.scopes],
        authority,
        correlationId,
        claims: request.claims,
        skipCache: true,
        // msal-node's types omit it, but it honours it: store nothing per user in msal's cache.
        ...({ storeInCache: { accessToken: false, idToken: false, refreshToken: false } } as object),
      }),
    );
  }

  /** OAuth 2.0 client credentials for this API itself (`<resource>/.default`). */
  clientCredentials(request: ExchangeRequest): Promise<ExchangedToken> {
    return this.exchange(request, (client, authority, correlationId) =>
      client.application.acquireTokenByClientCredential({ scopes: [...request.scopes], authority, correlationId, claims: request.claims, skipCache: true }),
    );
  }

  private exchange(request: ExchangeRequest, invoke: Invoke): Promise<ExchangedToken> {
    const client = this.client;
    if (!client) return Promise.reject(new OboError('ERR_OBO_CONFIG_INVALID', 'Token acquisition needs a client credential: set clientSecret, clientCertificate or clientAssertion.'));
    const authority = tenantAuthority(this.options.instance, request.tenantId);
    return this.runner.run(request, {
      authority,
      precheck: () => this.throwIfUnresolved(authority),
      attempt: (correlationId, deadline, attempt) => this.attempt(client, authority, request, invoke, correlationId, deadline, attempt),
    });
  }

  private async attempt(client: ConfidentialClient, authority: string, request: ExchangeRequest, invoke: Invoke, correlationId: string, deadline: AbortSignal, attempt: number): Promise<AttemptOutcome> {
    const call = new ProviderCall(correlationId, deadline);
    client.network.begin(call);
    let answered = false;
    try {
      this.providerCalls++;
      const pending = (async () => invoke(client, authority, call.correlationId))(); // a synchronous throw becomes a rejection
      // msal keeps working after the caller's deadline answered it (e.g. it finishes discovery and
      // then posts the token request). The call stays registered until msal is done, so the network
      // client sees its expired deadline and sends nothing more for a caller already answered.
      const done = () => client.network.end(call);
      pending.then(done, done);
      const result = await abortable(pending, deadline);
      answered = true;
      return { token: validated(result, call, request) };
    } catch (error) {
      if (!answered && !deadline.aborted && isResolutionFailure(error)) throw this.unresolved(client, authority, error, request.correlationId ?? call.correlationId);
      const failure = classifyProviderFailure(call, error, request.scopes, deadline.aborted);
      // The kept assertion went stale (or the clock moved): one more request with a fresh one.
      const retryNow = failure.assertionExpired === true && attempt === 0 && client.assertions !== undefined;
      if (retryNow) client.assertions!.discard();
      return { failure, answered: answered || call.lastErrorAnswer !== undefined, retryNow };
    } finally {
      // msal stored an account and maybe a throttling entry; we never read them back.
      client.application.clearCache();
    }
  }

/** An authority msal could not resolve a moment ago (see {@link UNRESOLVED_AUTHORITY_MS}): 503 again, nothing sent, nothing logged. */
  private throwIfUnresolved(authority: string): void {
    const message = this.unresolvedAuthorities.get(authority);
    if (message !== undefined) throw new ProviderUnavailableError('ERR_OBO_PROVIDER_UNAVAILABLE', this.unresolvedAuthorities.getRemainingTTL(authority) / 1000, message);
  }

  /**
   * msal-node refused the authority before any token request (its `endpoints_resolution_error` says
   * no more): say why from the discovery answer msal got, log it once, and remember it for a while
   * so each client request is not one more discovery request.
   */
  private unresolved(client: ConfidentialClient, authority: string, cause: unknown, correlationId: string): ProviderUnavailableError {
    const { reason, transient } = explainResolutionFailure(client.network.discoveryAnswer(authority), this.options.knownAuthorities, (cause as AuthError).errorCode);
    const ms = transient ? UNREACHABLE_AUTHORITY_MS : UNRESOLVED_AUTHORITY_MS;
    const seconds = ms / 1000;
    const message = `msal-node could not resolve the authority ${authority}: ${reason}. Token requests to it answer 503 for ${seconds} s without asking again.`;
    this.unresolvedAuthorities.set(authority, message, { ttl: ms });
    this.logger.warn(`ERR_OBO_PROVIDER_UNAVAILABLE (correlation ${correlationId}): ${message}`);
    return new ProviderUnavailableError('ERR_OBO_PROVIDER_UNAVAILABLE', seconds, message, { cause });
  }
}

/**
 * Checks the answer msal accepted: a non-empty bearer token whose raw `expires_in` is a whole
 * number of seconds from 1 to 48 h (msal treats a missing or zero `expires_in` as 0 and rounds its
 * clock, so its `expiresOn` alone can look valid for a token that is already dead).
 */
function validated(result: AuthenticationResult | null, call: ProviderCall, request: ExchangeRequest): ExchangedToken {
  const answer = call.tokenAnswer;
  const tokenType = typeof answer?.tokenType === 'string' ? answer.tokenType : result?.tokenType;
  if (!result || typeof result.accessToken !== 'string' || result.accessToken.length === 0 || (tokenType ?? '').toLowerCase() !== 'bearer') {
    throw new OboError('ERR_OBO_PROVIDER_BAD_RESPONSE', 'The identity provider returned no usable bearer access token.');
  }
  const expiresIn = Number(answer?.expiresIn);
  if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn * 1000 > MAX_LIFETIME_MS) {
    throw new OboError('ERR_OBO_PROVIDER_BAD_RESPONSE', 'The identity provider returned a token with an unusable lifetime.');
  }
  // Tenant, audience and the token's own exp, read before anything caches or uses it.
  const tokenExpiry = checkIssuedToken(result.accessToken, request);
  // Our own clock, never later than the provider meant (the request may have taken a while), nor than the token's own exp.
  const expiresOn = Math.min(result.expiresOn?.getTime() ?? Number.POSITIVE_INFINITY, call.startedAt + expiresIn * 1000, tokenExpiry ?? Number.POSITIVE_INFINITY);
  // Every user's token carries the same granted scopes: one shared copy of the list.
  return { accessToken: result.accessToken, expiresOn, scopes: internList(result.scopes?.length ? result.scopes : request.scopes) };
}
