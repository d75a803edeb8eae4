import { OboConfigurationError } from '../errors/obo.error.js';

/** A short, safe rendering of a bad option value for error messages. */
export function describeValue(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : typeof value;
}

/** Returns `value` (or `fallback` when undefined) if it is a whole number in [min, max]. @throws {OboConfigurationError} */
export function wholeNumber(option: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new OboConfigurationError(option, `must be a whole number from ${min} to ${max} (got ${describeValue(value)}).`);
  }
  return value;
}
