/** Waits (at most 10 s, in 20 ms steps) until `condition` holds: an event to wait for, not a timing assertion. */
export async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  if (!condition()) throw new Error('condition never held');
}
