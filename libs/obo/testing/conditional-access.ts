import { randomUUID } from 'node:crypto';
import { capolidsChallenge } from './claims-request.js';
import { TokenEndpointError, aadstsText } from './token-errors.js';

/**
 * Conditional Access policies of the local authority: "MFA required" per resource (API client id).
 * A token for such a resource goes only to a user whose authentication included MFA.
 */
export class ConditionalAccess {
  private readonly mfaPolicies = new Map<string, string>();
  /** Authentication context values (`acrs`, e.g. `c1`) an admin mapped to "require MFA". */
  private readonly mfaContexts = new Set<string>();

  /** Requires MFA for tokens whose audience is `resourceClientId`; returns the policy id (a GUID). */
  requireMfaFor(resourceClientId: string): string {
    const policyId = randomUUID();
    this.mfaPolicies.set(resourceClientId.toLowerCase(), policyId);
    return policyId;
  }

  /**
   * Maps the authentication context `value` (Entra's `acrs`, e.g. `c1`) to "require MFA": a claims
   * request naming it (an API's challenge) is satisfied only by a user whose sign-in included MFA.
   */
  requireMfaForAuthenticationContext(value: string): void {
    this.mfaContexts.add(value);
  }

  /** True when `acrs` names an authentication context that requires MFA. */
  contextNeedsMfa(acrs: readonly string[]): boolean {
    return acrs.some((value) => this.mfaContexts.has(value));
  }

  /** Removes every policy. */
  clear(): void {
    this.mfaPolicies.clear();
    this.mfaContexts.clear();
  }

  /** The MFA policy of `resourceClientId`, if any. */
  mfaPolicyOf(resourceClientId: string): string | undefined {
    return this.mfaPolicies.get(resourceClientId.toLowerCase());
  }

  /**
   * Throws the Entra claims challenge when `resourceClientId` has an MFA policy and the user's
   * authentication (`mfa`) did not include MFA.
   * @throws {TokenEndpointError} 400 `interaction_required` AADSTS50076 with `claims` naming the policy
   */
  enforce(resourceClientId: string, mfa: boolean): void {
    const policyId = this.mfaPolicyOf(resourceClientId);
    if (policyId !== undefined && !mfa) throw mfaRequired(capolidsChallenge([policyId]));
  }
}

/** 400 `interaction_required` AADSTS50076 carrying the claims challenge `claims` (JSON text) the client must send to /authorize. */
export function mfaRequired(claims: string): TokenEndpointError {
  return new TokenEndpointError(400, 'interaction_required', 50076, aadstsText(50076), { claims });
}

/** True when an `amr` claim value includes `mfa`. */
export function amrHasMfa(amr: unknown): boolean {
  return Array.isArray(amr) && amr.includes('mfa');
}
