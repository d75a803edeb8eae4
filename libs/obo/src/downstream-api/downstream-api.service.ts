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
    let response = await this.send(api, method, url, await this.token(api, {}), body, options.headers);
    if (response.status === 401) {
      const challenge = readDownstreamChallenge(response.headers.get('www-authenticate'));
      await discard(response);
      if (challenge.kind === 'hostile') throw failed(`Downstream API "${name}" answered 401 with a malformed challenge.`);
      if (api.tokenKind === 'user') await this.tokens.evictUserToken(api.scopes);
      const renewal = challenge.kind === 'claims' ? { claims: challenge.claims } : { forceRefresh: true };
      response = await this.send(api, method, url, await this.token(api, renewal), body, options.headers);
      if (response.status === 401) {
        await discard(response);
        throw failed(`Downstream API "${name}" refused a freshly acquired token.`);
      }
    }
    if (!response.ok) {
      await discard(response);
      this.logger.warn(`Downstream API "${name}" answered ${response.status}.`);
      throw failed(`Downstream API "${name}" answered ${response.status}.`);
    }
    return parse<T>(response, name);
  }

  private token(api: Api, renewal: { claims?: string; forceRefresh?: boolean }): Promise<string> {
    if (api.tokenKind === 'app') return this.tokens.getAccessTokenForApp(api.scopes[0]!, { forceRefresh: renewal.forceRefresh || renewal.claims !== undefined });
    return this.tokens.getAccessTokenForUser(api.scopes, renewal);
  }

  private urlOf(api: Api, path: string, query?: Record<string, string>): URL {
    if (typeof path !== 'string' || !path.startsWith('/') || path.startsWith('//')) {
      throw new OboError('ERR_OBO_CONFIG_INVALID', 'Downstream paths must start with a single "/".');
    }
    const url = new URL(`${api.baseUrl}${path}`);
    // After normalisation (`..`, encoded slashes) the URL must still be under the base URL.
    if (url.href !== api.baseUrl && !url.href.startsWith(`${api.baseUrl}/`)) {
      throw new OboError('ERR_OBO_CONFIG_INVALID', 'Downstream path leaves the configured base URL.');
    }
    for (const [key, value] of Object.entries(query ?? {})) url.searchParams.append(key, value);
    return url;
  }

  private async send(api: Api, method: string, url: URL, token: string, body: unknown, extra: Record<string, string> = {}): Promise<Response> {
    if (Object.keys(extra).some((h) => h.toLowerCase() === 'authorization')) {
      throw new OboError('ERR_OBO_CONFIG_INVALID', 'Do not pass an Authorization header to DownstreamApi; it sets the token itself.');
    }
    const headers: Record<string, string> = { accept: 'application/json', ...extra, authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const signal = AbortSignal.timeout(api.timeoutMs);
    try {
      return await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal, redirect: 'manual' });
    } catch (error) {
      if (signal.aborted) throw new OboError('ERR_OBO_DOWNSTREAM_TIMEOUT', `Downstream API at ${url.host} did not answer within ${api.timeoutMs} ms.`, { cause: error });
      throw failed(`Downstream API at ${url.host} is unreachable.`, error);
    }
  }
}

async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined); // the body is never read or echoed
}

async function parse<T>(response: Response, name: string): Promise<T> {
  let text: string;
  try {
    text = await readCapped(response, MAX_RESPONSE_BYTES);
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
