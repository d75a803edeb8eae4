/** Longest return URL accepted. */
const MAX_LENGTH = 2_048;
/** Percent-decoding layers looked through (a server or proxy may decode twice). */
const MAX_DECODINGS = 3;
const BASE = 'http://return-url.invalid';
const CONTROL = /[\u0000-\u001f\u007f]/;
/** Percent-encoded (also double-encoded, `%25..`) control characters and backslashes. */
const ENCODED_FORBIDDEN = /%(25)*(0[0-9a-f]|1[0-9a-f]|7f|5c)/i;

/**
 * `value` as a local path to send the browser back to after sign-in, normalised (dot segments
 * resolved, unsafe characters percent-encoded), or `undefined` when it could lead anywhere else:
 * it must start with exactly one `/`, hold no `//` in its path (also once percent-decoded), no
 * backslash, no control character (raw or encoded), no scheme or host, and be at most 2,048
 * characters. Browsers read `//host`, `/\host` and `/<tab>/host` as other sites: all refused.
 * @example isLocalReturnUrl('/profile?tab=1') // '/profile?tab=1'; isLocalReturnUrl('//evil.example') // undefined
 */
export function isLocalReturnUrl(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_LENGTH) return undefined;
  if (CONTROL.test(value) || value.includes('\\') || ENCODED_FORBIDDEN.test(value)) return undefined;
  let path = value.slice(0, firstOf(value, '?#'));
  if (!isSafePath(path)) return undefined;
  for (let layer = 0; layer < MAX_DECODINGS; layer++) {
    const decoded = decode(path);
    if (decoded === undefined || !isSafePath(decoded) || CONTROL.test(decoded)) return undefined;
    if (decoded === path) break;
    if (layer === MAX_DECODINGS - 1) return undefined; // still encoded after three layers: not a path anyone writes
    path = decoded;
  }
  const url = new URL(value, BASE);
  if (url.origin !== BASE) return undefined;
  const normalised = `${url.pathname}${url.search}${url.hash}`;
  return isSafePath(normalised.slice(0, firstOf(normalised, '?#'))) ? normalised : undefined;
}

/** One `/` first, no `//` or backslash anywhere in the path. */
function isSafePath(path: string): boolean {
  return path.startsWith('/') && !path.includes('//') && !path.includes('\\');
}

function firstOf(text: string, characters: string): number {
  const found = [...characters].map((c) => text.indexOf(c)).filter((i) => i >= 0);
  return found.length ? Math.min(...found) : text.length;
}

function decode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined; // malformed percent-encoding: refused
  }
}
