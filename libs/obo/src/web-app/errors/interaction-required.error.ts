import { OboError } from '../../errors/obo.error.js';

/** Why a web app's silent token request needs the user in the browser. */
export type InteractionReason = 'consent' | 'claims' | 'login';

/**
 * A token for the signed-in user cannot be acquired silently: the user must consent to new scopes,
 * satisfy a claims challenge (Conditional Access, MFA, CAE, or one relayed by an API the web app
 * called), or sign in again (no or revoked refresh token). On a route with `@AuthorizeForScopes()`
 * the browser is sent to the authority with {@link scopes} and {@link claims} and brought back.
 */
export class InteractionRequiredError extends OboError {
  constructor(
    readonly reason: InteractionReason,
    /** The scopes the token was wanted for. */
    readonly scopes: readonly string[],
    /** The claims request (JSON text) to send to the authorization endpoint, when there is one. */
    readonly claims?: string,
    options?: { cause?: unknown },
  ) {
    super('ERR_OBO_INTERACTION_REQUIRED', `The user must ${reason === 'consent' ? 'consent to the requested scopes' : reason === 'claims' ? 'satisfy a claims challenge' : 'sign in again'} in the browser.`, options);
  }
}
