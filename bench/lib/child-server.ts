// A server under load runs in its own node process (bench/servers/*.server.ts). It talks to the
// bench over the IPC channel only: it reports its URL once listening, answers CPU-usage queries,
// and exits on request. Nothing of this adds a route or a middleware to the server under test.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

/** Server side → bench. */
type ChildMessage =
  | { readonly type: 'ready'; readonly url: string; readonly pid: number }
  | { readonly type: 'cpu'; readonly id: number; readonly userUs: number; readonly systemUs: number; readonly hrtimeUs: number }
  | { readonly type: 'failed'; readonly message: string };

/** Bench → server side. */
type ParentMessage = { readonly type: 'cpu'; readonly id: number } | { readonly type: 'exit' };

/** CPU time the server process used so far (all its threads: JS, GC helpers, libuv pool) and its monotonic clock. */
export interface CpuSample {
  readonly userUs: number;
  readonly systemUs: number;
  /** `process.hrtime` of the server, in µs (the clock of `--cpu-prof` timestamps). */
  readonly hrtimeUs: number;
}

export interface ChildServer {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  cpu(): Promise<CpuSample>;
  /** Asks the server to close and exit (a `--cpu-prof` profile is written then); kills it after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
}

// ---- server side ----

/** Closes what the server opened (its Nest app or http server) before the process exits. */
export type CloseServer = () => Promise<void>;

/**
 * Call in a server entry once it listens: reports `url` to the bench and serves its IPC requests.
 * Without an IPC channel (started by hand) it only prints the URL.
 */
export function serveBench(url: string, close: CloseServer): void {
  console.log(`listening on ${url}`);
  if (!process.send) return;
  process.on('message', (message: ParentMessage) => {
    if (message.type === 'cpu') {
      const { user, system } = process.cpuUsage();
      const hrtimeUs = Number(process.hrtime.bigint() / 1000n);
      process.send!({ type: 'cpu', id: message.id, userUs: user, systemUs: system, hrtimeUs } satisfies ChildMessage);
    } else if (message.type === 'exit') {
      const exit = () => process.exit(0); // process.exit, not a kill: --cpu-prof writes its profile on exit
      close().then(exit, exit);
    }
  });
  process.send({ type: 'ready', url, pid: process.pid } satisfies ChildMessage);
}

/** Reports a startup failure to the bench and exits. */
export function failStartup(error: unknown): never {
  const message = error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error);
  if (process.send) process.send({ type: 'failed', message } satisfies ChildMessage);
  console.error(message);
  process.exit(1);
}

/** The JSON configuration a bench passes as the last argument. */
export function serverConfig<T>(): T {
  const text = process.argv.at(-1);
  if (!text?.startsWith('{')) throw new Error('pass the server configuration as a JSON argument');
  return JSON.parse(text) as T;
}

// ---- bench side ----

/**
 * Starts `node [nodeArgs] <entry> <config JSON>` with the bench's environment (so the local
 * authority's TLS certificate is trusted) and waits until it listens.
 */
export async function startChildServer(name: string, entry: string, config: unknown, nodeArgs: readonly string[] = [], startupTimeoutMs = 30_000): Promise<ChildServer> {
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, entry, JSON.stringify(config)], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: process.env,
  });
  const pending = new Map<number, (sample: CpuSample) => void>();
  let nextId = 0;
  const ready = new Promise<{ url: string; pid: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name}: not listening after ${startupTimeoutMs} ms`)), startupTimeoutMs);
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        resolve(message);
      } else if (message.type === 'failed') {
        clearTimeout(timer);
        reject(new Error(`${name} failed to start: ${message.message}`));
      } else if (message.type === 'cpu') {
        pending.get(message.id)?.(message);
        pending.delete(message.id);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before listening`));
    });
  });
  const { url, pid } = await ready;
  let exited = false;
  let stopping = false;
  child.once('exit', (code, signal) => {
    exited = true;
    if (!stopping) console.error(`${name} exited unexpectedly (${code ?? signal})`);
  });
  return {
    name,
    url,
    pid,
    cpu() {
      if (exited) return Promise.reject(new Error(`${name} is not running`));
      const id = nextId++;
      return new Promise<CpuSample>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name}: no CPU sample within 10 s`)), 10_000);
        pending.set(id, (sample) => {
          clearTimeout(timer);
          resolve(sample);
        });
        child.send({ type: 'cpu', id } satisfies ParentMessage);
      });
    },
    async stop(timeoutMs = 10_000) {
      if (exited) return;
      stopping = true;
      const exit = once(child, 'exit');
      child.send({ type: 'exit' } satisfies ParentMessage);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exit;
      clearTimeout(timer);
    },
  };
}

/** CPU µs (user + system) between two samples of the same server. */
export function cpuBetween(before: CpuSample, after: CpuSample): { cpuUs: number; wallUs: number } {
  return { cpuUs: after.userUs + after.systemUs - before.userUs - before.systemUs, wallUs: after.hrtimeUs - before.hrtimeUs };
}
