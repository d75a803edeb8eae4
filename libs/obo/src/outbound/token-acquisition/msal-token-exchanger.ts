import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
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
import { checkIssuedToken, IssuedTokenRefused } from './issued-token-check.js';
import { classifyProviderFailure } from './provider-failure.js';
import { TokenExchanger, type ExchangedToken, type ExchangeRequest } from './token-exchanger.js';

export type { ExchangedToken, ExchangeRequest } from './token-exchanger.js';

type Invoke = (client: ConfidentialClient, authority: string, correlationId: string) => Promise<AuthenticationResult | null>;

const MAX_LIFETIME_MS = 48 * 3600 * 1000;
/** How long scopes the provider answered `invalid_scope` for are refused without asking it again. */
export const SCOPE_BREAKER_MS = 30_000;
/** How long an authority msal-node could not resolve is answered 503 without asking it again (its metadata or issuer is wrong). */
export const UNRESOLVED_AUTHORITY_MS = 30_000;
/** The same when only the discovery request failed (unreachable, 5xx, 429): the provider's outage, shorter. */
const UNREACHABLE_AUTHORITY_MS = 5_000;
/** Unresolvable authorities (one per tenant on a multi-tenant API) and refused scope sets remembered at most. */
const MAX_REMEMBERED_REFUSALS = 1_000;

/**
 * Runs On-Behalf-Of and client-credentials requests through the module's msal client with what
 * msal lacks: one overall deadline per call, at most one retry (jitter, or `Retry-After` when it
 * fits the deadline), a gate that stops calling a provider that answered 429 until its
 * `Retry-After` passed, one discovery per authority at a cold start, answer validation, and an
 * msal cache kept empty (our TokenCache caches; msal's own cache would grow per user and be
 * scanned linearly on every call).
 */
@Injectable()
export class MsalTokenExchanger extends TokenExchanger {
  private readonly logger = new Logger('TokenAcquisition');
  private throttledUntil = 0;
  private readonly warmAuthorities = new Set<string>();
  private readonly warming = new Map<string, Promise<unknown>>();
  /** Authorities msal-node could not resolve, and why (forgotten after 30 s, or 5 s when only the request failed). */
  private readonly unresolvedAuthorities = new LRUCache<string, string>({ max: MAX_REMEMBERED_REFUSALS, ttl: UNRESOLVED_AUTHORITY_MS });
  /** Tenant and scope sets the provider answered `invalid_scope` for, and its answer. */
  private readonly refusedScopes = new LRUCache<string, string>({ max: MAX_REMEMBERED_REFUSALS, ttl: SCOPE_BREAKER_MS });
  /** Provider calls made (attempts that reached msal), for tests and benchmarks. */
  providerCalls = 0;

  constructor(
    @Inject(RESOLVED_OBO_OPTIONS) private readonly options: ResolvedOboOptions,
    @Inject(CONFIDENTIAL_CLIENT) private readonly client: ConfidentialClient | null,
  ) {
    super();
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

  private async exchange(request: ExchangeRequest, invoke: Invoke): Promise<ExchangedToken> {
    const client = this.client;
    if (!client) throw new OboError('ERR_OBO_CONFIG_INVALID', 'Token acquisition needs a client credential: set clientSecret, clientCertificate or clientAssertion.');
    const wait = this.throttledUntil - Date.now();
    if (wait > 0) throw new ProviderUnavailableError('ERR_OBO_PROVIDER_UNAVAILABLE', wait / 1000, 'The identity provider asked us to wait; retry later.');
    this.throwIfScopesRefused(request);
    const authority = tenantAuthority(this.options.instance, request.tenantId);
    this.throwIfUnresolved(authority);
    const { timeoutMs } = this.options.tokenAcquisition;
    const deadline = AbortSignal.timeout(timeoutMs);
    // The clock too: under a burst the timer behind `deadline` can fire late.
    const deadlineAt = Date.now() + timeoutMs;
    if (!this.warmAuthorities.has(authority)) {
      // The first call to an authority runs alone, so a cold burst makes one discovery request, not N.
      const first = this.warming.get(authority);
      if (first) {
        const outcome = await abortable(first, deadline).then(
          () => undefined,
          (error: unknown) => error,
        );
        // What the first call learnt (an authority msal cannot resolve, refused scopes) holds for us too, silently.
        this.throwIfUnresolved(authority);
        this.throwIfScopesRefused(request);
        if (outcome instanceof ProviderUnavailableError) {
          // The provider did not answer the first call (in time): the others would only add load to
          // it. Any other outcome (a token, a refusal of that user) and we try ourselves.
          const error = new ProviderUnavailableError(outcome.code as 'ERR_OBO_PROVIDER_UNAVAILABLE' | 'ERR_OBO_PROVIDER_TIMEOUT', outcome.retryAfterSeconds, outcome.message);
          this.log(error, request.correlationId ?? 'none');
          throw error;
        }
      } else {
        const run = this.attempts(client, authority, request, invoke, deadline, deadlineAt);
        this.warming.set(authority, run);
        try {
          return await run;
        } finally {
          this.warming.delete(authority);
        }
      }
    }
    return this.attempts(client, authority, request, invoke, deadline, deadlineAt);
  }

  private async attempts(client: ConfidentialClient, authority: string, request: ExchangeRequest, invoke: Invoke, deadline: AbortSignal, deadlineAt: number): Promise<ExchangedToken> {
    for (let attempt = 0; ; attempt++) {
      const call = new ProviderCall(randomUUID(), deadline);
      if (deadline.aborted || Date.now() >= deadlineAt) {
        // The caller's deadline passed while it waited (cold-start queue, retry delay): answer, and
        // send nothing more to a provider that is already slow.
        const { error } = classifyProviderFailure(call, deadline.reason ?? new DOMException('The deadline passed', 'TimeoutError'), request.scopes, true);
        this.log(error, request.correlationId ?? call.correlationId);
        throw error;
      }
      client.network.begin(call);
      try {
        this.providerCalls++;
        const pending = (async () => invoke(client, authority, call.correlationId))(); // a synchronous throw becomes a rejection
        // msal keeps working after the caller's deadline answered it (e.g. it finishes discovery and
        // then posts the token request). The call stays registered until msal is done, so the network
        // client sees its expired deadline and sends nothing more for a caller already answered.
        const done = () => client.network.end(call);
        pending.then(done, done);
        const result = await abortable(pending, deadline);
        this.warmAuthorities.add(authority);
        return validated(result, call, request);
      } catch (error) {
        if (!deadline.aborted && isResolutionFailure(error)) throw this.unresolved(client, authority, error, request.correlationId ?? call.correlationId);
        // Any answer from the provider means discovery worked: later calls need not queue.
        if (call.lastErrorAnswer) this.warmAuthorities.add(authority);
        const failure = classifyProviderFailure(call, error, request.scopes, deadline.aborted);
        if (failure.assertionExpired && attempt === 0 && client.assertions) {
          // The kept assertion went stale (or the clock moved): one more request with a fresh one.
          client.assertions.discard();
          continue;
        }
        if (failure.error.code === 'ERR_OBO_INVALID_SCOPE') this.rememberRefusedScopes(request, failure.error.message);
        if (failure.throttled) this.throttledUntil = Math.max(this.throttledUntil, Date.now() + (failure.retryAfterSeconds ?? 0) * 1000);
        const delay = failure.throttled ? (failure.retryAfterSeconds ?? 0) * 1000 : 100 + Math.random() * 300;
        const left = deadlineAt - Date.now();
        if (!failure.retryable || attempt >= 1 || delay >= left) {
          this.log(failure.error, request.correlationId ?? call.correlationId);
          throw failure.error;
        }
        await sleep(delay, undefined, { signal: deadline }).catch(() => undefined); // the next attempt sees the expired deadline
      } finally {
        // msal stored an account and maybe a throttling entry; we never read them back.
        client.application.clearCache();
      }
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

  /**
   * A short breaker per tenant and scope set: `invalid_scope` is a configuration mistake, and a
   * client retrying must not turn each of its requests into a provider request.
   */
  private throwIfScopesRefused(request: ExchangeRequest): void {
    const key = scopeSetKey(request);
    const message = this.refusedScopes.get(key);
    if (message === undefined) return;
    const left = Math.ceil(this.refusedScopes.getRemainingTTL(key) / 1000);
    throw new OboError('ERR_OBO_INVALID_SCOPE', `${message} (Answered within the last ${SCOPE_BREAKER_MS / 1000} s; not asked again for ${left} s.)`);
  }

  private rememberRefusedScopes(request: ExchangeRequest, message: string): void {
    this.refusedScopes.set(scopeSetKey(request), message);
  }

  /** Provider trouble is logged here (warn); errors that become a 500 are logged once by OboExceptionFilter. */
  private log(error: OboError, correlationId: string): void {
    // A refused issued token says why (tenant, audience or exp; never the token): a security event.
    const line = `${error.code} (correlation ${correlationId})${error instanceof IssuedTokenRefused ? `: ${error.message}` : ''}`;
    if (error.code === 'ERR_OBO_PROVIDER_UNAVAILABLE' || error.code === 'ERR_OBO_PROVIDER_TIMEOUT' || error.code === 'ERR_OBO_PROVIDER_BAD_RESPONSE') this.logger.warn(line);
    else this.logger.debug(line);
  }
}

function scopeSetKey(request: ExchangeRequest): string {
  return `${request.tenantId}\0${[...request.scopes].sort().join(' ')}`;
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
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
  return { accessToken: result.accessToken, expiresOn, scopes: result.scopes?.length ? result.scopes : [...request.scopes] };
}
