import { fetch, type Dispatcher } from 'undici';
import { BodyTooLargeError, readCapped } from './read-capped.js';

/** Why a JSON fetch failed; safe to log (no body, no headers). */
export class FetchJsonError extends Error {
  constructor(
    readonly reason: 'timeout' | 'network' | 'status' | 'too-large' | 'not-json',
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(status === undefined ? reason : `${reason} ${status}`, options);
    this.name = 'FetchJsonError';
  }
}

export interface FetchJsonOptions {
  /** Overall deadline in milliseconds, covering connect, headers and body. */
  timeoutMs: number;
  /** Largest accepted body in bytes; larger bodies are abandoned while streaming. */
  maxBytes: number;
  /** The module's egress dispatcher (proxy, extra CAs); every outbound request goes through it. */
  dispatcher: Dispatcher;
}

/**
 * GETs a JSON document with an overall deadline and a body cap; redirects are refused.
 * @throws {FetchJsonError}
 */
export async function fetchJson(url: string, { timeoutMs, maxBytes, dispatcher }: FetchJsonOptions): Promise<unknown> {
  const signal = AbortSignal.timeout(timeoutMs);
  let text: string;
  try {
    // undici's own fetch, not Node's bundled one: only it takes an undici 7 dispatcher.
    const response = await fetch(url, { signal, redirect: 'error', headers: { accept: 'application/json' }, dispatcher });
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => undefined); // the body is not needed; a failed cancel changes nothing
      throw new FetchJsonError('status', response.status);
    }
    text = await readCapped(response, maxBytes);
  } catch (error) {
    if (error instanceof FetchJsonError) throw error;
    if (error instanceof BodyTooLargeError) throw new FetchJsonError('too-large');
    throw new FetchJsonError(signal.aborted ? 'timeout' : 'network', undefined, { cause: error });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new FetchJsonError('not-json', undefined, { cause: error });
  }
}
