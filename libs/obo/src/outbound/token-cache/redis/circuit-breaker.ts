import { Logger } from '@nestjs/common';

/** Returned by {@link CircuitBreaker.run} when the operation was skipped or failed. */
export const UNAVAILABLE = Symbol('unavailable');

/**
 * Stops calling a sick dependency: after `threshold` consecutive failures it stays open for
 * `openMs`, then lets calls through again (the first success closes it). Logs one warning when it
 * opens and one line when the dependency is back, not one per failed call.
 */
export class CircuitBreaker {
  private failures = 0;
  private openUntil = 0;
  private open = false;

  constructor(
    private readonly name: string,
    private readonly threshold: number,
    private readonly openMs: number,
    private readonly logger: Logger,
    /** What callers get while it is open, for the warning. */
    private readonly whileOpen = 'serving from memory and the identity provider',
  ) {}

  /** True while calls are being skipped. */
  get isOpen(): boolean {
    return this.open && Date.now() < this.openUntil;
  }

  async run<T>(operation: () => Promise<T>): Promise<T | typeof UNAVAILABLE> {
    if (this.isOpen) return UNAVAILABLE;
    try {
      const result = await operation();
      if (this.open) this.logger.log(`${this.name} is reachable again; using it.`);
      this.open = false;
      this.failures = 0;
      return result;
    } catch (error) {
      this.failures++;
      if (this.failures >= this.threshold && !this.isOpen) {
        if (!this.open) this.logger.warn(`${this.name} failed ${this.failures} times (${(error as Error).name ?? 'error'}); ${this.whileOpen} for ${this.openMs / 1000} s.`);
        this.open = true;
        this.openUntil = Date.now() + this.openMs;
      }
      return UNAVAILABLE;
    }
  }
}
