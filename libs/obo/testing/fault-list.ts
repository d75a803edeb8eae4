/** An injected fault; `remove()` takes it out. */
export interface FaultHandle<F> {
  /** The fault. */
  readonly fault: F;
  /** Requests it has been applied to so far. */
  readonly applied: number;
  /** Stops applying the fault. */
  remove(): void;
}

interface Entry<F, M> {
  readonly fault: F;
  readonly match: M;
  applied: number;
}

/**
 * An ordered list of injected faults of one endpoint; the first fault whose match conditions hold
 * for a request wins. `times` (when given) drops a fault after that many uses.
 */
export class FaultList<F, M extends { times?: number }, Facts> {
  private entries: Entry<F, M>[] = [];

  /** @param matches Whether a fault's conditions hold for the facts of one request. */
  constructor(private readonly matches: (match: M, facts: Facts) => boolean) {}

  /** Appends a fault and returns its handle. */
  inject(fault: F, match: M): FaultHandle<F> {
    const entry: Entry<F, M> = { fault, match, applied: 0 };
    this.entries.push(entry);
    return {
      fault,
      get applied() {
        return entry.applied;
      },
      remove: () => {
        this.entries = this.entries.filter((e) => e !== entry);
      },
    };
  }

  /** Removes every fault. */
  clear(): void {
    this.entries = [];
  }

  /** The first fault matching `facts` (counting one use of it), if any. */
  take(facts: Facts): F | undefined {
    const entry = this.entries.find((e) => (e.match.times === undefined || e.match.times > 0) && this.matches(e.match, facts));
    if (!entry) return undefined;
    entry.applied++;
    if (entry.match.times !== undefined && entry.applied >= entry.match.times) {
      this.entries = this.entries.filter((e) => e !== entry);
    }
    return entry.fault;
  }
}
