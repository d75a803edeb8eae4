import type { IncomingMessage } from 'node:http';

/** Outcome of reading the bearer token from a request. */
export type BearerExtraction =
  | { readonly kind: 'token'; readonly token: string }
  /** No credentials: no header, another scheme, or an empty `Bearer`. */
  | { readonly kind: 'missing' }
  /** Malformed: junk after the token, two headers, or a second transport. */
  | { readonly kind: 'malformed' }
  /** Longer than the configured cap; rejected before any decoding. `length` is the token's, in characters. */
  | { readonly kind: 'too-long'; readonly length: number };

/** The header lists that tell how many `Authorization` lines a request carried. */
type HeaderLines = {
  rawHeaders?: readonly string[];
  headersDistinct?: IncomingMessage['headersDistinct'];
};

/**
 * The request fields the extractor reads: Node's `IncomingMessage` (Express's request is one), or a
 * framework request around it in `raw` (Fastify's, which has no header lists of its own), plus a
 * parsed body if any.
 */
export type BearerSource = Pick<IncomingMessage, 'headers' | 'url'> &
  HeaderLines & {
    raw?: HeaderLines;
    body?: unknown;
  };

// RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token; exactly one space, nothing after.
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;
const SCHEME = /^(\S+)(?:[ \t]+([\s\S]*))?$/;

/**
 * How many `Authorization` lines the request carried. Counted on `rawHeaders` when the request has
 * them (Node builds `headersDistinct` from the same list, lower-casing every name into a new object
 * on first access), else read from `headersDistinct`. A framework request without either (Fastify's)
 * is read through the Node request in its `raw`: its `headers` hold only the first of two
 * `Authorization` lines, so they cannot tell. With no list at all, a second line cannot be ruled
 * out, and the request counts as carrying two (fail closed).
 */
function authorizationLines(request: BearerSource): number {
  const raw = request.rawHeaders ?? request.raw?.rawHeaders;
  if (!Array.isArray(raw)) {
    const distinct = request.headersDistinct ?? request.raw?.headersDistinct;
    return distinct ? (distinct.authorization?.length ?? 0) : Number.POSITIVE_INFINITY;
  }
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 13 && name.toLowerCase() === 'authorization') count++;
  }
  return count;
}

/** The scheme's length when the header starts with `Bearer ` (any case): what {@link SCHEME} finds then, without running it. */
function bearerPrefix(header: string): number {
  return header.length > 7 && header.charCodeAt(6) === 32 && header.slice(0, 6).toLowerCase() === 'bearer' ? 6 : -1;
}

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
 *
 * `known` may vouch for a candidate token that this function already accepted before (the
 * validated-token cache holds only such tokens): the exact same text passed the token68 scan then,
 * so it is not scanned again. Every other check runs as for any token.
 */
export function extractBearerToken(request: BearerSource, maxTokenLength: number, known?: (token: string) => boolean): BearerExtraction {
  if (authorizationLines(request) > 1) return { kind: 'malformed' };
  const header = request.headers.authorization;
  if (header === undefined || header === '') return { kind: 'missing' };
  let schemeLength = bearerPrefix(header);
  if (schemeLength < 0) {
    const match = SCHEME.exec(header);
    if (!match || match[1]!.toLowerCase() !== 'bearer') return { kind: 'missing' };
    schemeLength = match[1]!.length;
  }
  const rest = header.slice(schemeLength);
  if (rest.trim() === '') return { kind: 'missing' };
  if (hasOtherTransport(request)) return { kind: 'malformed' };
  if (rest.length - 1 > maxTokenLength) return { kind: 'too-long', length: rest.length - 1 };
  const token = rest.slice(1);
  if (rest[0] !== ' ') return { kind: 'malformed' };
  if (!known?.(token) && !TOKEN68.test(token)) return { kind: 'malformed' };
  return { kind: 'token', token };
}
