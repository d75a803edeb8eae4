// A Redis Cluster master killed under load: a real cluster (3 masters, 3 replicas of redis-server on
// loopback, cluster-node-timeout 1 s), two Original API instances sharing it as their token cache's
// second level (each its own ioredis Cluster client), 8 concurrent clients over real HTTP. Each
// round SIGKILLs the master serving the next user's slot and waits for its replica's promotion;
// the local authority counts the provider requests per user. Two cache settings: the defaults, and
// the e2e test's (#148).
import { execFileSync } from 'node:child_process';
import { startClusterApis } from '../test/support/cluster-apis.js';
import { failMasterUnderLoad, type FailoverLoadResult } from '../test/support/failover-load.js';
import { startRedisCluster } from '../test/support/redis-cluster.js';
import { benchMain, header, log, pick, type RunHeader } from './lib/report.js';

const NAME = 'redis-cluster-failover';
const config = {
  /** Failovers per setting, one cluster per setting (each round kills a master that still has a replica). */
  rounds: pick(3, 1),
  workers: 8,
  usersBefore: pick(200, 60),
  /** Enough users after the promotion to outlast the default 10 s open circuit. */
  usersAfter: pick(1_000, 300),
  maxUsers: 5_000,
  maxMsPerRound: 60_000,
  nodeTimeoutMs: 1_000,
};
const SETTINGS = [
  { name: 'defaults', label: 'defaults: operationTimeoutMs 200, failureThreshold 3, openSeconds 10', cache: {} },
  { name: 'e2e', label: 'the e2e test (#148): operationTimeoutMs 1,000, failureThreshold 3, openSeconds 2', cache: { operationTimeoutMs: 1_000, openSeconds: 2 } },
] as const;

interface Round extends FailoverLoadResult {
  setting: string;
  round: number;
}
interface Result extends RunHeader {
  config: typeof config;
  redisServer: string;
  settings: ReadonlyArray<{ name: string; label: string }>;
  rounds: Round[];
}

async function run(): Promise<Result> {
  const rounds: Round[] = [];
  for (const setting of SETTINGS) {
    const cluster = await startRedisCluster({ nodeTimeoutMs: config.nodeTimeoutMs });
    const apis = await startClusterApis(cluster, 2, { keyPrefix: `bench-${setting.name}:`, ...setting.cache }).catch(async (error: unknown) => {
      await cluster.stop();
      throw error;
    });
    try {
      for (let round = 1; round <= config.rounds; round++) {
        const result = await failMasterUnderLoad(cluster, apis, { workers: config.workers, usersBefore: config.usersBefore, usersAfter: config.usersAfter, maxUsers: config.maxUsers, maxMs: config.maxMsPerRound });
        rounds.push({ ...result, setting: setting.name, round });
        log(`${setting.name} round ${round}: failover ${result.failoverMs} ms, ${result.requests} requests, ${result.clientErrors} client errors, provider requests during ${result.during.providerRequests} for ${result.during.users} users, last bypass ${result.lastBypassMs ?? '-'} ms`);
      }
    } finally {
      await apis.close();
      await cluster.stop();
    }
  }
  return {
    ...header(NAME, ['ioredis']),
    config,
    redisServer: execFileSync('redis-server', ['--version'], { timeout: 5_000 }).toString().trim().split(' ').find((part) => part.startsWith('v='))?.slice(2) ?? 'unknown',
    settings: SETTINGS.map(({ name, label }) => ({ name, label })),
    rounds,
  };
}

const perUser = (phase: { users: number; providerRequests: number }) => (phase.users ? phase.providerRequests / phase.users : Number.NaN);

function render(r: Result) {
  const label = (name: string) => r.settings.find((s) => s.name === name)?.label ?? name;
  const table = r.rounds.map((x) => ({
    ...x,
    label: label(x.setting),
    beforePerUser: perUser(x.before),
    duringPerUser: perUser(x.during),
    afterPerUser: perUser(x.after),
    lastBypassS: x.lastBypassMs === null ? '–' : (x.lastBypassMs / 1000).toFixed(1),
  }));
  const sum = (pick: (x: Round) => number) => r.rounds.reduce((total, x) => total + pick(x), 0);
  return {
    vars: {
      table,
      totalRequests: sum((x) => x.requests),
      totalErrors: sum((x) => x.clientErrors),
      failovers: r.rounds.length,
      slowestFailoverMs: Math.max(...r.rounds.map((x) => x.failoverMs)),
      fastestFailoverMs: Math.min(...r.rounds.map((x) => x.failoverMs)),
    },
  };
}

await benchMain(NAME, run, render);
