import { ClaimsRejection } from '../jwt/validate-claims.js';

/** The value at a claim name or dot path (`realm_access.roles`); own properties only. */
export function readClaim(payload: Readonly<Record<string, unknown>>, path: string): unknown {
  let value: unknown = payload;
  for (const name of path.split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, name)) return undefined;
    value = (value as Record<string, unknown>)[name];
  }
  return value;
}

/** A scope claim: a space-separated string (RFC 9068 §2.2.3, RFC 8693 §4.2) or an array of strings (Okta `scp`). */
export function readScopes(payload: Readonly<Record<string, unknown>>, path: string, form: 'string' | 'array' | 'either'): string[] | undefined {
  const value = readClaim(payload, path);
  if (value === undefined) return undefined;
  if (typeof value === 'string' && form !== 'array') return value.split(' ').filter((s) => s.length > 0);
  if (Array.isArray(value) && form !== 'string' && value.every((s) => typeof s === 'string')) return [...new Set(value as string[])];
  throw new ClaimsRejection(`scope claim ${path} has the wrong type`);
}

/** App permissions: the union of string arrays at `paths` (absent paths add nothing). */
export function readPermissions(payload: Readonly<Record<string, unknown>>, paths: readonly string[]): string[] {
  const all = new Set<string>();
  for (const path of paths) {
    const value = readClaim(payload, path);
    if (value === undefined) continue;
    if (!Array.isArray(value) || !value.every((s) => typeof s === 'string')) throw new ClaimsRejection(`permission claim ${path} is not an array of strings`);
    for (const permission of value) all.add(permission);
  }
  return [...all];
}

/** An optional non-empty string claim. @throws {ClaimsRejection} when present with another type. */
export function optionalStringClaim(payload: Readonly<Record<string, unknown>>, path: string): string | undefined {
  const value = readClaim(payload, path);
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) throw new ClaimsRejection(`${path} is not a non-empty string`);
  return value;
}
