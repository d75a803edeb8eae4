import { fetch, type Dispatcher } from 'undici';
import { BodyTooLargeError, readCapped } from '../../http/read-capped.js';
import { parseRetryAfter } from './provider-call.js';

/** Largest token-endpoint answer read, in bytes (as for msal-node's requests). */
export const MAX_TOKEN_ANSWER_BYTES = 256 * 1024;

/** What a token endpoint answered: the status, the JSON object body (`{}` for an error status without one) and `Retry-After`. */
export interface TokenEndpointAnswer {
  readonly status: number;
  readonly body: Readonly<Record<string, unknown>>;
  readonly retryAfterSeconds?: number;
}

/** No usable answer: the deadline passed, the connection failed, or the body was too large or (on success) not a JSON object. Safe to log. */
export class TokenEndpointTransportError extends Error {
  override readonly name = 'TokenEndpointTransportError';
  constructor(
    readonly reason: 'timeout' | 'network' | 'bad-response',
    options?: { cause?: unknown },
  ) {
    super(`token endpoint: ${reason}`, options);
  }
}

function jsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined; // not JSON: the caller decides what that means for its status
  }
}

/**
 * POSTs a form to a token endpoint through the module's egress dispatcher: under `signal` (the
 * caller's deadline covers connect, headers and body), redirects refused, the body capped at
 * {@link MAX_TOKEN_ANSWER_BYTES}. An error status with a body that is not JSON (a proxy's HTML page)
 * is still an answer, with an empty body.
 * @throws {TokenEndpointTransportError}
 */
export async function postTokenRequest(url: string, form: URLSearchParams, headers: Readonly<Record<string, string>>, signal: AbortSignal, dispatcher: Dispatcher): Promise<TokenEndpointAnswer> {
  let status: number;
  let retryAfter: string | null;
  let text: string;
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: form.toString(),
      signal,
      redirect: 'error',
      dispatcher,
    });
    status = response.status;
    retryAfter = response.headers.get('retry-after');
    text = await readCapped(response, MAX_TOKEN_ANSWER_BYTES);
  } catch (error) {
    const reason = signal.aborted ? 'timeout' : error instanceof BodyTooLargeError ? 'bad-response' : 'network';
    throw new TokenEndpointTransportError(reason, { cause: error });
  }
  const body = jsonObject(text);
  if (body === undefined && status < 400) throw new TokenEndpointTransportError('bad-response');
  return { status, body: body ?? {}, retryAfterSeconds: parseRetryAfter(retryAfter) };
}
