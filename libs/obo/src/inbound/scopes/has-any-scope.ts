/** True when `granted` holds at least one of `required`, compared exactly (no substring, no case folding). */
export function hasAny(granted: readonly string[], required: readonly string[]): boolean {
  for (const value of required) if (granted.includes(value)) return true;
  return false;
}
