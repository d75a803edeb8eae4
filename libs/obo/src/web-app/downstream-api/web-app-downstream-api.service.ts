import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { OboError } from '../../errors/obo.error.js';
import type { ResolvedDownstreamApi } from '../../options/resolve-outbound-options.js';
import { readDownstreamChallenge } from '../../outbound/downstream-api/downstream-challenge.js';
import { DownstreamClient, downstreamFailed as failed, type DownstreamResponse } from '../../outbound/downstream-api/downstream-client.js';
import { downstreamJson } from '../../outbound/downstream-api/downstream-json.js';
import { downstreamUrl } from '../../outbound/downstream-api/downstream-url.js';
import { InteractionRequiredError } from '../errors/interaction-required.error.js';
import { RESOLVED_WEB_APP_OPTIONS } from '../options/web-app-options.constants.js';
import type { ResolvedWebAppOptions } from '../options/resolve-web-app-options.js';
import { WebAppTokenAcquisition } from '../token-acquisition/web-app-token-acquisition.service.js';

/** Per-call options of {@link WebAppDownstreamApi}. */
export interface WebAppDownstreamCallOptions {
  /** Query parameters appended to the path. */
  query?: Record<string, string>;
  /** Extra request headers (never `Authorization`). */
  headers?: Record<string, string>;
}

/**
 * Calls the web APIs named in `OboWebAppModule` options `downstreamApis` for the signed-in user and
 * returns parsed JSON. The API's 401 challenges come back to the browser: a claims challenge
 * (`insufficient_claims`, e.g. Conditional Access relayed by an API that called another one On-Behalf-Of
 * the user) or a step-up (`insufficient_user_authentication`, RFC 9470) throws
 * {@link InteractionRequiredError} with the claims, which `@AuthorizeForScopes()` turns into a
 * redirect to the authority. A plain 401 gets one token refresh. Failures are 502/504; API bodies are
 * never echoed.
 */
@Injectable()
export class WebAppDownstreamApi implements OnApplicationShutdown {
  private readonly logger = new Logger(WebAppDownstreamApi.name);
  private readonly client: DownstreamClient;

  constructor(
    @Inject(RESOLVED_WEB_APP_OPTIONS) private readonly options: ResolvedWebAppOptions,
    private readonly tokens: WebAppTokenAcquisition,
  ) {
    this.client = new DownstreamClient(options.shared.egress);
  }

  get<T>(name: string, path: string, options?: WebAppDownstreamCallOptions): Promise<T> {
    return this.call<T>(name, 'GET', path, undefined, options);
  }

  post<T>(name: string, path: string, body?: unknown, options?: WebAppDownstreamCallOptions): Promise<T> {
    return this.call<T>(name, 'POST', path, body, options);
  }

  private async call<T>(name: string, method: string, path: string, body: unknown, options: WebAppDownstreamCallOptions = {}): Promise<T> {
    const api = this.options.shared.downstreamApis.get(name);
    if (!api) throw new OboError('ERR_OBO_CONFIG_INVALID', `No downstream API named "${name.slice(0, 100)}" in OboWebAppModule options.downstreamApis.`);
    const url = downstreamUrl(api.baseUrl, path, options.query);
    let response = await this.send(api, method, url, await this.tokens.getAccessTokenForUser(api.scopes), body, options.headers);
    if (response.status === 401) {
      const challenge = readDownstreamChallenge(response.header('www-authenticate'));
      await response.discard();
      if (challenge.kind === 'hostile') throw failed(`Downstream API "${name}" answered 401 with a malformed challenge.`);
      // The user must act in the browser: the authority gets the claims (or a fresh sign-in).
      if (challenge.kind === 'claims') throw new InteractionRequiredError('claims', api.scopes, challenge.claims);
      if (challenge.kind === 'step-up') throw new InteractionRequiredError('step-up', api.scopes, undefined, { stepUp: { acrValues: challenge.acrValues, maxAge: challenge.maxAge } });
      response = await this.send(api, method, url, await this.tokens.getAccessTokenForUser(api.scopes, { forceRefresh: true }), body, options.headers, 1);
    }
    return downstreamJson<T>(response, name, this.logger);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }

  /** `resendCount` 1: the one retry after a plain 401 (`http.request.resend_count` on its span). */
  private send(api: ResolvedDownstreamApi, method: string, url: ReturnType<typeof downstreamUrl>, token: string, body: unknown, extra?: Record<string, string>, resendCount = 0): Promise<DownstreamResponse> {
    if (extra !== undefined && Object.keys(extra).some((h) => h.toLowerCase() === 'authorization')) {
      return Promise.reject(new OboError('ERR_OBO_CONFIG_INVALID', 'Do not pass an Authorization header to WebAppDownstreamApi; it sets the token itself.'));
    }
    const headers: Record<string, string> = { accept: 'application/json', ...extra, authorization: `Bearer ${token}` };
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) headers['content-type'] = 'application/json';
    return this.client.send({ method, url, headers, body: payload, timeoutMs: api.timeoutMs, resendCount });
  }
}
