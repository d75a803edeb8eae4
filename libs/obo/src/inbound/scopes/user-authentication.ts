import type { Principal } from '../../context/principal.js';
import { OboConfigurationError } from '../../errors/obo.error.js';
import type { AuthenticationRequirement } from './required-authentication.decorator.js';

/**
 * Refuses, at startup, a requirement the authority's tokens cannot prove: Entra ID access tokens
 * carry no `auth_time`, so `maxAge` could never be met there.
 * @throws {OboConfigurationError} `ERR_OBO_CONFIG_INVALID` naming the route.
 */
export function checkAuthenticationRequirement(requirement: AuthenticationRequirement, provider: 'entra' | 'oidc', route: string): void {
  if (provider === 'entra' && requirement.maxAge !== undefined) {
    throw new OboConfigurationError(
      `@RequiredAuthentication on ${route}`,
      'sets maxAge, but Entra ID access tokens carry no auth_time to check it against. Use a Conditional Access authentication context (acrValues: ["c1"]) whose policy sets the sign-in frequency, and remove maxAge.',
    );
  }
}

/**
 * True when the user's authentication, as the validated token states it, meets `requirement`
 * (RFC 9470 §3, §6): the token's `acr` is one of `acrValues` (Entra ID: its `acrs` list holds one of
 * them) and its `auth_time` is at most `maxAge` seconds old, within `toleranceSeconds` of clock skew.
 * A claim that is missing or malformed never meets a requirement.
 */
export function meetsAuthentication(principal: Principal, requirement: AuthenticationRequirement, provider: 'entra' | 'oidc', nowSeconds: number, toleranceSeconds: number): boolean {
  const claims = principal.claims;
  if (requirement.acrValues) {
    const held = provider === 'entra' ? listOf(claims.acrs) : typeof claims.acr === 'string' ? [claims.acr] : [];
    if (!held.some((value) => requirement.acrValues!.includes(value))) return false;
  }
  if (requirement.maxAge !== undefined) {
    const authTime = claims.auth_time;
    if (typeof authTime !== 'number' || !Number.isFinite(authTime) || authTime > nowSeconds + toleranceSeconds) return false;
    if (nowSeconds - authTime > requirement.maxAge + toleranceSeconds) return false;
  }
  return true;
}

function listOf(value: unknown): readonly string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
