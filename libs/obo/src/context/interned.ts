import { LRUCache } from 'lru-cache';

/**
 * Distinct values remembered per kind. Tenant ids, client ids and scope or role lists repeat across
 * nearly every principal and cached token; past this many distinct values the least recently used
 * are forgotten (a forgotten value is simply copied again).
 */
const MAX_INTERNED = 1_000;

const texts = new LRUCache<string, string>({ max: MAX_INTERNED });
const lists = new LRUCache<string, readonly string[]>({ max: MAX_INTERNED });
const NONE: readonly string[] = Object.freeze([]);

/**
 * One shared copy of a short text many cache entries hold (a tenant id, a client id): each JSON
 * parse makes a new string, and a cache of 100,000 principals would hold 100,000 equal copies.
 */
export function internText(value: string): string {
  const known = texts.get(value);
  if (known !== undefined) return known;
  texts.set(value, value);
  return value;
}

/** One shared frozen copy of a list of texts (scopes, roles) equal to `list`, element for element. */
export function internList(list: readonly string[]): readonly string[] {
  if (list.length === 0) return NONE;
  // A NUL cannot occur in a scope token (RFC 6749 §3.3); a list whose texts hold one is not shared.
  if (list.some((text) => text.includes('\0'))) return Object.freeze([...list]);
  const key = list.join('\0');
  const known = lists.get(key);
  if (known !== undefined) return known;
  const frozen = Object.freeze([...list]);
  lists.set(key, frozen);
  return frozen;
}
