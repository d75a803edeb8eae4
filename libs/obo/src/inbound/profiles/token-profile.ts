import type { PrincipalInit } from '../../context/principal.js';
import type { ResolvedInboundOptions } from '../../options/resolve-obo-options.js';
import type { ClaimsCheckContext } from '../jwt/validate-claims.js';

/**
 * One authority's access-token dialect (issue 10, catalogue #116): which JOSE header `typ` it
 * signs its access tokens with, and how a signature-verified payload becomes a principal (required
 * claims, issuer and audience, where scopes, app permissions, the client and the user are, and how
 * an app-only caller is recognised). Pure: no I/O.
 */
export interface TokenProfile {
  /** The profile's name, for logs. */
  readonly name: ResolvedInboundOptions['tokenProfile'];
  /**
   * Checks the header `typ` (RFC 8725 §3.11: explicit typing keeps other JWTs of the same issuer,
   * such as ID tokens, from passing as access tokens).
   * @throws {ClaimsRejection}
   */
  checkType(typ: unknown): void;
  /**
   * Every claim rule jsonwebtoken does not apply, on a payload whose signature, `aud`, `exp` and
   * `nbf` passed, and the principal's fields.
   * @throws {ClaimsRejection}
   */
  principal(payload: Record<string, unknown>, header: Readonly<Record<string, unknown>>, context: ClaimsCheckContext): PrincipalInit;
}
