import { Reflector } from '@nestjs/core';
import { OboConfigurationError } from '../../errors/obo.error.js';

/**
 * What a route asks of the user's authentication (RFC 9470 §3): how it happened (`acr`) and how
 * long ago (`auth_time`).
 */
export interface AuthenticationRequirement {
  /**
   * Acceptable authentication context class references, in order of preference (RFC 9470 §3
   * `acr_values`); a token passes when its `acr` is one of them. At an Entra ID authority they are
   * Conditional Access authentication context ids (`c1` ... `c99`) and a token passes when its `acrs`
   * claim holds one of them.
   */
  readonly acrValues?: readonly string[];
  /**
   * Longest acceptable time since the user last authenticated actively, in seconds (RFC 9470 §3
   * `max_age`), compared with the token's `auth_time` (clock tolerance applies). Not at Entra ID
   * authorities (their access tokens carry no `auth_time`): a startup error there.
   */
  readonly maxAge?: number;
}

/** @internal Read by ScopesGuard and the route catalogue; a handler's requirement replaces its controller's. */
export const RequiredAuthenticationMetadata = Reflector.createDecorator<AuthenticationRequirement>({ key: 'obo:required-authentication' });

/** One `acr` value: RFC 9470 §3 relays them inside a quoted `acr_values`; printable ASCII, no space, quote or backslash. */
const ACR_VALUE = /^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/;
/** A policy older than this is not a recency requirement (about 31 years), and it stays in a 32-bit integer. */
const MAX_MAX_AGE = 1_000_000_000;

function checked(requirement: AuthenticationRequirement): AuthenticationRequirement {
  const name = '@RequiredAuthentication';
  if (typeof requirement !== 'object' || requirement === null) throw new OboConfigurationError(name, 'needs { acrValues?, maxAge? }.');
  const unknown = Object.keys(requirement).filter((key) => key !== 'acrValues' && key !== 'maxAge');
  if (unknown.length > 0) throw new OboConfigurationError(name, `has unknown keys ${unknown.map((k) => JSON.stringify(k)).join(', ')}: use acrValues and maxAge.`);
  const { acrValues, maxAge } = requirement;
  if (acrValues === undefined && maxAge === undefined) throw new OboConfigurationError(name, 'needs acrValues, maxAge or both.');
  if (acrValues !== undefined) {
    if (!Array.isArray(acrValues) || acrValues.length === 0 || acrValues.length > 16) throw new OboConfigurationError(`${name} acrValues`, 'must be a list of 1 to 16 values.');
    for (const value of acrValues as unknown[]) {
      if (typeof value !== 'string' || !ACR_VALUE.test(value)) {
        throw new OboConfigurationError(`${name} acrValues`, `must hold printable ASCII values without spaces, quotes or backslashes (got ${JSON.stringify(value)}).`);
      }
    }
  }
  if (maxAge !== undefined && (typeof maxAge !== 'number' || !Number.isInteger(maxAge) || maxAge < 0 || maxAge > MAX_MAX_AGE)) {
    throw new OboConfigurationError(`${name} maxAge`, `must be a whole number of seconds from 0 to ${MAX_MAX_AGE} (got ${JSON.stringify(maxAge)}).`);
  }
  return Object.freeze({
    ...(acrValues === undefined ? {} : { acrValues: Object.freeze([...acrValues]) }),
    ...(maxAge === undefined ? {} : { maxAge }),
  });
}

/**
 * Step-up authentication (RFC 9470): the route needs a **user** token whose authentication meets
 * `requirement`. Checked after the scopes; a token that falls short gets 401
 * `error="insufficient_user_authentication"` with `acr_values` / `max_age`, or, at an Entra ID
 * authority, Entra's claims challenge (`error="insufficient_claims"`, `claims` asking for the `acrs`
 * value) that msal and `@AuthorizeForScopes()` act on. App-only tokens authenticate no user and are
 * judged by `@RequiredAppPermissions` alone.
 * @throws {OboConfigurationError} `ERR_OBO_CONFIG_INVALID` at decoration for an empty or malformed
 *   requirement, and at startup for `maxAge` at an Entra ID authority.
 * @example @RequiredAuthentication({ acrValues: ['c1'] })                 // Entra authentication context
 * @example @RequiredAuthentication({ acrValues: ['urn:example:mfa'], maxAge: 300 })
 */
export const RequiredAuthentication = (requirement: AuthenticationRequirement): ClassDecorator & MethodDecorator =>
  RequiredAuthenticationMetadata(checked(requirement));
