import type { Logger } from '@nestjs/common';

const INTERVAL_MS = 10_000;

/**
 * Logs that a sealed Redis value failed authentication (and was deleted): one warning per 10 s at
 * most, with the count of those not reported since, so a flood of altered values is one line, not
 * a line per request. Internal.
 */
export class SecurityEventLog {
  private last = 0;
  private suppressed = 0;

  /** @param what what failed, e.g. `a Redis token cache value` */
  constructor(
    private readonly logger: Logger,
    private readonly what: string,
  ) {}

  report(): void {
    const now = Date.now();
    if (now - this.last < INTERVAL_MS) {
      this.suppressed++;
      return;
    }
    const more = this.suppressed ? ` (${this.suppressed} more since the last report)` : '';
    this.logger.warn(`Security event: ${this.what} failed authentication and was deleted${more}. Values were altered, moved between keys, or sealed with a key not configured here.`);
    this.last = now;
    this.suppressed = 0;
  }
}
