import { claimsOf } from './issued-token-check.js';

/**
 * Most nested actors (`act`, RFC 8693 §4.1) a subject token may already carry for a token exchange:
 * Auth0 refuses a token that already has five, and each exchange adds one.
 */
export const MAX_SUBJECT_ACTORS = 4;
/** Levels counted at most; a deeper chain counts as this many. */
const COUNT_LIMIT = 32;

/** How many nested `act` objects the JWT `token` carries (0 when none, or when it is not a JWT). */
export function actorDepth(token: string): number {
  let level: unknown = claimsOf(token)?.act;
  let depth = 0;
  while (typeof level === 'object' && level !== null && !Array.isArray(level) && depth < COUNT_LIMIT) {
    depth++;
    level = (level as Record<string, unknown>).act;
  }
  return depth;
}
