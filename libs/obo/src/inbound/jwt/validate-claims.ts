import type { AccessTokenVersion } from '../../options/obo-module-options.interface.js';
import type { ResolvedInboundOptions } from '../../options/resolve-obo-options.js';
import type { AccessTokenClaims, PrincipalInit } from '../../context/principal.js';

/** A token failed a claims rule. `reason` is for debug logs and tests only, never for responses. */
export class ClaimsRejection extends Error {
  override readonly name = 'ClaimsRejection';
  constructor(
    readonly reason: string,
    readonly expired = false,
  ) {
    super(reason);
  }
}

/** Context of the claim checks that do not come from the payload. */
export interface ClaimsCheckContext {
  /** Issuer per accepted version, from discovery or the cloud table (may be a `{tenantid}` template). */
  readonly issuers: Readonly<Partial<Record<AccessTokenVersion, string>>>;
  /** The v2.0 discovery document's `issuer`, byte for byte (may be a `{tenantid}` template). */
  readonly issuerV2: string;
  /** `issuer` of the JWK that verified the signature, when the key set publishes one. */
  readonly keyIssuer?: string;
  /** Current time in whole seconds. */
  readonly now: number;
}

const TENANT_GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function fail(reason: string, expired = false): never {
  throw new ClaimsRejection(reason, expired);
}

function numericDate(payload: Readonly<Record<string, unknown>>, claim: 'exp' | 'nbf' | 'iat'): number {
  const value = payload[claim];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) fail(`${claim} missing or not a positive integer`);
  return value;
}

function checkTimes(payload: Record<string, unknown>, options: ResolvedInboundOptions, now: number): void {
  const exp = numericDate(payload, 'exp');
  const nbf = numericDate(payload, 'nbf');
  const iat = numericDate(payload, 'iat');
  const skew = options.clockToleranceSeconds;
  if (now >= exp + skew) fail('expired', true);
  if (nbf > now + skew) fail('nbf in the future');
  if (iat > now + skew) fail('iat in the future');
  if (nbf > exp || exp - iat > options.maxTokenLifetimeSeconds) fail('lifetime out of bounds');
}

function checkIssuer(payload: Record<string, unknown>, options: ResolvedInboundOptions, context: ClaimsCheckContext): AccessTokenVersion {
  const ver = payload.ver;
  if (ver !== '1.0' && ver !== '2.0') fail('ver missing or unknown');
  if (!options.acceptedTokenVersions.has(ver)) fail('token version not accepted');
  const tid = payload.tid;
  if (typeof tid !== 'string' || !TENANT_GUID.test(tid)) fail('tid missing or not a lower-case GUID');
  if (!options.allowedTenants.has(tid)) fail('tenant not allowed');
  const template = context.issuers[ver];
  if (template === undefined) fail('no issuer for this version');
  // Exact string comparison after filling the template with the token's own tid, which ties
  // tid to iss (no trimming, case folding or trailing-slash normalisation).
  const expected = template.replaceAll('{tenantid}', tid);
  if (payload.iss !== expected) fail('issuer mismatch');
  // Entra scopes each key with an issuer (possibly a `{tenantid}` template, v2.0 form). As in
  // Microsoft.IdentityModel, the filled-in key issuer must be the token's issuer or, for v1.0
  // tokens, the v2.0 issuer of the same tenant, as discovery gave it (never built from the
  // instance: in Azure China and External ID the issuer host is not the instance host).
  if (context.keyIssuer !== undefined) {
    const keyIssuer = context.keyIssuer.replaceAll('{tenantid}', tid);
    if (keyIssuer !== expected && keyIssuer !== context.issuerV2.replaceAll('{tenantid}', tid)) fail('signing key issuer mismatch');
  }
  return ver;
}

function checkAudience(payload: Record<string, unknown>, options: ResolvedInboundOptions): void {
  const aud = payload.aud;
  const list = Array.isArray(aud) ? aud : [aud];
  if (!list.some((a) => typeof a === 'string' && options.audience.includes(a))) fail('audience mismatch');
}

function optionalString(payload: Record<string, unknown>, claim: string): string | undefined {
  const value = payload[claim];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) fail(`${claim} is not a non-empty string`);
  return value;
}

function classify(payload: Record<string, unknown>, options: ResolvedInboundOptions): Pick<PrincipalInit, 'scopes' | 'roles' | 'isAppOnly'> {
  const scp = payload[options.scopeClaim];
  const roles = payload[options.roleClaim];
  if (scp !== undefined && typeof scp !== 'string') fail('scope claim is not a string');
  if (roles !== undefined && !(Array.isArray(roles) && roles.every((r) => typeof r === 'string'))) fail('role claim is not an array of strings');
  const scopes = scp === undefined ? [] : scp.split(' ').filter((s) => s.length > 0);
  const roleList = (roles as string[] | undefined) ?? [];
  if (scopes.length === 0 && roleList.length === 0) fail('neither scopes nor roles');
  const idtyp = payload.idtyp;
  const oidIsSub = payload.oid === payload.sub;
  let isAppOnly: boolean;
  if (idtyp === 'app') isAppOnly = true;
  else if (idtyp === 'user') isAppOnly = false;
  else if (idtyp === undefined) isAppOnly = scp === undefined && oidIsSub;
  else fail('idtyp unknown');
  // RFC 8725 §3.12: a token that claims to be both kinds is neither.
  if (isAppOnly && scp !== undefined) fail('app-only token with delegated scopes');
  if (!isAppOnly && oidIsSub) fail('user token whose oid equals sub');
  return { scopes, roles: roleList, isAppOnly };
}

/**
 * Checks everything jsonwebtoken does not (or does too leniently) on a signature-verified payload:
 * required numeric times and lifetime, `ver` bound to the issuer form, exact issuer with the
 * `{tenantid}` template, `tid` on the allow-list, exact audience, claim types, and the
 * user/app classification. Returns the principal's fields.
 * @throws {ClaimsRejection}
 */
export function validateClaims(payload: Record<string, unknown>, options: ResolvedInboundOptions, context: ClaimsCheckContext): PrincipalInit {
  checkTimes(payload, options, context.now);
  const ver = checkIssuer(payload, options, context);
  checkAudience(payload, options);
  const subject = optionalString(payload, 'sub') ?? fail('sub missing');
  const objectId = optionalString(payload, 'oid') ?? fail('oid missing');
  const clientAppId = optionalString(payload, ver === '2.0' ? 'azp' : 'appid');
  return {
    objectId,
    tenantId: payload.tid as string,
    subject,
    clientAppId,
    ...classify(payload, options),
    claims: payload as AccessTokenClaims,
  };
}
