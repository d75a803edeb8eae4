import { invalidRequest } from './token-errors.js';

/** What a `claims` request (OpenID Connect Core 5.5, Entra's `access_token` member) asks of the authentication. */
export interface ClaimsDemand {
  /** `acrs` values asked for (Conditional Access authentication contexts). */
  readonly acrs: readonly string[];
  /** `capolids` values asked for (Conditional Access policy ids). */
  readonly capolids: readonly string[];
  /** True when the request can only be met by a multi-factor authentication (`acrs`, `capolids`, or `amr` naming `mfa`). */
  readonly needsMfa: boolean;
}

const NOTHING: ClaimsDemand = { acrs: [], capolids: [], needsMfa: false };

/**
 * Parses a `claims` parameter (JSON text). Members other than `access_token.acrs`,
 * `access_token.capolids` and `amr` (in `access_token` or `id_token`) are ignored, as Entra does
 * with client capabilities (`xms_cc`).
 * @throws {TokenEndpointError} `invalid_request` (AADSTS90014) when the text is not JSON
 */
export function parseClaimsRequest(claims: string | undefined): ClaimsDemand {
  if (claims === undefined || claims === '') return NOTHING;
  let parsed: unknown;
  try {
    parsed = JSON.parse(claims);
  } catch {
    throw invalidRequest("The 'claims' parameter is not valid JSON.", 90014);
  }
  if (!isObject(parsed)) return NOTHING;
  const accessToken = member(parsed, 'access_token');
  const acrs = valuesOf(member(accessToken, 'acrs'));
  const capolids = valuesOf(member(accessToken, 'capolids'));
  const amr = [...valuesOf(member(accessToken, 'amr')), ...valuesOf(member(member(parsed, 'id_token'), 'amr'))];
  return { acrs, capolids, needsMfa: acrs.length > 0 || capolids.length > 0 || amr.includes('mfa') };
}

/** The claims challenge of a Conditional Access policy: `{"access_token":{"capolids":{"essential":true,"values":[id]}}}`. */
export function capolidsChallenge(policyIds: readonly string[]): string {
  return JSON.stringify({ access_token: { capolids: { essential: true, values: [...policyIds] } } });
}

function valuesOf(request: unknown): string[] {
  return [member(request, 'value'), member(request, 'values')].flat().filter((v): v is string => typeof v === 'string');
}

function member(value: unknown, name: string): unknown {
  return isObject(value) ? value[name] : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
