import { context, SpanKind, trace, type Attributes, type Counter, type Span, type SpanOptions } from '@opentelemetry/api';
import { errorType, markFailed, oboInstruments, oboTracer } from './obo-telemetry.js';
import { ATTR_OBO_PROVIDER, ATTR_OBO_TOKEN_CACHE_RESULT, ATTR_OBO_TOKEN_KIND, SPAN_TOKEN_ACQUIRE } from './telemetry-names.js';

/** Whose token: the user's (On-Behalf-Of, a web app's signed-in user) or the app's own (client credentials). */
export type TokenKind = 'user' | 'app';

interface KindTelemetry {
  readonly start: SpanOptions;
  readonly hit: Attributes;
  readonly miss: Attributes;
}

function forKind(provider: 'entra' | 'oidc', kind: TokenKind): KindTelemetry {
  const base = { [ATTR_OBO_PROVIDER]: provider, [ATTR_OBO_TOKEN_KIND]: kind };
  return {
    start: { kind: SpanKind.INTERNAL, attributes: base },
    hit: Object.freeze({ ...base, [ATTR_OBO_TOKEN_CACHE_RESULT]: 'hit' }),
    miss: Object.freeze({ ...base, [ATTR_OBO_TOKEN_CACHE_RESULT]: 'miss' }),
  };
}

/**
 * The `obo.token.acquire` span and the `obo.token.cache.lookups` counter of one token source. Every
 * attribute set is built once here, so without an SDK an acquisition costs a no-op span and two
 * no-op calls, and allocates nothing else.
 */
export class AcquisitionTelemetry {
  private readonly lookups: Counter = oboInstruments().tokenCacheLookups;
  private readonly kinds: Readonly<Record<TokenKind, KindTelemetry>>;

  constructor(provider: 'entra' | 'oidc') {
    this.kinds = { user: forKind(provider, 'user'), app: forKind(provider, 'app') };
  }

  /** Starts the span of one acquisition (a child of the active span). */
  start(kind: TokenKind): Span {
    return oboTracer.startSpan(SPAN_TOKEN_ACQUIRE, this.kinds[kind].start);
  }

  /** Ends `span`: the token came from the cache (`fromCache`) or from the identity provider. */
  succeeded(span: Span, kind: TokenKind, fromCache: boolean): void {
    const attributes = fromCache ? this.kinds[kind].hit : this.kinds[kind].miss;
    this.lookups.add(1, attributes);
    if (span.isRecording()) span.setAttribute(ATTR_OBO_TOKEN_CACHE_RESULT, fromCache ? 'hit' : 'miss');
    span.end();
  }

  /**
   * Ends `span` as failed with the error's code. `missed`: the cache was consulted and had no token
   * (the failure came from acquiring one), so the lookup counts as a miss; a call refused before
   * any lookup (bad arguments, no user) counts as none.
   */
  failed(span: Span, kind: TokenKind, error: unknown, missed: boolean): void {
    if (missed) {
      this.lookups.add(1, this.kinds[kind].miss);
      if (span.isRecording()) span.setAttribute(ATTR_OBO_TOKEN_CACHE_RESULT, 'miss');
    }
    markFailed(span, errorType(error));
    span.end();
  }

  /**
   * Runs one acquisition in its span: `lookup` (which throws synchronously for what it refuses
   * before any cache lookup, and rejects only when no cached token could be used) runs in the span's
   * context when the span records, so the provider's HTTP requests nest under it; `map` turns what it
   * found into the caller's answer.
   */
  run<L extends { readonly fromCache: boolean }, T>(kind: TokenKind, lookup: () => Promise<L>, map: (found: L) => T): Promise<T> {
    const span = this.start(kind);
    let pending: Promise<L>;
    try {
      // Without an SDK the span does not record: no context to build, the lookup runs as it is.
      pending = span.isRecording() ? context.with(trace.setSpan(context.active(), span), lookup) : lookup();
    } catch (error) {
      this.failed(span, kind, error, false);
      return Promise.reject(error);
    }
    return pending.then(
      (found) => {
        this.succeeded(span, kind, found.fromCache);
        return map(found);
      },
      (error: unknown) => {
        this.failed(span, kind, error, true);
        throw error;
      },
    );
  }

  /** A hit served without a promise (DownstreamApi's hot path): a span that starts and ends at once. */
  hit(kind: TokenKind): void {
    this.succeeded(this.start(kind), kind, true);
  }
}
