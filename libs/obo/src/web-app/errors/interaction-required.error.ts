import { OboError } from '../../errors/obo.error.js';

/**
 * Why a web app must send the user to the authority before it gets their token:
 * - `consent`: the scopes (or the resource) were never granted, or the authority answered `consent_required`;
 * - `claims`: a claims challenge (Conditional Access, MFA, CAE, a relayed `insufficient_claims`) must be satisfied;
 * - `login`: there is no refresh token, or the authority refused it (`invalid_grant`, `login_required`, `interaction_required`);
 * - `step-up`: a web API asked for a stronger or more recent authentication (RFC 9470 `insufficient_user_authentication`).
 */
export type InteractionReason = 'consent' | 'claims' | 'login' | 'step-up';

/** What an RFC 9470 step-up challenge asked for, relayed to the authority as OpenID Connect `acr_values` and `max_age`. */
export interface StepUpRequest {
  /** Acceptable authentication context class references, space-separated, in order of preference. */
  readonly acrValues?: string;
  /** Longest acceptable time since the user authenticated, in seconds. */
  readonly maxAge?: number;
}

/**
 * A token for the signed-in user cannot be had silently: redirect the browser to the authority
 * with `scopes` (and `claims`), then back to the page (what `@AuthorizeForScopes` does).
 */
export class InteractionRequiredError extends OboError {
  constructor(
    readonly reason: InteractionReason,
    /** The scopes to ask the authority for. */
    readonly scopes: readonly string[],
    /** The claims request (JSON text) to send, for `reason: 'claims'`. */
    readonly claims?: string,
    options?: { cause?: unknown; stepUp?: StepUpRequest },
  ) {
    super('ERR_OBO_INTERACTION_REQUIRED', MESSAGES[reason], options);
    this.stepUp = options?.stepUp;
  }

  /** For `reason: 'step-up'`: the `acr_values` and `max_age` to send the authority. */
  readonly stepUp?: StepUpRequest;
}

const MESSAGES: Readonly<Record<InteractionReason, string>> = {
  consent: 'The user must consent to the requested scopes at the authority; redirect them to sign in with these scopes.',
  claims: 'The user must sign in again to satisfy a claims challenge; redirect them to the authority with the claims.',
  login: 'The user must sign in again: there is no usable refresh token for them.',
  'step-up': 'The user must authenticate again, more strongly or more recently (RFC 9470); redirect them to the authority with acr_values / max_age.',
};
