import type { Attributes, Counter, Histogram } from '@opentelemetry/api';
import type { TokenKind } from './acquisition-telemetry.js';
import { errorType, oboInstruments } from './obo-telemetry.js';
import { ATTR_ERROR_TYPE, ATTR_OBO_PROVIDER, ATTR_OBO_TOKEN_KIND } from './telemetry-names.js';

/**
 * `obo.provider.request.duration` (one histogram value per request to the token endpoint, seconds)
 * and `obo.provider.errors` (one count per token request that failed, by code) for one exchanger.
 */
export class ProviderTelemetry {
  private readonly duration: Histogram;
  private readonly errors: Counter;
  private readonly ok: Readonly<Record<TokenKind, Attributes>>;

  constructor(private readonly provider: 'entra' | 'oidc') {
    const instruments = oboInstruments();
    this.duration = instruments.providerRequestDuration;
    this.errors = instruments.providerErrors;
    this.ok = { user: Object.freeze({ [ATTR_OBO_PROVIDER]: provider, [ATTR_OBO_TOKEN_KIND]: 'user' }), app: Object.freeze({ [ATTR_OBO_PROVIDER]: provider, [ATTR_OBO_TOKEN_KIND]: 'app' }) };
  }

  /** One request took `seconds`; `failure` is the `error.type` when it did not bring a token. */
  request(kind: TokenKind, seconds: number, failure?: string): void {
    this.duration.record(seconds, failure === undefined ? this.ok[kind] : this.failed(kind, failure));
  }

  /** A token request failed with `error` (what the caller gets). */
  error(kind: TokenKind, error: unknown): void {
    this.errors.add(1, this.failed(kind, errorType(error)));
  }

  private failed(kind: TokenKind, type: string): Attributes {
    return { [ATTR_OBO_PROVIDER]: this.provider, [ATTR_OBO_TOKEN_KIND]: kind, [ATTR_ERROR_TYPE]: type };
  }
}
