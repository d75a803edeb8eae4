import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import { fetch, type Dispatcher, type Response } from 'undici';
import { BodyTooLargeError, readCapped } from '../../http/read-capped.js';
import { ProviderCall, toProviderAnswer } from './provider-call.js';

const MAX_BODY_BYTES = 256 * 1024;
/** Discovery answers remembered (by URL) for explaining a failed authority resolution. */
const MAX_DISCOVERY_ANSWERS = 64;

/** What msal's last request for an OpenID Connect discovery document got: a status and the `issuer`, or a transport failure. */
export type DiscoveryAnswer = { readonly status: number; readonly issuer?: string } | { readonly failure: 'timeout' | 'network' | 'bad-response' };

/**
 * msal-node's network client, replaced so every request of a call shares that call's deadline
 * (msal alone waits 300 s on a hung endpoint), bodies are capped, and the raw OAuth error fields
 * (`claims`, `suberror`, `error_codes`, `Retry-After`) are kept for the call: msal turns some
 * claims challenges into a `ServerError` without `claims`.
 */
export class DeadlineNetworkClient implements INetworkModule {
  private readonly calls = new Map<string, ProviderCall>();
  private readonly discoveries = new Map<string, DiscoveryAnswer>();

  constructor(
    private readonly defaultTimeoutMs: number,
    /** The module's egress dispatcher (proxy, extra CAs); undici's fetch, since Node's takes no undici 7 dispatcher. */
    private readonly dispatcher: Dispatcher,
  ) {}

  /** Registers a call; its correlation id must be unique while it runs. */
  begin(call: ProviderCall): void {
    this.calls.set(call.correlationId, call);
  }

  end(call: ProviderCall): void {
    this.calls.delete(call.correlationId);
  }

  /**
   * What msal's latest discovery request under `authority` (`<instance><tenant>`) got, and its URL. msal sends discovery requests without
   * a correlation id, so they are kept by URL: the exchanger reads them to say why msal could not
   * resolve an authority (its own error says only `endpoints_resolution_error`).
   */
  discoveryAnswer(authority: string): { readonly url: string; readonly answer: DiscoveryAnswer } | undefined {
    let found: { url: string; answer: DiscoveryAnswer } | undefined;
    for (const [url, answer] of this.discoveries) if (url.startsWith(`${authority}/`)) found = { url, answer }; // the latest wins
    return found;
  }

  private noteDiscovery(url: string, method: string, answer: DiscoveryAnswer): void {
    if (method !== 'GET' || !url.endsWith('/.well-known/openid-configuration')) return;
    this.discoveries.delete(url);
    if (this.discoveries.size >= MAX_DISCOVERY_ANSWERS) this.discoveries.delete(this.discoveries.keys().next().value!);
    this.discoveries.set(url, answer);
  }

  sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions, timeout?: number): Promise<NetworkResponse<T>> {
    return this.send<T>(url, 'GET', options, timeout);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>(url, 'POST', options);
  }

  private async send<T>(url: string, method: 'GET' | 'POST', options?: NetworkRequestOptions, timeout?: number): Promise<NetworkResponse<T>> {
    const call = options?.correlationId ? this.calls.get(options.correlationId) : undefined;
    if (call?.signal.aborted) {
      // The caller was already answered (its deadline passed while msal prepared this request).
      call.transportFailure = 'timeout';
      throw new Error('identity provider request not sent: the call\'s deadline has passed');
    }
    const limits = [AbortSignal.timeout(timeout ?? this.defaultTimeoutMs)];
    if (call) limits.push(call.signal);
    const signal = AbortSignal.any(limits);
    if (call) call.requests++;
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, { method, headers: options?.headers, body: method === 'POST' ? (options?.body ?? '') : undefined, signal, redirect: 'error', dispatcher: this.dispatcher });
      text = await readCapped(response, MAX_BODY_BYTES);
    } catch (error) {
      const failure = signal.aborted ? 'timeout' : error instanceof BodyTooLargeError ? 'bad-response' : 'network';
      if (call) call.transportFailure = failure;
      this.noteDiscovery(url, method, { failure });
      throw new Error(signal.aborted ? 'identity provider request timed out' : 'identity provider unreachable', { cause: error });
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      if (call) call.transportFailure = 'bad-response';
      this.noteDiscovery(url, method, { failure: 'bad-response' });
      throw new Error('identity provider answered with a body that is not JSON');
    }
    const issuer = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).issuer : undefined;
    this.noteDiscovery(url, method, { status: response.status, issuer: typeof issuer === 'string' ? issuer.slice(0, 512) : undefined });
    if (call && response.status >= 400) call.lastErrorAnswer = toProviderAnswer(response.status, body, response.headers.get('retry-after'));
    if (call && response.status === 200 && typeof body === 'object' && body !== null && 'access_token' in body) {
      const { expires_in: expiresIn, token_type: tokenType } = body as Record<string, unknown>;
      call.tokenAnswer = { expiresIn, tokenType };
    }
    const headers: Record<string, string> = {};
    response.headers.forEach((value, key) => (headers[key] = value));
    return { headers, body: body as T, status: response.status };
  }
}
