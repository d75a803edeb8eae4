import { createPublicKey } from 'node:crypto';
import { compactVerify } from 'jose';
import { identifierUriOf, type AppRegistration } from './app-registrations.js';
import type { AuthorityKey } from './authority-keys.js';
import { peekClaims } from './form-body.js';
import { invalidGrant } from './token-errors.js';

/** The user an OBO assertion or RFC 8693 subject token was issued for. */
export interface UserAssertion {
  /** The user's object id. */
  readonly oid: string;
  /** The user's tenant. */
  readonly tid: string;
  /** `name`, if present. */
  readonly name?: string;
  /** `preferred_username` (or v1 `upn` / `unique_name`), if present. */
  readonly preferredUsername?: string;
  /** Every claim of the assertion. */
  readonly claims: Readonly<Record<string, unknown>>;
}

/** What validating a user assertion needs from the authority and the request. */
export interface AssertionContext {
  /** A key the authority publishes, by `kid`. */
  publishedKey(kid: string): AuthorityKey | undefined;
  /** Issuers the authority uses for tenant `tid` (v1.0 and v2.0). */
  issuersFor(tid: string): readonly string[];
  /** The `{tenant}` segment of the token endpoint path. */
  readonly pathTenant: string;
  /** The authenticated calling client: the assertion's audience must be it. */
  readonly caller: AppRegistration;
}

/**
 * Validates an incoming user access token the way Entra validates an OBO assertion: signed by a
 * published key (with that key's alg), issued by this authority, `exp` not passed (AADSTS500133),
 * `aud` = the caller's client id or identifier URI (AADSTS50013), tenant = the path tenant unless
 * the path is `organizations`/`common`, and a user (not app-only) token. Failures are `invalid_grant`.
 */
export async function validateUserAssertion(token: string, context: AssertionContext): Promise<UserAssertion> {
  const header = peekHeader(token);
  const claims = peekClaims(token);
  if (!header || !claims) throw invalidGrant(50027, 'JWT token is invalid or malformed.');
  const key = typeof header.kid === 'string' ? context.publishedKey(header.kid) : undefined;
  if (!key) throw invalidGrant(50013, 'Assertion failed signature validation. [Reason - The key was not found.]');
  if (header.alg !== key.alg) throw invalidGrant(50013, 'Assertion failed signature validation. [Reason - The algorithm does not match the key.]');
  try {
    await compactVerify(token, createPublicKey({ key: key.publicJwk as never, format: 'jwk' }), { algorithms: [key.alg] });
  } catch {
    throw invalidGrant(50013, 'Assertion failed signature validation. [Reason - The provided signature value did not match the expected signature value.]');
  }
  const now = Math.floor(Date.now() / 1000);
  if (typeof claims.exp !== 'number' || claims.exp <= now) {
    throw invalidGrant(500133, `Assertion is not within its valid time range. Current time: ${now}, expiry time of assertion ${String(claims.exp)}.`);
  }
  const audiences = [context.caller.clientId, identifierUriOf(context.caller)];
  if (typeof claims.aud !== 'string' || !audiences.includes(claims.aud)) {
    throw invalidGrant(
      50013,
      `Assertion audience does not match the Client app presenting the assertion. The audience in the assertion was '${String(claims.aud)}' and the expected audience is '${context.caller.clientId}' or one of the Application Uris of this application.`,
    );
  }
  const tid = claims.tid;
  if (typeof tid !== 'string' || typeof claims.iss !== 'string' || !context.issuersFor(tid).includes(claims.iss)) {
    throw invalidGrant(50013, 'Assertion contains an invalid issuer or tenant.');
  }
  const anyTenant = context.pathTenant === 'organizations' || context.pathTenant === 'common';
  if (!anyTenant && context.pathTenant.toLowerCase() !== tid.toLowerCase()) {
    throw invalidGrant(50013, `Assertion was issued for tenant '${tid}', not for tenant '${context.pathTenant}'.`);
  }
  const oid = claims.oid;
  if (typeof oid !== 'string') throw invalidGrant(50013, "Assertion has no 'oid' claim.");
  if (claims.idtyp === 'app' || (claims.scp === undefined && oid === claims.sub)) {
    throw invalidGrant(50013, 'Assertion is an app-only token; the On-Behalf-Of flow only works for user principals.');
  }
  const username = [claims.preferred_username, claims.upn, claims.unique_name].find((v): v is string => typeof v === 'string');
  return {
    oid,
    tid,
    ...(typeof claims.name === 'string' ? { name: claims.name } : {}),
    ...(username !== undefined ? { preferredUsername: username } : {}),
    claims,
  };
}

/** The decoded protected header of a compact JWT, without any verification. */
export function peekHeader(token: string): Record<string, unknown> | undefined {
  const [header, , signature] = token.split('.');
  if (header === undefined || signature === undefined) return undefined;
  return peekClaims(`x.${header}`);
}
