import type { IncomingHttpHeaders } from 'node:http';

/** Request headers the MCP layer never sees: the client's credentials stay with the guard. */
const WITHHELD_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);

/** What {@link webRequestOf} reads of an incoming request (Express's `Request` has it). */
export interface IncomingRequest {
  readonly method: string;
  readonly originalUrl: string;
  readonly headers: IncomingHttpHeaders;
}

/**
 * The request as the MCP SDK's web-standard transport reads it: method and headers, without the
 * client's credentials (the transport hands every header to tool handlers as `requestInfo`, so a
 * tool could otherwise forward the client's token). The body is passed separately (already parsed).
 * The URL's origin is a placeholder: the transport only passes the URL on to handlers.
 */
export function webRequestOf(request: IncomingRequest): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined || WITHHELD_HEADERS.has(name)) continue;
    for (const each of Array.isArray(value) ? value : [value]) headers.append(name, each);
  }
  return new Request(new URL(request.originalUrl, 'http://mcp.invalid'), { method: request.method, headers });
}
