// The JWKS flood, in its own process so the bench's latency measurements do not share its event
// loop. On the bench's `flood` request: `count` GETs to `url` at `rate` per second (open loop: the
// schedule does not depend on how fast the app answers, so both apps get the same flood), at most
// `concurrency` in flight, each with a bearer token whose header names a fresh random `kid`
// (payload and signature of a real token).
import { randomUUID } from 'node:crypto';
import { failStartup, serveBench } from '../lib/child.js';
import { get, keepAlive } from '../lib/load.js';
import { tally } from '../lib/stats.js';

export interface Flood {
  url: string;
  count: number;
  rate: number;
  concurrency: number;
  token: string;
}
export interface FloodResult {
  sent: number;
  durationMs: number;
  achievedRatePerS: number;
  /** Ticks on which the schedule was behind because `concurrency` requests were in flight. */
  cappedTicks: number;
  statuses: Record<string, number>;
}

async function flood({ url, count, rate, concurrency, token }: Flood): Promise<FloodResult> {
  const [, payload, signature] = token.split('.');
  const randomKid = () => `${Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: randomUUID() })).toString('base64url')}.${payload}.${signature}`;
  const agent = keepAlive(concurrency);
  const statuses: number[] = [];
  let sent = 0;
  let inFlight = 0;
  let capped = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(count, Math.floor(((performance.now() - t0) * rate) / 1000));
      if (sent < due && inFlight >= concurrency) capped++;
      for (; sent < due && inFlight < concurrency; sent++, inFlight++) {
        get(agent, url, randomKid())
          .then((r) => statuses.push(r.status), () => statuses.push(0))
          .finally(() => --inFlight === 0 && statuses.length === count && resolve());
      }
      if (sent < count) setTimeout(tick, 1);
    };
    tick();
  });
  const durationMs = performance.now() - t0;
  agent.destroy();
  return { sent, durationMs, achievedRatePerS: (sent / durationMs) * 1000, cappedTicks: capped, statuses: tally(statuses) };
}

try {
  serveBench('', async () => {}, { flood: (payload) => flood(payload as Flood) });
} catch (error) {
  failStartup(error);
}
