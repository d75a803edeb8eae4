import type { AccessTokenClaims, PrincipalInit } from '../../context/principal.js';
import type { ResolvedInboundOptions } from '../../options/resolve-obo-options.js';
import type { TokenProfileName } from '../../options/obo-module-options.interface.js';
import { ClaimsRejection, type ClaimsCheckContext } from '../jwt/validate-claims.js';
import { auth0Dialects } from './auth0.profile.js';
import { optionalStringClaim, readPermissions, readScopes } from './claim-path.js';
import type { DialectRules, ProfileDialects } from './dialect-rules.js';
import { keycloakDialects } from './keycloak.profile.js';
import { oktaDialects } from './okta.profile.js';
import { rfc9068Dialects } from './rfc9068.profile.js';
import type { TokenProfile } from './token-profile.js';

const DIALECTS: Readonly<Record<TokenProfileName, ProfileDialects>> = {
  rfc9068: rfc9068Dialects,
  auth0: auth0Dialects,
  okta: oktaDialects,
  keycloak: keycloakDialects,
};

function fail(reason: string, expired = false): never {
  throw new ClaimsRejection(reason, expired);
}

function numericDate(payload: Record<string, unknown>, claim: 'exp' | 'nbf' | 'iat', required: boolean): number | undefined {
  const value = payload[claim];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) fail(`${claim} missing or not a positive integer`);
  return value;
}

/** RFC 9068 §2.2: `exp` and `iat` required; `nbf` optional but honoured. */
function checkTimes(payload: Record<string, unknown>, options: ResolvedInboundOptions, now: number): void {
  const exp = numericDate(payload, 'exp', true)!;
  const iat = numericDate(payload, 'iat', true)!;
  const nbf = numericDate(payload, 'nbf', false);
  const skew = options.clockToleranceSeconds;
  if (now >= exp + skew) fail('expired', true);
  if (nbf !== undefined && (nbf > now + skew || nbf > exp)) fail('nbf in the future');
  if (iat > now + skew) fail('iat in the future');
  if (exp - iat > options.maxTokenLifetimeSeconds || iat > exp) fail('lifetime out of bounds');
}

function checkAudience(payload: Record<string, unknown>, options: ResolvedInboundOptions): void {
  const aud = payload.aud;
  const list = Array.isArray(aud) ? aud : [aud];
  if (!list.some((a) => typeof a === 'string' && options.audience.includes(a))) fail('audience mismatch');
}

function typOf(header: Readonly<Record<string, unknown>>): string | undefined {
  const typ = header.typ;
  if (typ !== undefined && typeof typ !== 'string') fail('typ not a string');
  return typ;
}

/**
 * The profile of an authority other than Entra ID: the dialect chosen by the header `typ`, the
 * user's claim-mapping overrides on top. Every generic token needs `iss` (equal to the configured
 * issuer, byte for byte), `aud` (one of `audience`), `exp`, `iat` and `sub`, plus what its dialect
 * requires. For an app-only caller, the scopes the authority granted to the application are its app
 * permissions (`@RequiredAppPermissions`), never delegated scopes (`@RequiredScopes`).
 */
export function genericProfile(options: ResolvedInboundOptions): TokenProfile {
  const name = options.tokenProfile as TokenProfileName;
  const dialects = DIALECTS[name];
  const mapping = options.claimMapping;
  const dialectOf = (typ: string | undefined): DialectRules => dialects(typ, options) ?? fail('typ not accepted');
  return {
    name,
    checkType: (typ) => void dialectOf(typOf({ typ })),
    principal(payload: Record<string, unknown>, header: Readonly<Record<string, unknown>>, context: ClaimsCheckContext): PrincipalInit {
      const rules = dialectOf(typOf(header));
      checkTimes(payload, options, context.now);
      if (payload.iss !== context.issuerV2) fail('issuer mismatch');
      checkAudience(payload, options);
      const subject = optionalStringClaim(payload, 'sub') ?? fail('sub missing');
      for (const claim of rules.required) if (optionalStringClaim(payload, claim) === undefined) fail(`${claim} missing`);
      rules.check?.(payload);
      const clientAppId = optionalStringClaim(payload, mapping.clientId ?? rules.clientId);
      const scopes = readScopes(payload, mapping.scopes ?? rules.scopes, mapping.scopes === undefined ? rules.scopeForm : 'either') ?? [];
      const permissions = readPermissions(payload, mapping.appPermissions ?? rules.appPermissions);
      const isAppOnly = mapping.isAppOnly ? mapping.isAppOnly(payload) === true : rules.isAppOnly(payload, clientAppId);
      const objectId = isAppOnly ? (clientAppId ?? subject) : (optionalStringClaim(payload, mapping.userId ?? rules.userId) ?? fail('user id claim missing'));
      const roles = isAppOnly ? [...new Set([...permissions, ...scopes])] : permissions;
      if (roles.length === 0 && (isAppOnly || scopes.length === 0)) fail('neither scopes nor permissions');
      return {
        objectId,
        tenantId: context.issuerV2,
        subject,
        clientAppId,
        scopes: isAppOnly ? [] : scopes,
        roles,
        isAppOnly,
        claims: payload as AccessTokenClaims,
      };
    },
  };
}
