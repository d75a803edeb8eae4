import type { IncomingMessage } from 'node:http';

/** Outcome of reading the bearer token from a request. */
export type BearerExtraction =
  | { readonly kind: 'token'; readonly token: string }
  /** No credentials: no header, another scheme, or an empty `Bearer`. */
  | { readonly kind: 'missing' }
  /** Malformed: junk after the token, two headers, or a second transport. */
  | { readonly kind: 'malformed' }
  /** Longer than the configured cap; rejected before any decoding. */
  | { readonly kind: 'too-long' };

/** The request fields the extractor reads (Node's `IncomingMessage`, plus a parsed body if any). */
export type BearerSource = Pick<IncomingMessage, 'headers' | 'url'> & { headersDistinct?: IncomingMessage['headersDistinct']; body?: unknown };

// RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token; exactly one space, nothing after.
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;
const SCHEME = /^(\S+)(?:[ \t]+([\s\S]*))?$/;

function hasOtherTransport(request: BearerSource): boolean {
  const query = request.url?.indexOf('?') ?? -1;
  if (query >= 0 && new URLSearchParams(request.url!.slice(query + 1)).has('access_token')) return true;
  const body = request.body;
  return typeof body === 'object' && body !== null && Object.prototype.hasOwnProperty.call(body, 'access_token');
}

/**
 * Reads exactly one `Authorization: Bearer <token68>` header (scheme case-insensitive). Tokens in
 * query strings, bodies or cookies are never read; a second header or a second transport next to
 * the header is malformed (RFC 6750 §2, §3.1).
 */
export function extractBearerToken(request: BearerSource, maxTokenLength: number): BearerExtraction {
  const distinct = request.headersDistinct?.authorization;
  if (distinct && distinct.length > 1) return { kind: 'malformed' };
  const header = request.headers.authorization;
  if (header === undefined || header === '') return { kind: 'missing' };
  const match = SCHEME.exec(header);
  if (!match || match[1]!.toLowerCase() !== 'bearer') return { kind: 'missing' };
  const rest = header.slice(match[1]!.length);
  if (rest.trim() === '') return { kind: 'missing' };
  if (hasOtherTransport(request)) return { kind: 'malformed' };
  if (rest.length - 1 > maxTokenLength) return { kind: 'too-long' };
  const token = rest.slice(1);
  if (rest[0] !== ' ' || !TOKEN68.test(token)) return { kind: 'malformed' };
  return { kind: 'token', token };
}
