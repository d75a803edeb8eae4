/** One RFC 9470 `acr_values` entry: printable ASCII without space, quote or backslash. */
const ACR = /^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/;
/** Most entries of `acr_values` relayed. */
const MAX_ACR_VALUES = 16;
/** Largest `max_age` relayed, in seconds (about 31 years; anything larger is not a real policy). */
const MAX_MAX_AGE = 1_000_000_000;

/** The RFC 9470 step-up parameters a client can act on. */
export interface StepUpParams {
  readonly acrValues?: string;
  readonly maxAge?: number;
}

/**
 * Reads `acr_values` (space-separated) and `max_age` (a whole number of seconds, or its digits as a
 * string) as an authority or a downstream API sent them. A value that is not well formed is dropped,
 * never reflected: what reaches our client's `WWW-Authenticate` is only what RFC 9470 allows.
 */
export function readStepUpParams(acrValues: unknown, maxAge: unknown): StepUpParams {
  let acr: string | undefined;
  if (typeof acrValues === 'string') {
    const values = acrValues.split(' ');
    if (values.length <= MAX_ACR_VALUES && values.every((v) => ACR.test(v))) acr = acrValues;
  }
  const age = typeof maxAge === 'string' && /^\d{1,10}$/.test(maxAge) ? Number(maxAge) : maxAge;
  const seconds = typeof age === 'number' && Number.isInteger(age) && age >= 0 && age <= MAX_MAX_AGE ? age : undefined;
  return { acrValues: acr, maxAge: seconds };
}
