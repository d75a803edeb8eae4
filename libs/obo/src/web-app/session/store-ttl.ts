/** `seconds` when it is a valid store TTL (whole seconds, >= 1). @throws {RangeError} otherwise: a caller's bug. */
export function storeTtlSeconds(seconds: number): number {
  if (!Number.isInteger(seconds) || seconds < 1) throw new RangeError(`A store TTL must be whole seconds >= 1 (got ${seconds}).`);
  return seconds;
}
