/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Resolves at wall-clock time `epochMs` (at once when it has passed). */
export async function sleepUntil(epochMs: number): Promise<void> {
  const wait = epochMs - Date.now();
  if (wait > 0) await sleep(wait);
}

/** The current time in whole epoch seconds, as JWT time claims count it. */
export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/**
 * Waits until early in a wall-clock second and returns that second, so the API's "now" (whole
 * seconds) is the same as the test's while one token is minted and sent. Boundary cases one
 * second from the limit would otherwise flip when the second ticks in between.
 */
export async function startOfSecond(): Promise<number> {
  const ms = Date.now() % 1000;
  if (ms > 150) await sleep(1000 - ms + 10);
  return nowSeconds();
}

/**
 * Waits until millisecond `ms` (0-999) of a wall-clock second: the current second's when it is
 * still ahead, else the next one's. E.g. 600 puts a request in the second half of a second,
 * where msal's rounding of its request time goes up.
 */
export function sleepUntilMillisecond(ms: number): Promise<void> {
  return sleep((1_000 + ms - (Date.now() % 1_000)) % 1_000);
}
