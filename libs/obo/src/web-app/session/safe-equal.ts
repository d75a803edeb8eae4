import { timingSafeEqual } from 'node:crypto';

/** `a === b` in time that does not depend on where they differ (only on their lengths). */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
