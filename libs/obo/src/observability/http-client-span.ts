import { context, isSpanContextValid, propagation, SpanKind, trace, type Span } from '@opentelemetry/api';
import { markFailed, oboTracer } from './obo-telemetry.js';
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_RESEND_COUNT,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_FULL,
} from './telemetry-names.js';

/** What the span of one downstream request needs to know about it. */
export interface HttpClientRequest {
  readonly method: string;
  /** `scheme://host[:port]`. */
  readonly origin: string;
  /** Path and query, starting with `/`. */
  readonly path: string;
  /** Its headers: the W3C trace context is added here when a propagator is registered. */
  readonly headers: Record<string, string>;
  /** 0 for the first request, 1 for its one resend (after a 401 challenge). */
  readonly resendCount: number;
}

const KNOWN_METHODS = new Set(['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE']);
const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

/**
 * Starts the CLIENT span of one downstream HTTP request, as the OpenTelemetry HTTP client
 * conventions describe it: named by the method, with `http.request.method`, `url.full`,
 * `server.address`, `server.port` and, on a resend, `http.request.resend_count`. `url.full` leaves
 * the query out (it may carry what a caller considers private); the path is kept. The W3C trace
 * context goes into `request.headers` (a registered propagator decides what is written). Without an
 * SDK the span is the API's no-op and nothing else is done.
 */
export function startHttpClientSpan(request: HttpClientRequest): Span {
  const method = KNOWN_METHODS.has(request.method) ? request.method : '_OTHER';
  const span = oboTracer.startSpan(method === '_OTHER' ? 'HTTP' : method, { kind: SpanKind.CLIENT });
  if (span.isRecording()) {
    const url = new URL(request.origin);
    const query = request.path.indexOf('?');
    span.setAttribute(ATTR_HTTP_REQUEST_METHOD, method);
    span.setAttribute(ATTR_URL_FULL, `${request.origin}${query < 0 ? request.path : request.path.slice(0, query)}`);
    span.setAttribute(ATTR_SERVER_ADDRESS, url.hostname.replace(/^\[|\]$/g, ''));
    span.setAttribute(ATTR_SERVER_PORT, url.port === '' ? (DEFAULT_PORTS[url.protocol] ?? 0) : Number(url.port));
    if (request.resendCount > 0) span.setAttribute(ATTR_HTTP_REQUEST_RESEND_COUNT, request.resendCount);
  }
  // A valid span context means a trace to continue downstream (also an unsampled one).
  if (isSpanContextValid(span.spanContext())) propagation.inject(trace.setSpan(context.active(), span), request.headers);
  return span;
}

/** Runs `send` (which starts the request synchronously) with `span` active, so an undici instrumentation nests under it. */
export function withClientSpan<T>(span: Span, send: () => T): T {
  return span.isRecording() ? context.with(trace.setSpan(context.active(), span), send) : send();
}

/** The answer's status: `http.response.status_code`; a 4xx or 5xx marks the span failed with the status as `error.type`. */
export function recordHttpStatus(span: Span, status: number): void {
  if (!span.isRecording()) return;
  span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
  if (status >= 400) markFailed(span, String(status));
}

/** Ends the span; `failure` (an `error.type`, e.g. `ERR_OBO_DOWNSTREAM_TIMEOUT`) when the exchange failed before a full answer. */
export function endHttpClientSpan(span: Span, failure?: string): void {
  if (failure !== undefined) markFailed(span, failure);
  span.end();
}
