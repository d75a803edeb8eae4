import { isIP } from 'node:net';

/** Throws unless `host` is a loopback address (127.0.0.0/8, ::1) or `localhost`. */
export function assertLoopback(host: string): void {
  const bare = host.replace(/^\[|\]$/g, '');
  const loopback = bare === 'localhost' || bare === '::1' || (isIP(bare) === 4 && bare.startsWith('127.'));
  if (!loopback) throw new Error(`The local authority only binds loopback addresses; refusing "${host}".`);
}

/** Throws unless `url` is an http(s) URL on a loopback host; `what` names it in the message. */
export function assertLoopbackUrl(url: string, what: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`The local authority's ${what} must be an absolute URL; got "${url}".`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`The local authority's ${what} must be http or https; got "${url}".`);
  try {
    assertLoopback(parsed.hostname);
  } catch {
    throw new Error(`The local authority only calls loopback hosts; refusing ${what} "${url}".`);
  }
}
