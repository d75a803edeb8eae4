import { Inject, Injectable, Logger } from '@nestjs/common';
import { OboError } from '../errors/obo.error.js';
import { RESOLVED_OBO_OPTIONS } from '../options/obo-options.constants.js';
import type { DownstreamApiOptions } from '../options/obo-module-options.interface.js';
import type { ResolvedOboOptions } from '../options/resolve-obo-options.js';
import { TokenAcquisition } from '../token-acquisition/token-acquisition.service.js';
import { readCapped } from '../http/read-capped.js';
import { readDownstreamChallenge } from './downstream-challenge.js';

/** Per-call options of {@link DownstreamApi}. */
export interface DownstreamCallOptions {
  /** Query parameters appended to the path. */
  query?: Record<string, string>;
  /** Extra request headers (never `Authorization`: the token is ours to set). */
  headers?: Record<string, string>;
}

type Api = Required<DownstreamApiOptions>;
const MAX_RESPONSE_BYTES = 10 * 1024 * 1024;
/** Paths remembered per downstream API (see `urlOf`). */
const MAX_REMEMBERED_PATHS = 256;

/** A checked downstream URL. */
interface DownstreamUrl {
  readonly href: string;
  readonly host: string;
}

/**
 * The deadline of one request: aborts it (and the reading of its body) after `timeoutMs`, like
 * `AbortSignal.timeout`, but cleared as soon as the response is consumed. `AbortSignal.timeout`
 * leaves an armed timer, a WeakRef and a FinalizationRegistry entry per call until the timeout
 * passes (10 s by default): tens of thousands of them under load, all work for the GC.
 */
class Deadline {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;

  constructor(timeoutMs: number) {
    const controller = this.controller;
    this.timer = setTimeout(() => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), timeoutMs);
    this.timer.unref();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  clear(): void {
    clearTimeout(this.timer);
  }
}

/** A response and the deadline that still covers reading its body. */
interface Attempt {
  readonly response: Response;
  readonly deadline: Deadline;
}

function failed(message: string, cause?: unknown): OboError {
  return new OboError('ERR_OBO_DOWNSTREAM_FAILED', message, { cause });
}

/**
 * Calls the downstream APIs named in the module options with a token for the current user
 * (On-Behalf-Of) or for this API itself, and returns parsed JSON. A downstream claims challenge
 * (CAE) drops the cached token and re-acquires it once with those claims; if the user must sign in
 * again, the challenge reaches our client as a 401. A plain 401 gets one refresh. Downstream
 * failures become 502/504; downstream bodies are never echoed.
 */
@Injectable()
export class DownstreamApi {
  private readonly logger = new Logger(DownstreamApi.name);
  private readonly urls = new WeakMap<Api, Map<string, DownstreamUrl>>();

  constructor(
    @Inject(RESOLVED_OBO_OPTIONS) private readonly options: ResolvedOboOptions,
    private readonly tokens: TokenAcquisition,
  ) {}

  /** GET `path` of the downstream API `name`. */
  get<T>(name: string, path: string, options?: DownstreamCallOptions): Promise<T> {
    return this.call<T>(name, 'GET', path, undefined, options);
  }

  post<T>(name: string, path: string, body?: unknown, options?: DownstreamCallOptions): Promise<T> {
    return this.call<T>(name, 'POST', path, body, options);
  }

  put<T>(name: string, path: string, body?: unknown, options?: DownstreamCallOptions): Promise<T> {
    return this.call<T>(name, 'PUT', path, body, options);
  }

  patch<T>(name: string, path: string, body?: unknown, options?: DownstreamCallOptions): Promise<T> {
    return this.call<T>(name, 'PATCH', path, body, options);
  }

  delete<T>(name: string, path: string, options?: DownstreamCallOptions): Promise<T> {
    return this.call<T>(name, 'DELETE', path, undefined, options);
  }

  private async call<T>(name: string, method: string, path: string, body: unknown, options: DownstreamCallOptions = {}): Promise<T> {
    const api = this.options.downstreamApis.get(name);
    if (!api) throw new OboError('ERR_OBO_CONFIG_INVALID', `No downstream API named "${name.slice(0, 100)}" in OboModule options.downstreamApis.`);
    const url = this.urlOf(api, path, options.query);
    let attempt = await this.send(api, method, url, await this.token(api, {}), body, options.headers);
    try {
      if (attempt.response.status === 401) {
        const challenge = readDownstreamChallenge(attempt.response.headers.get('www-authenticate'));
        await discard(attempt.response);
        attempt.deadline.clear();
        if (challenge.kind === 'hostile') throw failed(`Downstream API "${name}" answered 401 with a malformed challenge.`);
        if (api.tokenKind === 'user') await this.tokens.evictUserToken(api.scopes);
        const renewal = challenge.kind === 'claims' ? { claims: challenge.claims } : { forceRefresh: true };
        attempt = await this.send(api, method, url, await this.token(api, renewal), body, options.headers);
        if (attempt.response.status === 401) {
          await discard(attempt.response);
          throw failed(`Downstream API "${name}" refused a freshly acquired token.`);
        }
      }
      const { response } = attempt;
      if (!response.ok) {
        await discard(response);
        this.logger.warn(`Downstream API "${name}" answered ${response.status}.`);
        throw failed(`Downstream API "${name}" answered ${response.status}.`);
      }
      // The deadline covers reading the body too: it is cleared only once the body is read.
      return await parse<T>(response, name);
    } finally {
      attempt.deadline.clear();
    }
  }

  private token(api: Api, renewal: { claims?: string; forceRefresh?: boolean }): Promise<string> {
    if (api.tokenKind === 'app') return this.tokens.getAccessTokenForApp(api.scopes[0]!, { forceRefresh: renewal.forceRefresh || renewal.claims !== undefined });
    return this.tokens.getAccessTokenForUser(api.scopes, renewal);
  }

  /**
   * The URL of `path` under the API's base URL. Without a query the result of a (base URL, path)
   * pair is remembered (a bounded map per API, emptied when full), so a route that calls the same
   * path on every request parses and checks it once.
   */
  private urlOf(api: Api, path: string, query?: Record<string, string>): DownstreamUrl {
    if (query === undefined) {
      let known = this.urls.get(api);
      const hit = known?.get(path);
      if (hit) return hit;
      const url = this.buildUrl(api, path, undefined);
      if (!known) this.urls.set(api, (known = new Map()));
      if (known.size >= MAX_REMEMBERED_PATHS) known.clear();
      known.set(path, url);
      return url;
    }
    return this.buildUrl(api, path, query);
  }

  private buildUrl(api: Api, path: string, query?: Record<string, string>): DownstreamUrl {
    if (typeof path !== 'string' || !path.startsWith('/') || path.startsWith('//')) {
      throw new OboError('ERR_OBO_CONFIG_INVALID', 'Downstream paths must start with a single "/".');
    }
    const url = new URL(`${api.baseUrl}${path}`);
    // After normalisation (`..`, encoded slashes) the URL must still be under the base URL.
    if (url.href !== api.baseUrl && !url.href.startsWith(`${api.baseUrl}/`)) {
      throw new OboError('ERR_OBO_CONFIG_INVALID', 'Downstream path leaves the configured base URL.');
    }
    for (const [key, value] of Object.entries(query ?? {})) url.searchParams.append(key, value);
    return Object.freeze({ href: url.href, host: url.host });
  }

  /** Not `async`: one promise less per call on the hot path. Every failure is a rejection. */
  private send(api: Api, method: string, url: DownstreamUrl, token: string, body: unknown, extra?: Record<string, string>): Promise<Attempt> {
    if (extra !== undefined && Object.keys(extra).some((h) => h.toLowerCase() === 'authorization')) {
      return Promise.reject(new OboError('ERR_OBO_CONFIG_INVALID', 'Do not pass an Authorization header to DownstreamApi; it sets the token itself.'));
    }
    const authorization = `Bearer ${token}`;
    const headers: Record<string, string> = extra === undefined ? { accept: 'application/json', authorization } : { accept: 'application/json', ...extra, authorization };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let payload: string | undefined;
    try {
      payload = body === undefined ? undefined : JSON.stringify(body);
    } catch (error) {
      return Promise.reject(failed(`Downstream API at ${url.host} is unreachable.`, error)); // as a failed fetch always was
    }
    const deadline = new Deadline(api.timeoutMs);
    return fetch(url.href, { method, headers, body: payload, signal: deadline.signal, redirect: 'manual' }).then(
      (response): Attempt => ({ response, deadline }),
      (error: unknown) => {
        deadline.clear();
        if (deadline.signal.aborted) throw new OboError('ERR_OBO_DOWNSTREAM_TIMEOUT', `Downstream API at ${url.host} did not answer within ${api.timeoutMs} ms.`, { cause: error });
        throw failed(`Downstream API at ${url.host} is unreachable.`, error);
      },
    );
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const CONTENT_LENGTH = /^\d{1,9}$/;

function hasPlainBodyWithinCap(headers: Headers): boolean {
  const declared = headers.get('content-length');
  return declared !== null && CONTENT_LENGTH.test(declared) && Number(declared) <= MAX_RESPONSE_BYTES && !headers.has('content-encoding') && !headers.has('transfer-encoding');
}

async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined); // the body is never read or echoed
}

async function parse<T>(response: Response, name: string): Promise<T> {
  let text: string;
  try {
    // A plain body (no Content-Encoding, no Transfer-Encoding) whose Content-Length is within the
    // cap cannot grow past it (the HTTP parser reads exactly that many bytes), so it is read in one
    // piece; any other body is read as a stream and abandoned as soon as it passes the cap.
    // Invalid UTF-8 throws either way.
    text = hasPlainBodyWithinCap(response.headers) ? utf8.decode(await response.arrayBuffer()) : await readCapped(response, MAX_RESPONSE_BYTES);
  } catch (error) {
    throw failed(`Downstream API "${name}" sent an unreadable or oversized body.`, error);
  }
  if (text === '') return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw failed(`Downstream API "${name}" answered with a body that is not JSON.`, error);
  }
}
