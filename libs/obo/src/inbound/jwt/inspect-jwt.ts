import { hasDuplicateMemberNames } from './json-duplicates.js';

/** Decoded, not yet verified, parts of a compact JWS. */
export interface InspectedJwt {
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: Readonly<Record<string, unknown>>;
}

const SEGMENT = /^[A-Za-z0-9_-]+$/;

// base64url with unused trailing bits set decodes to the same bytes: one signed token could be
// sent as several strings and slip past anything keyed on the token text (caches, deny lists).
function canonical(segment: string): boolean {
  return SEGMENT.test(segment) && Buffer.from(segment, 'base64url').toString('base64url') === segment;
}
const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeObject(segment: string): Record<string, unknown> | undefined {
  if (!canonical(segment)) return undefined;
  let text: string;
  let value: unknown;
  try {
    text = utf8.decode(Buffer.from(segment, 'base64url'));
    value = JSON.parse(text);
  } catch {
    return undefined; // not UTF-8 or not JSON: the caller rejects the token as malformed
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return hasDuplicateMemberNames(text) ? undefined : (value as Record<string, unknown>);
}

/**
 * Splits a compact JWS into header and payload objects. Returns `undefined` for anything that is
 * not exactly three canonical base64url segments with JSON-object header and payload, non-empty signature,
 * valid UTF-8 and no repeated member names. Nothing here is trusted until the signature is checked.
 */
export function inspectJwt(token: string): InspectedJwt | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || !canonical(parts[2]!)) return undefined;
  const header = decodeObject(parts[0]!);
  const payload = header && decodeObject(parts[1]!);
  return header && payload ? { header, payload } : undefined;
}
