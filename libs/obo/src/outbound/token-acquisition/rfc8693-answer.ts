import { internList } from '../../context/interned.js';
import { OboError } from '../../errors/obo.error.js';
import { ACCESS_TOKEN_TYPE } from '../../options/resolve-outbound-options.js';
import { claimsOf, IssuedTokenRefused } from './issued-token-check.js';
import type { ExchangedToken, ExchangeRequest } from './token-exchanger.js';

/** Longest token lifetime accepted, in ms (as on the msal path). */
const MAX_LIFETIME_MS = 48 * 3600 * 1000;

/** What an answer must say about the kind of token it holds. */
export interface IssuedTypeRule {
  /** `issued_token_type` values accepted. */
  readonly accepted: ReadonlySet<string>;
  /** Whether `issued_token_type` must be present (RFC 8693 §2.2.1 requires it of a token-exchange answer). */
  readonly required: boolean;
}

/** Client-credentials answers (RFC 6749 §5.1) carry no `issued_token_type`; when one does, it must be an access token. */
export const CLIENT_CREDENTIALS_TYPES: IssuedTypeRule = { accepted: new Set([ACCESS_TOKEN_TYPE]), required: false };

function badResponse(detail: string): OboError {
  return new OboError('ERR_OBO_PROVIDER_BAD_RESPONSE', `The identity provider's token answer ${detail}; nothing is used or cached.`);
}

/** A provider value fit for a log line: printable ASCII, at most 40 characters, quoted. */
function shown(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 40).replace(/[^\x20-\x7e]/g, '_')) : typeof value;
}

/** `expires_in` as a whole number of seconds (a number, or digits as a string), or undefined. */
function seconds(value: unknown): number | undefined {
  const number = typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : value;
  return typeof number === 'number' && Number.isInteger(number) ? number : undefined;
}

/**
 * Checks a successful token answer before anything caches or uses it (RFC 8693 §2.2.1, RFC 6749
 * §5.1): a non-empty `access_token`; `token_type` `Bearer` in any case (`DPoP` tokens need a proof
 * we do not make, `N_A` ones are not access tokens); `issued_token_type` per `types`; `expires_in` a
 * whole number of seconds from 1 to 48 h; and when the token is a JWT, its `aud` names the requested
 * audience or resource (if one was asked) and its `exp` has not passed. The token lives until the
 * earlier of `startedAt + expires_in` and its own `exp`.
 * @throws {OboError} `ERR_OBO_PROVIDER_BAD_RESPONSE` ({@link IssuedTokenRefused} for a token issued for another audience or already expired).
 */
export function checkTokenAnswer(body: Readonly<Record<string, unknown>>, request: ExchangeRequest, types: IssuedTypeRule, startedAt: number, now = Date.now()): ExchangedToken {
  const accessToken = body.access_token;
  if (typeof accessToken !== 'string' || accessToken.length === 0) throw badResponse('holds no access_token');
  const tokenType = body.token_type;
  if (typeof tokenType !== 'string' || tokenType.toLowerCase() !== 'bearer') throw badResponse(`has token_type ${shown(tokenType)}, not Bearer`);
  const issuedType = body.issued_token_type;
  if (issuedType === undefined ? types.required : typeof issuedType !== 'string' || !types.accepted.has(issuedType)) {
    throw badResponse(`has issued_token_type ${issuedType === undefined ? 'missing' : shown(issuedType)}, not ${[...types.accepted].join(' or ')}`);
  }
  const expiresIn = seconds(body.expires_in);
  if (expiresIn === undefined || expiresIn < 1 || expiresIn * 1000 > MAX_LIFETIME_MS) throw badResponse(`has expires_in ${shown(body.expires_in)}, not 1 to ${MAX_LIFETIME_MS / 1000} seconds`);
  let expiresOn = startedAt + expiresIn * 1000;
  const claims = claimsOf(accessToken);
  if (claims !== undefined) {
    const wanted = [request.audience, request.resource].filter((t): t is string => t !== undefined);
    const audiences = (Array.isArray(claims.aud) ? claims.aud : [claims.aud]).filter((a): a is string => typeof a === 'string');
    if (wanted.length > 0 && !audiences.some((aud) => wanted.includes(aud))) {
      throw new IssuedTokenRefused(`for audience ${JSON.stringify(audiences.join(' ').slice(0, 200))}, but ${JSON.stringify(wanted.join(' '))} was asked`);
    }
    if (typeof claims.exp === 'number') {
      const exp = claims.exp * 1000;
      if (exp <= now) throw new IssuedTokenRefused(`that expired ${Math.ceil((now - exp) / 1000)} s ago (exp)`);
      expiresOn = Math.min(expiresOn, exp);
    }
  }
  const granted = typeof body.scope === 'string' && body.scope.length > 0 ? body.scope.split(' ').filter((s) => s.length > 0) : [...request.scopes];
  return { accessToken, expiresOn, scopes: internList(granted) };
}
