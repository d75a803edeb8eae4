// A master of the cluster killed while clients keep calling the Original API instances: the load,
// the kill, and what the clients and the identity provider saw. Used by test/redis-cluster.e2e-spec.ts
// (which asserts) and bench/redis-cluster-failover.bench.ts (which reports).
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClusterApis, ClusterUser } from './cluster-apis.js';
import type { RedisCluster } from './redis-cluster.js';

/** Bounds of the load. */
export interface FailoverLoadOptions {
  /** Concurrent clients. */
  readonly workers: number;
  /** Users started before the kill. */
  readonly usersBefore: number;
  /** Users started after the promotion. */
  readonly usersAfter: number;
  /** Hard bound on users (each makes two requests). */
  readonly maxUsers: number;
  /** Hard bound on the load's wall time, ms. */
  readonly maxMs: number;
}

/** Users of one phase (by when their first request started), their requests and the provider requests made for them. */
export interface PhaseFigures {
  readonly users: number;
  readonly requests: number;
  readonly providerRequests: number;
}

/** What one failover under load cost. */
export interface FailoverLoadResult {
  readonly victim: number;
  readonly promoted: number;
  /** SIGKILL to promotion (every live node serving all slots again), ms. */
  readonly failoverMs: number;
  readonly requests: number;
  /** Requests that did not answer 200 with the caller's own object id (or failed outright). */
  readonly clientErrors: number;
  /** Up to 5 of them, for the failure message. */
  readonly errorSamples: readonly string[];
  readonly before: PhaseFigures;
  /** Users whose first request started between the kill and the promotion. */
  readonly during: PhaseFigures;
  readonly after: PhaseFigures;
  /** When (ms after the kill) the last user started whose two calls took two provider requests (the second instance did not get the first one's token from the cluster); `null` when none did. */
  readonly lastBypassMs: number | null;
  readonly stoppedByTime: boolean;
}

/**
 * Each user calls one instance (a Redis miss: the provider, then a Redis write) and then the other
 * (a Redis hit while the cluster is healthy), so the cluster is on every user's path. After
 * `usersBefore` users the master serving the next user's slot (or, when it has no replica left,
 * another master that has one) is SIGKILLed; the load goes on until `usersAfter` users have started
 * after the promotion. Provider requests are the authority's count per user (`byUser`).
 */
export async function failMasterUnderLoad(cluster: RedisCluster, apis: ClusterApis, options: FailoverLoadOptions): Promise<FailoverLoadResult> {
  const [first, second] = [apis.instances[0]!, apis.instances[1]!];
  const users: Array<{ user: ClusterUser; startedAt: number; failed: boolean }> = [];
  const errors: string[] = [];
  let stopAfter = options.maxUsers;
  const hardStop = Date.now() + options.maxMs;
  const running = () => users.length < Math.min(options.maxUsers, stopAfter) && Date.now() < hardStop;
  const worker = async (w: number) => {
    while (running()) {
      const record = { user: apis.newUser(), startedAt: Date.now(), failed: false };
      users.push(record);
      for (const instance of w % 2 ? [first, second] : [second, first]) {
        try {
          const { status, objectId } = await apis.call(instance, record.user.token);
          if (status !== 200 || objectId !== record.user.oid) errors.push(`status ${status}`);
          record.failed ||= status !== 200 || objectId !== record.user.oid;
        } catch (error) {
          errors.push((error as Error).message);
          record.failed = true;
        }
      }
    }
  };
  const load = Promise.all(Array.from({ length: options.workers }, (_, w) => worker(w)));
  try {
    while (users.length < options.usersBefore && Date.now() < hardStop) await sleep(10);
    const victim = await victimFor(cluster, apis.newUser().owner);
    const killedAt = Date.now();
    const failover = await cluster.failMaster(victim);
    stopAfter = users.length + options.usersAfter;
    await load;
    const byUser = apis.authority.tokenRequests.byUser;
    const phase = (from: number, to: number): PhaseFigures => {
      const picked = users.filter((u) => u.startedAt - killedAt >= from && u.startedAt - killedAt < to);
      return { users: picked.length, requests: picked.length * 2, providerRequests: picked.reduce((sum, u) => sum + (byUser.get(u.user.oid) ?? 0), 0) };
    };
    const bypassed = users.filter((u) => u.startedAt >= killedAt && (byUser.get(u.user.oid) ?? 0) > 1);
    return {
      victim,
      promoted: failover.promoted,
      failoverMs: failover.ms,
      requests: users.length * 2,
      clientErrors: errors.length,
      errorSamples: errors.slice(0, 5),
      before: phase(-Infinity, 0),
      during: phase(0, failover.ms),
      after: phase(failover.ms, Infinity),
      lastBypassMs: bypassed.length ? Math.max(...bypassed.map((u) => u.startedAt - killedAt)) : null,
      stoppedByTime: Date.now() >= hardStop,
    };
  } finally {
    stopAfter = 0; // a failed kill or wait must not leave the load running
    await load;
  }
}

/** The master serving `owner`'s slot if it still has a replica, else any master that has one. */
async function victimFor(cluster: RedisCluster, owner: string): Promise<number> {
  const preferred = await cluster.masterOf(await cluster.keySlot(`{${owner}}`));
  if ((await cluster.replicasOf(preferred)).length > 0) return preferred;
  for (const slot of [0, 5_500, 11_000, 16_383]) {
    const master = await cluster.masterOf(slot);
    if ((await cluster.replicasOf(master)).length > 0) return master;
  }
  throw new Error('no master has a replica left to promote');
}
