import type { ResolvedInboundOptions } from '../../options/resolve-obo-options.js';

/** Where one token dialect keeps what authorization needs. Claim names or dot paths. */
export interface DialectRules {
  /** Claims required besides `iss`, `aud`, `exp`, `iat` and `sub` (which every generic dialect requires). */
  readonly required: readonly string[];
  readonly scopes: string;
  /** `string`: space-separated (RFC 9068); `array`: Okta's `scp`; `either` for a user override. */
  readonly scopeForm: 'string' | 'array' | 'either';
  readonly appPermissions: readonly string[];
  readonly clientId: string;
  readonly userId: string;
  /** True when the token was issued to an application acting for itself (client credentials). */
  isAppOnly(payload: Readonly<Record<string, unknown>>, clientId: string | undefined): boolean;
  /** Dialect rules beyond claim presence (Keycloak's `typ` claim...). @throws {ClaimsRejection} */
  check?(payload: Readonly<Record<string, unknown>>): void;
}

/** A profile: picks the dialect from the header `typ`, or `undefined` when that `typ` is not one of its access tokens. */
export type ProfileDialects = (typ: string | undefined, options: Pick<ResolvedInboundOptions, 'clientId' | 'audience'>) => DialectRules | undefined;

/** RFC 9068 §2.1: `at+jwt`, or the full media type; compared case-insensitively (RFC 7515 §4.1.9). */
export function isAtJwt(typ: string | undefined): boolean {
  const lower = typ?.toLowerCase();
  return lower === 'at+jwt' || lower === 'application/at+jwt';
}
