import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { OboError, StepUpRequiredError } from '../../errors/obo.error.js';
import { RESOLVED_OBO_OPTIONS } from '../../options/obo-options.constants.js';
import type { ResolvedDownstreamApi } from '../../options/resolve-outbound-options.js';
import type { ResolvedOboOptions } from '../../options/resolve-obo-options.js';
import { TokenAcquisition } from '../token-acquisition/token-acquisition.service.js';
import { DownstreamClient, downstreamFailed as failed, type DownstreamResponse, type DownstreamUrl } from './downstream-client.js';
import { readDownstreamChallenge } from './downstream-challenge.js';
import { downstreamJson } from './downstream-json.js';
import { downstreamUrl } from './downstream-url.js';

/** Per-call options of {@link DownstreamApi}. */
export interface DownstreamCallOptions {
  /** Query parameters appended to the path. */
  query?: Record<string, string>;
  /** Extra request headers (never `Authorization`: the token is ours to set). */
  headers?: Record<string, string>;
}

type Api = ResolvedDownstreamApi;
/** Paths remembered per downstream API (see `urlOf`). */
const MAX_REMEMBERED_PATHS = 256;

/**
 * Calls the downstream APIs named in the module options with a token for the current user
 * (On-Behalf-Of) or for this API itself, and returns parsed JSON. A downstream claims challenge
 * (CAE) drops the cached token and re-acquires it once with those claims; if the user must sign in
 * again, the challenge reaches our client as a 401. An RFC 9470 step-up challenge
 * (`insufficient_user_authentication`) reaches our client as the same 401 at once (no token could
 * satisfy it). A plain 401 gets one refresh. Downstream failures become 502/504; downstream bodies
 * are never echoed.
 */
@Injectable()
export class DownstreamApi implements OnApplicationShutdown {
  private readonly logger = new Logger(DownstreamApi.name);
  private readonly urls = new WeakMap<Api, Map<string, DownstreamUrl>>();
  private readonly client: DownstreamClient;

  constructor(
    @Inject(RESOLVED_OBO_OPTIONS) private readonly options: ResolvedOboOptions,
    private readonly tokens: TokenAcquisition,
  ) {
    this.client = new DownstreamClient(options.egress);
  }

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
    const cached = api.tokenKind === 'user' ? this.tokens.cachedTokenForCurrentUser(api.scopes, api) : undefined;
    let response = await this.send(api, method, url, cached ?? (await this.token(api, {})), body, options.headers);
    if (response.status === 401) {
      const challenge = readDownstreamChallenge(response.header('www-authenticate'));
      await response.discard();
      if (challenge.kind === 'hostile') throw failed(`Downstream API "${name}" answered 401 with a malformed challenge.`);
      // RFC 9470: only the user can satisfy it (sign in again); the client gets the same challenge.
      if (challenge.kind === 'step-up') {
        if (api.tokenKind !== 'user') throw failed(`Downstream API "${name}" asked an app-only call for user step-up authentication.`);
        throw new StepUpRequiredError(challenge.acrValues, challenge.maxAge);
      }
      if (api.tokenKind === 'user') await this.tokens.evictUserToken(api.scopes, { audience: api.audience, resource: api.resource });
      const renewal = challenge.kind === 'claims' ? { claims: challenge.claims } : { forceRefresh: true };
      response = await this.send(api, method, url, await this.token(api, renewal), body, options.headers, 1);
    }
    return downstreamJson<T>(response, name, this.logger);
  }

  /** Closes the module's own egress dispatcher (every outbound path's) once the app has stopped serving. */
  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }

  /** A token for `api`: on Entra ID its scopes name the resource; at another authority its audience/resource does. */
  private token(api: Api, renewal: { claims?: string; forceRefresh?: boolean }): Promise<string> {
    const generic = this.options.provider === 'oidc';
    if (api.tokenKind === 'app') {
      const forceRefresh = renewal.forceRefresh || renewal.claims !== undefined;
      if (generic) return this.tokens.getAccessTokenForApp(api.scopes, { audience: api.audience, resource: api.resource, forceRefresh });
      return this.tokens.getAccessTokenForApp(api.scopes[0]!, { tenantId: api.tenantId, forceRefresh });
    }
    return this.tokens.getAccessTokenForUser(api.scopes, generic ? { ...renewal, audience: api.audience, resource: api.resource } : renewal);
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
    return downstreamUrl(api.baseUrl, path, query);
  }

  /**
   * Not `async`: one promise less per call on the hot path. Every failure is a rejection.
   * `resendCount` 1: the one retry after a 401 (`http.request.resend_count` on its span).
   */
  private send(api: Api, method: string, url: DownstreamUrl, token: string, body: unknown, extra?: Record<string, string>, resendCount = 0): Promise<DownstreamResponse> {
    if (extra !== undefined && Object.keys(extra).some((h) => h.toLowerCase() === 'authorization')) {
      return Promise.reject(new OboError('ERR_OBO_CONFIG_INVALID', 'Do not pass an Authorization header to DownstreamApi; it sets the token itself.'));
    }
    const authorization = `Bearer ${token}`;
    const headers: Record<string, string> = extra === undefined ? { accept: 'application/json', authorization } : { accept: 'application/json', ...extra, authorization };
    let payload: string | undefined;
    try {
      payload = body === undefined ? undefined : JSON.stringify(body);
    } catch (error) {
      return Promise.reject(failed(`Downstream API at ${url.host} is unreachable.`, error)); // as a failed request always was
    }
    if (payload !== undefined) headers['content-type'] = 'application/json';
    return this.client.send({ method, url, headers, body: payload, timeoutMs: api.timeoutMs, resendCount });
  }
}
