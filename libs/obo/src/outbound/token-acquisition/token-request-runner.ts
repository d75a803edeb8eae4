import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { OboError, ProviderUnavailableError } from '../../errors/obo.error.js';
import { ProviderTelemetry } from '../../observability/provider-telemetry.js';
import { errorType } from '../../observability/obo-telemetry.js';
import { IssuedTokenRefused } from './issued-token-check.js';
import type { ExchangedToken, ExchangeRequest } from './token-exchanger.js';
import { timeoutFailure, type ProviderFailure } from './token-request-failure.js';

/** How long a scope set (and target) the provider answered `invalid_scope` / `invalid_target` for is refused without asking it again, in ms. */
export const SCOPE_BREAKER_MS = 30_000;
/** Refused scope sets remembered at most. */
const MAX_REMEMBERED_REFUSALS = 1_000;
/** Random delay before the one retry of a failure without `Retry-After`, in ms: at least this ... */
const RETRY_JITTER_MIN_MS = 100;
/** ... plus up to this. */
const RETRY_JITTER_SPREAD_MS = 300;

/** What one attempt of a provider-specific exchanger came to. */
export type AttemptOutcome =
  | { readonly token: ExchangedToken }
  | {
      readonly failure: ProviderFailure;
      /** The provider answered (an error status or a body): its authority is reachable, later calls need not queue. */
      readonly answered: boolean;
      /** Try once more at once (e.g. with a fresh client assertion); honoured on the first attempt only. */
      readonly retryNow?: boolean;
    };

/** One token request as the provider-specific exchanger makes it. */
export interface TokenRequestPlan {
  /** The authority asked: a cold start (the first request to it) runs alone, so a burst makes one discovery, not N. */
  readonly authority: string;
  /**
   * A refusal the exchanger remembers itself (msal: an authority it cannot resolve): throws it.
   * Checked before anything is sent, and again after waiting behind a cold start.
   */
  readonly precheck?: () => void;
  /**
   * One request, under `deadline`, with `correlationId` unique to the attempt. Rejects only with an
   * error the exchanger already handled and logged; the runner passes it on without a retry.
   */
  attempt(correlationId: string, deadline: AbortSignal, attempt: number): Promise<AttemptOutcome>;
}

/**
 * What every exchanger does around the provider's token endpoint, whatever the provider: one
 * overall deadline per call (`tokenAcquisition.timeoutMs`, checked on a timer and on the clock), at
 * most one retry (after 100-400 ms of jitter, or the provider's `Retry-After` when it fits the
 * deadline), a gate that stops calling a provider that answered 429 until its `Retry-After` passed,
 * a single flight for the first request to a cold authority, and a 30 s breaker per scope set and
 * target after `invalid_scope` / `invalid_target` (a configuration mistake a retrying client must not
 * turn into provider load). Provider trouble is logged here, once per call.
 */
export class TokenRequestRunner {
  private throttledUntil = 0;
  private readonly warmAuthorities = new Set<string>();
  private readonly warming = new Map<string, Promise<unknown>>();
  /** Tenant, scope sets and targets the provider refused, and its answer. */
  private readonly refusedScopes = new LRUCache<string, string>({ max: MAX_REMEMBERED_REFUSALS, ttl: SCOPE_BREAKER_MS });

  private readonly telemetry: ProviderTelemetry;

  /** @param provider Names the provider in metrics (`obo.provider`). */
  constructor(
    private readonly timeoutMs: number,
    private readonly logger: Logger,
    provider: 'entra' | 'oidc' = 'entra',
  ) {
    this.telemetry = new ProviderTelemetry(provider);
  }

  /**
   * Runs `plan` for `request` under the rules above. Every failure counts once in `obo.provider.errors`.
   * @throws {OboError} the classified failure of the last attempt, `ERR_OBO_PROVIDER_UNAVAILABLE` while throttled, `ERR_OBO_INVALID_SCOPE` while the breaker is open.
   */
  run(request: ExchangeRequest, plan: TokenRequestPlan): Promise<ExchangedToken> {
    return this.runUnderRules(request, plan).catch((error: unknown) => {
      this.telemetry.error(kindOf(request), error);
      throw error;
    });
  }

  private async runUnderRules(request: ExchangeRequest, plan: TokenRequestPlan): Promise<ExchangedToken> {
    const wait = this.throttledUntil - Date.now();
    if (wait > 0) throw new ProviderUnavailableError('ERR_OBO_PROVIDER_UNAVAILABLE', wait / 1000, 'The identity provider asked us to wait; retry later.');
    this.throwIfScopesRefused(request);
    plan.precheck?.();
    const deadline = AbortSignal.timeout(this.timeoutMs);
    // The clock too: under a burst the timer behind `deadline` can fire late.
    const deadlineAt = Date.now() + this.timeoutMs;
    const { authority } = plan;
    if (!this.warmAuthorities.has(authority)) {
      // The first call to an authority runs alone, so a cold burst makes one discovery request, not N.
      const first = this.warming.get(authority);
      if (first) {
        const outcome = await abortable(first, deadline).then(
          () => undefined,
          (error: unknown) => error,
        );
        // What the first call learnt (an authority that cannot be used, refused scopes) holds for us too, silently.
        plan.precheck?.();
        this.throwIfScopesRefused(request);
        if (outcome instanceof ProviderUnavailableError) {
          // The provider did not answer the first call (in time): the others would only add load to
          // it. Any other outcome (a token, a refusal of that user) and we try ourselves.
          const error = new ProviderUnavailableError(outcome.code as 'ERR_OBO_PROVIDER_UNAVAILABLE' | 'ERR_OBO_PROVIDER_TIMEOUT', outcome.retryAfterSeconds, outcome.message);
          this.log(error, request.correlationId ?? 'none');
          throw error;
        }
      } else {
        const run = this.attempts(request, plan, deadline, deadlineAt);
        this.warming.set(authority, run);
        try {
          return await run;
        } finally {
          this.warming.delete(authority);
        }
      }
    }
    return this.attempts(request, plan, deadline, deadlineAt);
  }

  private async attempts(request: ExchangeRequest, plan: TokenRequestPlan, deadline: AbortSignal, deadlineAt: number): Promise<ExchangedToken> {
    for (let attempt = 0; ; attempt++) {
      const correlationId = randomUUID();
      if (deadline.aborted || Date.now() >= deadlineAt) {
        // The caller's deadline passed while it waited (cold-start queue, retry delay): answer, and
        // send nothing more to a provider that is already slow.
        const { error } = timeoutFailure(deadline.reason ?? new DOMException('The deadline passed', 'TimeoutError'));
        this.log(error, request.correlationId ?? correlationId);
        throw error;
      }
      const outcome = await this.timed(request, plan, correlationId, deadline, attempt);
      if ('token' in outcome) {
        this.warmAuthorities.add(plan.authority);
        return outcome.token;
      }
      // Any answer from the provider means discovery worked: later calls need not queue.
      if (outcome.answered) this.warmAuthorities.add(plan.authority);
      const { failure } = outcome;
      if (outcome.retryNow && attempt === 0) continue;
      if (failure.error.code === 'ERR_OBO_INVALID_SCOPE') this.refusedScopes.set(scopeSetKey(request), failure.error.message);
      if (failure.throttled) this.throttledUntil = Math.max(this.throttledUntil, Date.now() + (failure.retryAfterSeconds ?? 0) * 1000);
      const delay = failure.throttled ? (failure.retryAfterSeconds ?? 0) * 1000 : RETRY_JITTER_MIN_MS + Math.random() * RETRY_JITTER_SPREAD_MS;
      const left = deadlineAt - Date.now();
      if (!failure.retryable || attempt >= 1 || delay >= left) {
        this.log(failure.error, request.correlationId ?? correlationId);
        throw failure.error;
      }
      await sleep(delay, undefined, { signal: deadline }).catch(() => undefined); // the next attempt sees the expired deadline
    }
  }

  /** One attempt, its duration recorded in `obo.provider.request.duration` (with `error.type` unless it brought a token). */
  private async timed(request: ExchangeRequest, plan: TokenRequestPlan, correlationId: string, deadline: AbortSignal, attempt: number): Promise<AttemptOutcome> {
    const started = performance.now();
    let failure: string | undefined;
    try {
      const outcome = await plan.attempt(correlationId, deadline, attempt);
      if (!('token' in outcome)) failure = outcome.failure.error.code;
      return outcome;
    } catch (error) {
      failure = errorType(error);
      throw error;
    } finally {
      this.telemetry.request(kindOf(request), (performance.now() - started) / 1000, failure);
    }
  }

  /**
   * A short breaker per tenant, scope set and target: `invalid_scope` is a configuration mistake,
   * and a client retrying must not turn each of its requests into a provider request.
   */
  private throwIfScopesRefused(request: ExchangeRequest): void {
    const key = scopeSetKey(request);
    const message = this.refusedScopes.get(key);
    if (message === undefined) return;
    const left = Math.ceil(this.refusedScopes.getRemainingTTL(key) / 1000);
    throw new OboError('ERR_OBO_INVALID_SCOPE', `${message} (Answered within the last ${SCOPE_BREAKER_MS / 1000} s; not asked again for ${left} s.)`);
  }

  /** Provider trouble is logged here (warn); errors that become a 500 are logged once by OboExceptionFilter. */
  log(error: OboError, correlationId: string): void {
    // A refused issued token says why (tenant, audience or exp; never the token): a security event.
    const line = `${error.code} (correlation ${correlationId})${error instanceof IssuedTokenRefused ? `: ${error.message}` : ''}`;
    if (error.code === 'ERR_OBO_PROVIDER_UNAVAILABLE' || error.code === 'ERR_OBO_PROVIDER_TIMEOUT' || error.code === 'ERR_OBO_PROVIDER_BAD_RESPONSE') this.logger.warn(line);
    else this.logger.debug(line);
  }
}

/** On-Behalf-Of (a user's assertion) or client credentials. */
function kindOf(request: ExchangeRequest): 'user' | 'app' {
  return request.assertion === undefined ? 'app' : 'user';
}

function scopeSetKey(request: ExchangeRequest): string {
  const target = request.audience === undefined && request.resource === undefined ? '' : `\0${request.audience ?? ''}\0${request.resource ?? ''}`;
  return `${request.tenantId}\0${[...request.scopes].sort().join(' ')}${target}`;
}

/** `promise`, or the signal's reason as soon as it aborts. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
