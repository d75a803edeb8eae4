// The JWKS flood (resilience-jwks bench), in its own process so the bench's own latency
// measurements do not share its event loop: RES_COUNT GET requests to RES_URL at RES_RATE per
// second (open loop: the schedule does not depend on how fast the app answers, so both apps get
// the same flood), at most RES_CONCURRENCY in flight, each with a bearer token whose header names
// a fresh random `kid` (payload and signature of a real token, RES_TOKEN). Prints `DONE <json>`.
import { randomUUID } from 'node:crypto';
import { get, keepAlive, tally } from '../lib/resilience-http.js';

const url = process.env.RES_URL!;
const count = Number(process.env.RES_COUNT);
const rate = Number(process.env.RES_RATE);
const concurrency = Number(process.env.RES_CONCURRENCY);
const [, payload, signature] = process.env.RES_TOKEN!.split('.');
const token = () => `${Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: randomUUID() })).toString('base64url')}.${payload}.${signature}`;

const agent = keepAlive(concurrency);
const statuses: number[] = [];
let sent = 0;
let inFlight = 0;
let capped = 0; // ticks on which the schedule was behind because `concurrency` requests were in flight
const t0 = performance.now();
await new Promise<void>((resolve) => {
  const tick = () => {
    const due = Math.min(count, Math.floor(((performance.now() - t0) * rate) / 1000));
    if (sent < due && inFlight >= concurrency) capped++;
    while (sent < due && inFlight < concurrency) {
      inFlight++;
      sent++;
      get(agent, url, token())
        .then((r) => statuses.push(r.status), () => statuses.push(0))
        .finally(() => {
          inFlight--;
          if (statuses.length === count) resolve();
        });
    }
    if (sent < count) setTimeout(tick, 1);
  };
  tick();
});
const durationMs = performance.now() - t0;
agent.destroy();
console.log(`DONE ${JSON.stringify({ sent, durationMs, achievedRatePerS: (sent / durationMs) * 1000, cappedTicks: capped, statuses: tally(statuses) })}`);
