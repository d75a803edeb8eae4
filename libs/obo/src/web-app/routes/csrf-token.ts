import type { IncomingMessage } from 'node:http';

/** The CSRF token a request submitted: the `x-csrf-token` header, else the `_csrf` field of a parsed form or JSON body. */
export function submittedCsrfToken(req: IncomingMessage & { body?: unknown }): string | undefined {
  const header = req.headers['x-csrf-token'];
  if (typeof header === 'string' && header.length > 0) return header;
  const body = req.body;
  if (typeof body !== 'object' || body === null) return undefined;
  const field = (body as Record<string, unknown>)._csrf;
  return typeof field === 'string' && field.length > 0 ? field : undefined;
}
