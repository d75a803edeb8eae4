import { metrics, SpanKind, SpanStatusCode, trace, ValueType, type Attributes, type Counter, type Gauge, type Histogram, type MeterProvider, type Span, type Tracer } from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  INSTRUMENTATION_SCOPE_NAME,
  INSTRUMENTATION_SCOPE_VERSION,
  METRIC_JWKS_REFRESHES,
  METRIC_PROVIDER_ERRORS,
  METRIC_PROVIDER_REQUEST_DURATION,
  METRIC_REDIS_CIRCUIT_OPEN,
  METRIC_TOKEN_CACHE_LOOKUPS,
} from './telemetry-names.js';

/**
 * The library's tracer, from `@opentelemetry/api` alone: a proxy that does nothing (and allocates
 * next to nothing) until the application registers a TracerProvider, whenever it does so.
 */
export const oboTracer: Tracer = trace.getTracer(INSTRUMENTATION_SCOPE_NAME, INSTRUMENTATION_SCOPE_VERSION);

/** The library's metric instruments. */
export interface OboInstruments {
  readonly tokenCacheLookups: Counter;
  readonly providerRequestDuration: Histogram;
  readonly providerErrors: Counter;
  readonly jwksRefreshes: Counter;
  readonly redisCircuitOpen: Gauge;
}

/** The HTTP conventions' duration buckets (seconds): a token request takes 10 ms to seconds. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

const byProvider = new WeakMap<MeterProvider, OboInstruments>();

/**
 * The instruments on the global MeterProvider as it is now. `@opentelemetry/api` has no proxy for
 * metrics, so providers take their instruments when Nest builds them: an SDK registered before the
 * application is created (the usual `--import ./telemetry.js`) receives every measurement; without
 * one they are the API's no-op instruments.
 */
export function oboInstruments(): OboInstruments {
  const provider = metrics.getMeterProvider();
  let instruments = byProvider.get(provider);
  if (instruments === undefined) {
    const meter = provider.getMeter(INSTRUMENTATION_SCOPE_NAME, INSTRUMENTATION_SCOPE_VERSION);
    instruments = {
      tokenCacheLookups: meter.createCounter(METRIC_TOKEN_CACHE_LOOKUPS, { description: 'Token cache lookups that ended, by result (hit: no token request).', unit: '{lookup}', valueType: ValueType.INT }),
      providerRequestDuration: meter.createHistogram(METRIC_PROVIDER_REQUEST_DURATION, {
        description: "Duration of one request to the identity provider's token endpoint (one attempt).",
        unit: 's',
        advice: { explicitBucketBoundaries: DURATION_BUCKETS },
      }),
      providerErrors: meter.createCounter(METRIC_PROVIDER_ERRORS, { description: 'Token requests that failed, by error code (error.type).', unit: '{error}', valueType: ValueType.INT }),
      jwksRefreshes: meter.createCounter(METRIC_JWKS_REFRESHES, { description: 'Signing-key (JWKS) refreshes, by reason; error.type on a failed one.', unit: '{refresh}', valueType: ValueType.INT }),
      redisCircuitOpen: meter.createGauge(METRIC_REDIS_CIRCUIT_OPEN, { description: '1 while a Redis circuit breaker is open (calls skipped until a probe succeeds), 0 while closed.', unit: '1', valueType: ValueType.INT }),
    };
    byProvider.set(provider, instruments);
  }
  return instruments;
}

/**
 * A low-cardinality name for a failure, for `error.type`: the `ERR_OBO_*` code of an OboError, else
 * the error's class name. Never its message (which may name what the caller sent).
 */
export function errorType(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.startsWith('ERR_OBO_')) return code;
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === 'string' && /^\w{1,64}$/.test(name) ? name : '_OTHER';
}

/** Marks `span` failed with `type` (an `error.type`): attribute and status, no message, no exception event. */
export function markFailed(span: Span, type: string): void {
  if (!span.isRecording()) return;
  span.setAttribute(ATTR_ERROR_TYPE, type);
  span.setStatus({ code: SpanStatusCode.ERROR, message: type });
}

/**
 * Runs `run` in an INTERNAL span named `name` (the active span while it runs, so nested work
 * becomes its children): a rejection marks it failed with `failureType(error)`. For rare work
 * (refreshes, probes), never for a per-request path.
 */
export function inSpan<T>(name: string, attributes: Attributes, run: (span: Span) => Promise<T>, failureType: (error: unknown) => string = errorType): Promise<T> {
  return oboTracer.startActiveSpan(name, { kind: SpanKind.INTERNAL, attributes }, async (span) => {
    try {
      return await run(span);
    } catch (error) {
      markFailed(span, failureType(error));
      throw error;
    } finally {
      span.end();
    }
  });
}
