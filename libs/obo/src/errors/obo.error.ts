import type { OboErrorCode } from './obo-error-code.js';

/** Base of every error nestjs-obo throws outside HTTP. Switch on `code`, not `message`. */
export class OboError extends Error {
  constructor(
    readonly code: OboErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A module option is missing or invalid. Thrown at startup; the message names the option and the fix. */
export class OboConfigurationError extends OboError {
  constructor(
    readonly option: string,
    message: string,
  ) {
    super('ERR_OBO_CONFIG_INVALID', `OboModule option "${option}" ${message}`);
  }
}

/** The caller must satisfy a claims challenge (Conditional Access, MFA, CAE): relay `claims` to the client. */
export class ClaimsChallengeError extends OboError {
  constructor(
    /** The claims request as JSON text, exactly as the identity provider or downstream API sent it. */
    readonly claims: string,
    readonly scopes: readonly string[],
    options?: { cause?: unknown },
  ) {
    super('ERR_OBO_CLAIMS_CHALLENGE', 'The user must sign in again to satisfy a claims challenge; relay it to the client.', options);
  }
}

/**
 * The authority wants the user to authenticate again before it issues a token for them: at one of
 * `acrValues` (space-separated authentication context class references) or within `maxAge` seconds
 * (RFC 9470). Relayed to the client as a 401 `insufficient_user_authentication` challenge.
 */
export class StepUpRequiredError extends OboError {
  constructor(
    /** Acceptable authentication context classes, space-separated, as the authority named them. */
    readonly acrValues: string | undefined,
    /** Longest time since the user's last authentication the authority accepts, in seconds. */
    readonly maxAge: number | undefined,
    options?: { cause?: unknown },
  ) {
    super('ERR_OBO_STEP_UP_REQUIRED', 'The user must authenticate again (step-up, RFC 9470); relay the challenge to the client.', options);
  }
}

/** The identity provider is throttling, failing or unreachable; retry after `retryAfterSeconds`. */
export class ProviderUnavailableError extends OboError {
  constructor(
    code: 'ERR_OBO_PROVIDER_UNAVAILABLE' | 'ERR_OBO_PROVIDER_TIMEOUT',
    readonly retryAfterSeconds: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/** A failure that names downstream scopes (consent, app-only caller). */
export class ScopedOboError extends OboError {
  constructor(
    code: 'ERR_OBO_CONSENT_REQUIRED' | 'ERR_OBO_APP_ONLY_CALLER',
    readonly scopes: readonly string[],
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}
