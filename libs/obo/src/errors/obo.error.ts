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
