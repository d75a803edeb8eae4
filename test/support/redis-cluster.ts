import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

const HOST = '127.0.0.1';
const POLL_MS = 100;

/** One redis-server of the cluster: its client port and its cluster bus port. */
export interface ClusterNodeAddress {
  readonly host: string;
  readonly port: number;
}

/** What a failover took. */
export interface Failover {
  /** The replica now serving the killed master's slots. */
  readonly promoted: number;
  /** From the SIGKILL until every live node serves all 16,384 slots again, with the replica as master. */
  readonly ms: number;
}

/**
 * A real Redis Cluster on 127.0.0.1 that a test owns: three masters and three replicas
 * (`redis-server --cluster-enabled yes`, each in its own temporary folder, no persistence), made
 * with `redis-cli --cluster create --cluster-replicas 1`.
 */
export interface RedisCluster {
  /** Every node, for an ioredis `Cluster`'s startup nodes. */
  readonly nodes: readonly ClusterNodeAddress[];
  /** `CLUSTER KEYSLOT key`, asked of a live node. */
  keySlot(key: string): Promise<number>;
  /** The port of the master serving `slot` now. */
  masterOf(slot: number): Promise<number>;
  /** The ports of the live replicas of the master at `port`. */
  replicasOf(port: number): Promise<number[]>;
  /** The keys stored on the node at `port` (`KEYS pattern` on that node alone). */
  keysOn(port: number, pattern: string): Promise<string[]>;
  /**
   * SIGKILLs the master at `port` (a crash) at once and resolves when its replica has been promoted
   * and every live node says `cluster_state:ok` with no slot on the dead node.
   * @throws when that has not happened within `timeoutMs`
   */
  failMaster(port: number, timeoutMs?: number): Promise<Failover>;
  /** Kills every node (SIGKILL) and removes their folders. */
  stop(): Promise<void>;
}

/** Options of {@link startRedisCluster}. */
export interface RedisClusterOptions {
  /** `cluster-node-timeout`, ms: how long a silent master takes to be declared failed. Default 1,000. */
  readonly nodeTimeoutMs?: number;
  /** Bound on starting and forming the cluster, ms. Default 60,000. */
  readonly timeoutMs?: number;
}

interface NodeProcess {
  readonly port: number;
  readonly busPort: number;
  child?: ChildProcess;
}

/** `count` distinct free loopback ports, all held at once while they are picked. */
async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, HOST, resolve));
      servers.push(server);
    }
    return servers.map((server) => (server.address() as { port: number }).port);
  } finally {
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }
}

function launch(node: NodeProcess, dir: string, nodeTimeoutMs: number): Promise<ChildProcess> {
  mkdirSync(dir, { recursive: true });
  const args = [
    '--port', String(node.port), '--bind', HOST, '--dir', dir, '--save', '', '--appendonly', 'no',
    '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-port', String(node.busPort),
    '--cluster-node-timeout', String(nodeTimeoutMs),
  ];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server on ${node.port} did not start within 10 s`));
    }, 10_000);
    let output = '';
    // Read all output for the child's whole life (a full pipe would block it); keep only the tail.
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4_000);
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`redis-server could not start (is it installed? .ci/run installs it): ${error.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`redis-server on ${node.port} exited (${code ?? signal}): ${output.slice(-500)}`));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

/** `redis-cli --cluster create ... --cluster-replicas 1 --cluster-yes`, bounded. */
function createCluster(ports: readonly number[], timeoutMs: number): Promise<void> {
  const args = ['--cluster', 'create', ...ports.map((port) => `${HOST}:${port}`), '--cluster-replicas', '1', '--cluster-yes'];
  return new Promise((resolve, reject) => {
    execFile('redis-cli', args, { timeout: timeoutMs, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      if (error) reject(new Error(`redis-cli --cluster create failed: ${error.message}\n${stdout.slice(-1_000)}${stderr.slice(-500)}`));
      else resolve();
    });
  });
}

/** One line of CLUSTER NODES: `<id> <ip:port@cport> <flags> <master> <ping> <pong> <epoch> <link> <slot>...`. */
interface NodeLine {
  readonly id: string;
  /** The id of the master a replica follows; `-` for a master. */
  readonly master: string;
  readonly port: number;
  readonly flags: readonly string[];
  readonly slots: readonly string[];
}

function parseNodes(text: string): NodeLine[] {
  return text
    .trim()
    .split('\n')
    .map((line) => line.trim().split(' '))
    .map((fields) => ({ id: fields[0]!, master: fields[3]!, port: Number(fields[1]!.split('@')[0]!.split(':').pop()), flags: fields[2]!.split(','), slots: fields.slice(8) }));
}

/** Polls `check` every 100 ms until it returns a value; throws `what` after `timeoutMs`. */
async function until<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error; // a node still starting or just killed: ask again
    }
    await sleep(POLL_MS);
  }
  throw new Error(`${what} within ${timeoutMs} ms${last ? ` (last error: ${(last as Error).message})` : ''}`);
}

/** Starts six nodes on free loopback ports, forms the cluster and waits until it is fully up and replicated. */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 1_000;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const ports = await freePorts(12);
  const nodes: NodeProcess[] = Array.from({ length: 6 }, (_, i) => ({ port: ports[i]!, busPort: ports[i + 6]! }));
  const root = mkdtempSync(join(tmpdir(), 'obo-redis-cluster-'));
  const admins = new Map<number, Redis>();
  // A test runner that dies without afterAll must not leave six servers behind.
  const killAll = () => nodes.forEach((node) => node.child?.kill('SIGKILL'));
  process.once('exit', killAll);

  const admin = (port: number): Redis => {
    let client = admins.get(port);
    if (!client) {
      client = new Redis({ host: HOST, port, lazyConnect: false, commandTimeout: 1_000, connectTimeout: 1_000, maxRetriesPerRequest: 0, enableOfflineQueue: true, retryStrategy: () => null });
      client.on('error', () => undefined);
      client.on('end', () => admins.delete(port));
      admins.set(port, client);
    }
    return client;
  };
  const live = () => nodes.filter((node) => node.child !== undefined);
  const ask = async (command: string, ...args: Array<string | number>): Promise<unknown> => {
    let last: unknown;
    for (const node of live()) {
      try {
        return await admin(node.port).call(command, ...args);
      } catch (error) {
        last = error;
      }
    }
    throw last ?? new Error('no live node');
  };
  const info = async (port: number, section: 'cluster' | 'replication'): Promise<Record<string, string>> => {
    const text = (await (section === 'cluster' ? admin(port).call('CLUSTER', 'INFO') : admin(port).info('replication'))) as string;
    return Object.fromEntries(text.split('\r\n').filter((line) => line.includes(':')).map((line) => line.split(':', 2) as [string, string]));
  };
  const nodeLines = async (port: number) => parseNodes((await admin(port).call('CLUSTER', 'NODES')) as string);
  /** Every live node: state ok, all slots served, knows `known` nodes; replicas linked to their master. */
  const settled = async (known: number): Promise<true | undefined> => {
    for (const node of live()) {
      const cluster = await info(node.port, 'cluster');
      if (cluster.cluster_state !== 'ok' || cluster.cluster_slots_ok !== '16384' || Number(cluster.cluster_known_nodes) < known) return undefined;
      const replication = await info(node.port, 'replication');
      if (replication.role === 'slave' && replication.master_link_status !== 'up') return undefined;
    }
    return true;
  };
  const stop = async () => {
    process.removeListener('exit', killAll);
    for (const client of admins.values()) client.disconnect();
    await Promise.all(
      nodes.map(async (node) => {
        const child = node.child;
        node.child = undefined;
        child?.kill('SIGKILL');
        if (child) await exited(child);
      }),
    );
    rmSync(root, { recursive: true, force: true });
  };

  try {
    await Promise.all(nodes.map(async (node) => (node.child = await launch(node, join(root, String(node.port)), nodeTimeoutMs))));
    await createCluster(nodes.map((node) => node.port), timeoutMs);
    await until('the cluster did not settle (6 nodes, every slot, replicas in sync)', timeoutMs, () => settled(6));
    // Every replica must be known as a replica by every node before a failover can be tested.
    await until('the nodes did not agree on three masters with one replica each', timeoutMs, async () => {
      for (const node of live()) {
        const lines = await nodeLines(node.port);
        if (lines.filter((line) => line.flags.includes('master') && line.slots.length > 0).length !== 3) return undefined;
        if (lines.filter((line) => line.flags.includes('slave')).length !== 3) return undefined;
      }
      return true;
    });
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    nodes: nodes.map((node) => ({ host: HOST, port: node.port })),
    keySlot: async (key) => Number(await ask('CLUSTER', 'KEYSLOT', key)),
    masterOf: async (slot) => {
      const ranges = (await ask('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number, ...unknown[]], ...unknown[]]>;
      const range = ranges.find(([first, last]) => first <= slot && slot <= last);
      if (!range) throw new Error(`no node serves slot ${slot}`);
      return Number(range[2][1]);
    },
    replicasOf: async (port) => {
      const lines = await nodeLines(live()[0]!.port);
      const master = lines.find((line) => line.port === port);
      return lines.filter((line) => line.master === master?.id && !line.flags.some((flag) => flag.startsWith('fail'))).map((line) => line.port);
    },
    keysOn: async (port, pattern) => (await admin(port).keys(pattern)).sort(),
    failMaster: async (port, failTimeoutMs = 30_000) => {
      const node = nodes.find((n) => n.port === port);
      const child = node?.child;
      if (!node || !child) throw new Error(`no live node on ${port}`);
      const before = await nodeLines(port);
      const slots = before.find((line) => line.flags.includes('myself'))?.slots ?? [];
      if (!before.find((line) => line.flags.includes('myself'))?.flags.includes('master') || slots.length === 0) throw new Error(`${port} is not a master serving slots`);
      const firstSlot = Number(slots[0]!.split('-')[0]);
      const started = Date.now();
      node.child = undefined;
      admins.get(port)?.disconnect();
      child.kill('SIGKILL');
      await exited(child);
      const promoted = await until(`no replica took over the slots of ${port}`, failTimeoutMs, async () => {
        let owner: number | undefined;
        for (const survivor of live()) {
          const lines = await nodeLines(survivor.port);
          const serving = lines.find((line) => line.flags.includes('master') && !line.flags.some((f) => f.startsWith('fail')) && line.slots.some((range) => {
            const [first, last = first] = range.split('-').map(Number);
            return first! <= firstSlot && firstSlot <= last!;
          }));
          if (!serving || serving.port === port || (owner !== undefined && owner !== serving.port)) return undefined;
          owner = serving.port;
        }
        return owner;
      });
      await until('the cluster did not come back to cluster_state:ok', failTimeoutMs, async () => {
        for (const survivor of live()) if ((await info(survivor.port, 'cluster')).cluster_state !== 'ok') return undefined;
        return true;
      });
      return { promoted, ms: Date.now() - started };
    },
    stop,
  };
}
