import { OboError } from '../../errors/obo.error.js';

/**
 * A sign-in callback was refused. `authorityError` is the OAuth `error` the authority sent back
 * (`access_denied` when the user cancelled, `invalid_grant` for a used or foreign code...), when it
 * sent one; safe to log and to switch on. The message says which check failed, never a token.
 */
export class SignInFailedError extends OboError {
  constructor(
    message: string,
    /** The authority's OAuth error code, printable ASCII, at most 64 characters. */
    readonly authorityError?: string,
    options?: { cause?: unknown },
  ) {
    super('ERR_OBO_SIGN_IN_FAILED', message, options);
  }
}
