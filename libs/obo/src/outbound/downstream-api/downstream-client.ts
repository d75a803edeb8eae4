import type { Span } from '@opentelemetry/api';
import type { Dispatcher } from 'undici';
import { OboError } from '../../errors/obo.error.js';
import { endHttpClientSpan, recordHttpStatus, startHttpClientSpan, withClientSpan } from '../../observability/http-client-span.js';
import { MAX_EGRESS_RESPONSE_BYTES, resolveEgress, type ResolvedEgress } from '../../options/resolve-egress.js';

/** Largest downstream response body read, in bytes; a larger one is abandoned mid-stream. */
export const MAX_DOWNSTREAM_RESPONSE_BYTES = MAX_EGRESS_RESPONSE_BYTES;

/** A checked downstream URL, split the way the HTTP client takes it. */
export interface DownstreamUrl {
  /** `scheme://host[:port]`. */
  readonly origin: string;
  /** Path and query, starting with `/`. */
  readonly path: string;
  /** `host[:port]`, for error messages. */
  readonly host: string;
}

/** One downstream request. */
export interface DownstreamRequest {
  readonly method: string;
  readonly url: DownstreamUrl;
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
  /** Deadline of the whole exchange (connect, headers and body), in milliseconds. */
  readonly timeoutMs: number;
  /** 1 when this request resends an earlier one (after a 401 challenge); default 0. */
  readonly resendCount?: number;
}

/** `ERR_OBO_DOWNSTREAM_FAILED` (502): a downstream API failed or answered what we cannot use. */
export function downstreamFailed(message: string, cause?: unknown): OboError {
  return new OboError('ERR_OBO_DOWNSTREAM_FAILED', message, { cause });
}

/**
 * The deadline of one exchange, handed to undici as its abort signal. undici accepts any object with
 * `aborted`, `reason` and `addEventListener`/`removeEventListener` (as it does an AbortSignal) and
 * registers one listener per request; keeping it in a field costs less per call than an EventEmitter
 * (a listener map, a `once` wrapper) or an AbortController (an EventTarget). A dispatcher of the
 * user's that registers more gets them all called.
 */
class Deadline {
  expired = false;
  /** Read by undici: true once the deadline has passed. */
  aborted = false;
  /** Read by undici as the abort reason. */
  reason: Error | undefined = undefined;
  private listener: (() => void) | undefined = undefined;
  private more: (() => void)[] | undefined = undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(timeoutMs: number) {
    this.timer = setTimeout(() => this.expire(timeoutMs), timeoutMs);
    this.timer.unref();
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    if (this.listener === undefined) this.listener = listener;
    else (this.more ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    if (this.listener === listener) this.listener = undefined;
    else if (this.more) this.more = this.more.filter((other) => other !== listener);
  }

  clear(): void {
    clearTimeout(this.timer);
  }

  private expire(timeoutMs: number): void {
    this.expired = true;
    this.aborted = true;
    this.reason = new Error(`deadline of ${timeoutMs} ms passed`);
    const listeners = [this.listener, ...(this.more ?? [])];
    this.listener = undefined;
    this.more = undefined;
    for (const listener of listeners) listener?.();
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A downstream answer whose body has not been read yet. Exactly one of {@link text} or
 * {@link discard} must be called; both end the deadline.
 */
export class DownstreamResponse {
  constructor(
    /** The HTTP status code. */
    readonly status: number,
    private readonly headers: Record<string, string | string[] | undefined>,
    private readonly body: Dispatcher.ResponseData['body'],
    private readonly deadline: Deadline,
    private readonly timeoutMs: number,
    private readonly host: string,
    /** Whether the body must be counted here: the dispatcher is the user's, so it does not cap bodies. */
    private readonly countBody: boolean,
    /** The request's CLIENT span, ended once the body is read or discarded. */
    private readonly span: Span,
  ) {}

  /** A response header; repeated lines are joined with `, ` (as the Fetch standard does). */
  header(name: string): string | null {
    const value = this.headers[name];
    if (value === undefined) return null;
    return typeof value === 'string' ? value : value.join(', ');
  }

  /**
   * The body as strict UTF-8 text, read within the deadline and the size cap. A compressed body
   * is refused: we never ask for one (no `Accept-Encoding`), so it can only be a misbehaving server.
   * @throws {OboError} `ERR_OBO_DOWNSTREAM_TIMEOUT` past the deadline, `ERR_OBO_DOWNSTREAM_FAILED` otherwise.
   */
  text(): Promise<string> {
    // Not `async`: one promise less per call on the hot path. Every failure is a rejection.
    const encoding = this.header('content-encoding');
    const read =
      encoding !== null && encoding.trim().toLowerCase() !== 'identity'
        ? Promise.reject(new Error(`unrequested Content-Encoding ${encoding.slice(0, 40)}`))
        : this.countBody
          ? readCappedBody(this.body, MAX_DOWNSTREAM_RESPONSE_BYTES)
          : this.body.bytes(); // the module's dispatcher refuses an oversized body itself
    return read.then(
      (bytes) => {
        this.deadline.clear();
        try {
          const text = utf8.decode(bytes);
          endHttpClientSpan(this.span);
          return text;
        } catch (error) {
          endHttpClientSpan(this.span, 'ERR_OBO_DOWNSTREAM_FAILED');
          throw downstreamFailed(`Downstream API at ${this.host} sent an unreadable or oversized body.`, error);
        }
      },
      (error: unknown) => {
        this.deadline.clear();
        this.body.on('error', () => undefined).destroy(); // frees the socket; the error is reported below
        const failure = this.deadline.expired ? timedOut(this.host, this.timeoutMs, error) : downstreamFailed(`Downstream API at ${this.host} sent an unreadable or oversized body.`, error);
        endHttpClientSpan(this.span, failure.code);
        throw failure;
      },
    );
  }

  /** Reads and drops the body (never echoed), freeing the connection when it is small. */
  async discard(): Promise<void> {
    try {
      await this.body.dump({ limit: 65_536 });
    } catch {
      // Already refused; dumping only frees the socket.
    } finally {
      this.deadline.clear();
      endHttpClientSpan(this.span);
    }
  }
}

/** Reads a body counting bytes, for a dispatcher that does not cap bodies; throws past `maxBytes`. */
async function readCappedBody(body: Dispatcher.ResponseData['body'], maxBytes: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > maxBytes) throw new Error(`response body over ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

function timedOut(host: string, timeoutMs: number, cause: unknown): OboError {
  return new OboError('ERR_OBO_DOWNSTREAM_TIMEOUT', `Downstream API at ${host} did not answer within ${timeoutMs} ms.`, { cause });
}

/**
 * The HTTP client of {@link DownstreamApi}: undici's `request` on the module's egress dispatcher, by
 * default one keep-alive connection pool per module (Node's `fetch` costs several times the CPU per
 * call on the hot path). Every exchange has one deadline covering connect, headers and body; bodies
 * are capped; redirects are not followed (also when the user's dispatcher has a redirect
 * interceptor); nothing is decompressed.
 */
export class DownstreamClient {
  private readonly dispatcher: Dispatcher;
  private readonly countBodies: boolean;
  private closing = false;

  /** @param egress The module's egress; by default a direct pool of the client's own. */
  constructor(private readonly egress: ResolvedEgress = resolveEgress(undefined)) {
    this.dispatcher = egress.dispatcher;
    this.countBodies = !egress.owned;
  }

  /**
   * Sends `request`. Not `async`: one promise less per call.
   * @throws {OboError} `ERR_OBO_DOWNSTREAM_TIMEOUT` or `ERR_OBO_DOWNSTREAM_FAILED` (as a rejection).
   */
  send(request: DownstreamRequest): Promise<DownstreamResponse> {
    const { url, timeoutMs, headers } = request;
    // One CLIENT span per request (OpenTelemetry HTTP conventions); a no-op without an SDK.
    const span = startHttpClientSpan({ method: request.method, origin: url.origin, path: url.path, headers, resendCount: request.resendCount ?? 0 });
    const deadline = new Deadline(timeoutMs);
    let pending: Promise<Dispatcher.ResponseData>;
    try {
      const options = {
        origin: url.origin,
        path: url.path,
        method: request.method as Dispatcher.HttpMethod,
        headers,
        body: request.body,
        signal: deadline,
        maxRedirections: 0, // read by undici's redirect interceptor, should the user's dispatcher have one
      } as Dispatcher.RequestOptions;
      pending = withClientSpan(span, () => this.dispatcher.request(options));
    } catch (error) {
      deadline.clear();
      endHttpClientSpan(span, 'ERR_OBO_DOWNSTREAM_FAILED');
      return Promise.reject(downstreamFailed(`Downstream API at ${url.host} is unreachable.`, error)); // e.g. a header value undici refuses
    }
    return pending.then(
      (response) => {
        recordHttpStatus(span, response.statusCode);
        return new DownstreamResponse(response.statusCode, response.headers, response.body, deadline, timeoutMs, url.host, this.countBodies, span);
      },
      (error: unknown) => {
        deadline.clear();
        const failure = deadline.expired ? timedOut(url.host, timeoutMs, error) : downstreamFailed(`Downstream API at ${url.host} is unreachable.`, error);
        endHttpClientSpan(span, failure.code);
        throw failure;
      },
    );
  }

  /**
   * Closes the module's own dispatcher (the one egress dispatcher of every outbound path), letting
   * requests in flight finish; a dispatcher the user gave is left open. Called at application
   * shutdown, after the app has stopped serving.
   */
  async close(): Promise<void> {
    if (!this.egress.owned || this.closing) return;
    this.closing = true;
    await this.dispatcher.close();
  }
}
