import type { ServerResponse } from 'node:http';

/** The `delay` faults a token endpoint is waiting out, so `close()` can cancel them. */
export class PendingDelays {
  private readonly timers = new Set<NodeJS.Timeout>();

  /** Waits `ms`; true if `res` can still be answered then. */
  wait(ms: number, res: ServerResponse): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve(!res.destroyed);
      }, ms);
      this.timers.add(timer);
    });
  }

  /** Cancels every pending wait (their requests are dropped with the server's sockets). */
  cancelAll(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
