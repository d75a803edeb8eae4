import { OboError, ProviderUnavailableError } from '../../errors/obo.error.js';

/** A classified failure of one token request: the error to throw, and whether one retry may help. Provider-neutral. */
export interface ProviderFailure {
  readonly error: OboError;
  readonly retryable: boolean;
  /** Seconds the provider asked us to wait (429/503 `Retry-After`). */
  readonly retryAfterSeconds?: number;
  /** True when the provider throttled us: stop calling it until `retryAfterSeconds` passed. */
  readonly throttled: boolean;
  /** True when the provider called the client assertion expired or not yet valid (AADSTS700024): a fresh one may work. */
  readonly assertionExpired?: boolean;
}

/** `Retry-After` we answer with when the provider named none, in seconds. */
export const DEFAULT_RETRY_AFTER_SECONDS = 5;

/** The provider throttled, failed (5xx) or could not be reached: 503 with `Retry-After`. */
export function unavailableFailure(reason: string, retryAfterSeconds: number, cause: unknown, retryable: boolean, throttled = false): ProviderFailure {
  return {
    error: new ProviderUnavailableError('ERR_OBO_PROVIDER_UNAVAILABLE', retryAfterSeconds, `The identity provider is unavailable (${reason}); retry later.`, { cause }),
    retryable,
    retryAfterSeconds,
    throttled,
  };
}

/** The provider did not answer within the caller's deadline: 504 with `Retry-After`, never retried. */
export function timeoutFailure(cause: unknown): ProviderFailure {
  return {
    error: new ProviderUnavailableError('ERR_OBO_PROVIDER_TIMEOUT', DEFAULT_RETRY_AFTER_SECONDS, 'The identity provider did not answer in time; retry later.', { cause }),
    retryable: false,
    retryAfterSeconds: DEFAULT_RETRY_AFTER_SECONDS,
    throttled: false,
  };
}

/** A final refusal (no retry helps). */
export function refusal(error: OboError): ProviderFailure {
  return { error, retryable: false, throttled: false };
}
