// Bursts of first calls against a local authority whose request counters are the ground truth
// (resilience-bursts, rfc8693-exchange): all calls start in the same tick; what reached the
// authority, how many distinct tokens came back, and when each call settled.
import { errorList, runBurst, settledFigures, startBurst } from './stats.js';
import { int } from './report.js';

/** What the authority counted since its last reset. */
export interface Counts {
  token: number;
  /** Token requests of the grant the burst uses (checked to equal `token`). */
  grants: number;
  discovery: number;
  jwks: number;
}

export interface BurstRow {
  scenario: 'one user' | 'many users';
  state: string;
  client: string;
  users: number;
  callsPerUser: number;
  calls: number;
  tokenRequests: number;
  discoveryRequests: number;
  jwksRequests: number;
  /** Token requests the client should make: one per user (ours only). */
  target?: number;
  failed: number;
  errors: Record<string, number>;
  distinctTokens: number;
  wallMs: number;
  p50Ms: number;
  p99Ms: number;
  /** One more call per user right after: all must be cache hits (ours). */
  followUp?: { calls: number; tokenRequests: number };
}

/** Resets the counters, runs `users × callsPerUser` calls at once (call i is user i % users, so each user's calls spread over the burst). */
export async function burst(row: Pick<BurstRow, 'scenario' | 'state' | 'client' | 'users' | 'callsPerUser' | 'target'>, call: (user: number) => Promise<string>, counts: () => Counts, reset: () => void, followUp: boolean): Promise<BurstRow> {
  reset();
  const calls = row.users * row.callsPerUser;
  const { settled, wallMs } = await runBurst(calls, (i) => call(i % row.users));
  const c = counts();
  if (c.grants !== c.token) throw new Error(`${row.scenario}/${row.client}: ${c.token} token requests, ${c.grants} of the expected grant`);
  if (followUp) await runBurst(row.users, call);
  const { failed, errors, distinctTokens, p50Ms, p99Ms } = settledFigures(settled, calls);
  const follow = followUp ? { calls: row.users, tokenRequests: counts().token - c.token } : undefined;
  return { ...row, calls, tokenRequests: c.token, discoveryRequests: c.discovery, jwksRequests: c.jwks, failed, errors, distinctTokens, wallMs, p50Ms: p50Ms!, p99Ms: p99Ms!, followUp: follow };
}

export interface OutageRow {
  client: string;
  label: string;
  deadlineMs?: number;
  calls: number;
  answered: number;
  waitedMs: number;
  tokenRequests: number;
  /** Of these, how many reached the authority after the last caller's deadline (ours). */
  tokenRequestsAfterDeadline?: number;
  discoveryRequests: number;
  p50Ms?: number;
  p99Ms?: number;
  maxMs?: number;
  errors: Record<string, number>;
}

/** `calls` first calls at once while the token endpoint hangs; every one must settle (at its deadline). */
export async function hungBurst(client: string, label: string, calls: number, call: (user: number) => Promise<string>, counts: () => Counts, deadlineMs: number): Promise<OutageRow> {
  const c0 = counts();
  // Every call has started when startBurst returns, so the last caller's deadline is deadlineMs from now.
  const b = startBurst(calls, call);
  let atDeadline = c0;
  const snapshot = setTimeout(() => (atDeadline = counts()), deadlineMs);
  const settled = await b.done;
  const waitedMs = performance.now() - b.startedAt;
  await new Promise((r) => setTimeout(r, 200)); // let late requests arrive
  clearTimeout(snapshot);
  const c1 = counts();
  const { answered, errors, p50Ms, p99Ms, maxMs } = settledFigures(settled, calls);
  return { client, label, deadlineMs, calls, answered, waitedMs, tokenRequests: c1.token - c0.token, tokenRequestsAfterDeadline: c1.token - atDeadline.token, discoveryRequests: c1.discovery - c0.discovery, p50Ms, p99Ms, maxMs, errors };
}

/** The baseline's calls of an outage, started first and left pending while ours run; `collect` waits up to `waitSeconds` from their start. */
export function pendingBurst(client: string, label: string, calls: number, call: (user: number) => Promise<string>, counts: () => Counts) {
  const before = counts();
  const b = startBurst(calls, call);
  return {
    startedAt: b.startedAt,
    async collect(waitSeconds: number, ours: OutageRow[]): Promise<OutageRow> {
      const until = b.startedAt + waitSeconds * 1000;
      while (performance.now() < until && b.settled.length < calls) await new Promise((r) => setTimeout(r, 250));
      const after = counts();
      const sum = (pick: (o: OutageRow) => number) => ours.reduce((s, o) => s + pick(o), 0);
      const { answered, errors, p50Ms, p99Ms, maxMs } = settledFigures([...b.settled], calls);
      // Counted over the whole window: ours' requests are subtracted.
      return { client, label, calls, answered, waitedMs: performance.now() - b.startedAt, tokenRequests: after.token - before.token - sum((o) => o.tokenRequests), discoveryRequests: after.discovery - before.discovery - sum((o) => o.discoveryRequests), p50Ms, p99Ms, maxMs, errors };
    },
  };
}

/** Rows as the templates show them. */
export const burstTable = (rows: BurstRow[]) => rows.map((b) => ({ ...b, label: b.users === 1 ? `1 user × ${int(b.calls)}` : `${int(b.users)} users × ${b.callsPerUser}`, errorText: errorList(b.errors) }));
export const outageTable = (rows: OutageRow[], name: (o: OutageRow) => string) => rows.map((o) => ({ ...o, name: name(o), all: o.answered === o.calls, errorText: errorList(o.errors) }));
