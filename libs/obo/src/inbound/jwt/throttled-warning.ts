import type { Logger } from '@nestjs/common';

/**
 * A warning written at most once per interval: a flood of the same failure (oversized tokens,
 * random `kid`s) costs one log line per interval, and the next line says how many were left out.
 */
export class ThrottledWarning {
  private lastAt = Number.NEGATIVE_INFINITY;
  private suppressed = 0;

  constructor(
    private readonly logger: Pick<Logger, 'warn'>,
    private readonly intervalMs: number,
  ) {}

  /** Writes `message()` unless a line was written within the interval; returns whether it wrote. */
  warn(message: () => string): boolean {
    const now = Date.now();
    if (now - this.lastAt < this.intervalMs) {
      this.suppressed++;
      return false;
    }
    const more = this.suppressed > 0 ? ` (${this.suppressed} more like it since the last such line)` : '';
    this.lastAt = now;
    this.suppressed = 0;
    this.logger.warn(`${message()}${more}`);
    return true;
  }
}
