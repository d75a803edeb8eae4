import { Logger } from '@nestjs/common';
import type { Attributes, Gauge } from '@opentelemetry/api';
import { oboInstruments } from '../../../observability/obo-telemetry.js';
import { ATTR_OBO_CIRCUIT_NAME } from '../../../observability/telemetry-names.js';

/** Returned by {@link CircuitBreaker.run} when the operation was skipped or failed. */
export const UNAVAILABLE = Symbol('unavailable');

/** Where a breaker stands: `half-open` once the open time passed and before a call succeeded again. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/** `Redis token cache` → `token_cache`: the breaker's name as a metric attribute value. */
function circuitName(name: string): string {
  return name.toLowerCase().replace(/^redis /, '').replace(/\W+/g, '_');
}

/**
 * Stops calling a sick dependency: after `threshold` consecutive failures it stays open for
 * `openMs`, then lets calls through again (the first success closes it). Logs one warning when it
 * opens and one line when the dependency is back, not one per failed call. Its state is the
 * `obo.redis.circuit.open` gauge (1 from opening until a call succeeds again, else 0), attribute
 * `obo.circuit.name`.
 */
export class CircuitBreaker {
  private failures = 0;
  private openUntil = 0;
  private open = false;
  private readonly gauge: Gauge = oboInstruments().redisCircuitOpen;
  private readonly attributes: Attributes;

  constructor(
    private readonly name: string,
    private readonly threshold: number,
    private readonly openMs: number,
    private readonly logger: Logger,
    /** What callers get while it is open, for the warning. */
    private readonly whileOpen = 'serving from memory and the identity provider',
  ) {
    this.attributes = Object.freeze({ [ATTR_OBO_CIRCUIT_NAME]: circuitName(name) });
    this.gauge.record(0, this.attributes);
  }

  /** True while calls are being skipped. */
  get isOpen(): boolean {
    return this.open && Date.now() < this.openUntil;
  }

  /** `closed`, `open` (calls skipped) or `half-open` (the next call is let through as a probe). */
  get state(): CircuitState {
    return !this.open ? 'closed' : this.isOpen ? 'open' : 'half-open';
  }

  async run<T>(operation: () => Promise<T>): Promise<T | typeof UNAVAILABLE> {
    if (this.isOpen) return UNAVAILABLE;
    try {
      const result = await operation();
      if (this.open) {
        this.logger.log(`${this.name} is reachable again; using it.`);
        this.gauge.record(0, this.attributes);
      }
      this.open = false;
      this.failures = 0;
      return result;
    } catch (error) {
      this.failures++;
      if (this.failures >= this.threshold && !this.isOpen) {
        if (!this.open) this.logger.warn(`${this.name} failed ${this.failures} times (${(error as Error).name ?? 'error'}); ${this.whileOpen} for ${this.openMs / 1000} s.`);
        this.open = true;
        this.openUntil = Date.now() + this.openMs;
        this.gauge.record(1, this.attributes);
      }
      return UNAVAILABLE;
    }
  }
}
