import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse, serialize } from 'cookie';
import type { ResolvedSessionOptions } from './resolve-session-options.js';

/**
 * The session cookie's value in `req`, or `undefined` when there is none or more than one: two
 * cookies of one name (one set by a sibling subdomain, say) are ambiguous, and we pick neither.
 */
export function readSessionCookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  let count = 0;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === name && ++count > 1) return undefined;
  }
  return count === 1 ? parse(header)[name] : undefined;
}

/**
 * Sets the session cookie on `res` (`maxAgeSeconds` 0 clears it): `HttpOnly`, `SameSite=Lax`,
 * `Path=/`, `Secure` on https, no `Domain`. Other `Set-Cookie` headers are kept; an earlier one for
 * this cookie in the same response is replaced.
 */
export function writeSessionCookie(res: ServerResponse, options: ResolvedSessionOptions, value: string, maxAgeSeconds: number): void {
  const name = options.cookieName;
  const cookie = serialize(name, value, { httpOnly: true, sameSite: 'lax', path: '/', secure: options.secure, maxAge: maxAgeSeconds });
  const existing = res.getHeader('set-cookie');
  const kept = (existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)]).filter((c) => !c.startsWith(`${name}=`));
  res.setHeader('set-cookie', [...kept, cookie]);
}
