// A server under load (or the flood worker) runs in its own node process (bench/servers/*.ts),
// started with the bench's runtime and environment (so the local authority's TLS certificate is
// trusted). It talks to the bench over IPC only: `ready` with its URL, then answers requests
// (`cpu`, `exit`, and whatever handlers the entry adds); nothing is added to the server under test.
import { spawn } from 'node:child_process';
import { once } from 'node:events';

interface Request {
  id: number;
  type: string;
  payload?: unknown;
}
type Reply = { type: 'ready'; url: string } | { type: 'reply'; id: number; value?: unknown; error?: string } | { type: 'failed'; message: string };

/** CPU time the server used so far (all its threads) and its monotonic clock (`--cpu-prof` timestamps), µs. */
export interface CpuSample {
  userUs: number;
  systemUs: number;
  hrtimeUs: number;
}

export interface ChildServer {
  name: string;
  url: string;
  pid: number;
  /** Sends a request to the entry's handler of `type` and resolves with its answer. */
  ask<T>(type: string, payload?: unknown, timeoutMs?: number): Promise<T>;
  cpu(): Promise<CpuSample>;
  /** Asks the process to close and exit (a `--cpu-prof` profile is written then); kills it after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
}

// ---- server side ----

export type Handlers = Record<string, (payload: unknown) => unknown>;

/** The JSON configuration the bench passes as the last argument. */
export function serverConfig<T>(): T {
  const text = process.argv.at(-1);
  if (!text?.startsWith('{')) throw new Error('pass the server configuration as a JSON argument');
  return JSON.parse(text) as T;
}

/** Call once listening: reports `url` and serves the bench's requests (`cpu`, `exit`, and `handlers`). */
export function serveBench(url: string, close: () => Promise<void>, handlers: Handlers = {}): void {
  console.log(`listening on ${url}`);
  if (!process.send) return;
  const all: Handlers = {
    cpu: () => {
      const { user, system } = process.cpuUsage();
      return { userUs: user, systemUs: system, hrtimeUs: Number(process.hrtime.bigint() / 1000n) } satisfies CpuSample;
    },
    ...handlers,
  };
  process.on('message', (message: Request) => {
    if (message.type === 'exit') {
      const exit = () => process.exit(0); // process.exit, not a kill: --cpu-prof writes its profile on exit
      return void close().then(exit, exit);
    }
    Promise.resolve()
      .then(() => all[message.type]!(message.payload))
      .then(
        (value) => process.send!({ type: 'reply', id: message.id, value } satisfies Reply),
        (error: unknown) => process.send!({ type: 'reply', id: message.id, error: String(error) } satisfies Reply),
      );
  });
  process.send({ type: 'ready', url } satisfies Reply);
}

/** Reports a startup failure to the bench and exits. */
export function failStartup(error: unknown): never {
  const message = error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error);
  process.send?.({ type: 'failed', message } satisfies Reply);
  console.error(message);
  process.exit(1);
}

// ---- bench side ----

/** `node [nodeArgs] dist/bench/bench/servers/<file>.js <config JSON>`, resolved once it reports ready. */
export async function startChild(name: string, file: string, config: unknown, nodeArgs: string[] = []): Promise<ChildServer> {
  const entry = file.startsWith('/') ? file : new URL(`../servers/${file}`, import.meta.url).pathname;
  const child = spawn(process.execPath, [...nodeArgs, entry, JSON.stringify(config)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env: process.env });
  const pending = new Map<number, (reply: Extract<Reply, { type: 'reply' }>) => void>();
  let exited = false;
  let stopping = false;
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name}: not ready after 30 s`)), 30_000);
    child.on('message', (message: Reply) => {
      if (message.type === 'ready') resolve(message.url);
      else if (message.type === 'failed') reject(new Error(`${name} failed to start: ${message.message}`));
      else pending.get(message.id)?.(message);
      if (message.type !== 'reply') clearTimeout(timer);
    });
    child.once('exit', (code, signal) => {
      exited = true;
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before it was ready`));
      if (!stopping) console.error(`${name} exited (${code ?? signal})`);
    });
  });
  let nextId = 0;
  const ask = <T>(type: string, payload?: unknown, timeoutMs = 120_000) =>
    new Promise<T>((resolve, reject) => {
      if (exited) return reject(new Error(`${name} is not running`));
      const id = nextId++;
      const timer = setTimeout(() => reject(new Error(`${name}: no answer to ${type} within ${timeoutMs} ms`)), timeoutMs);
      pending.set(id, (reply) => {
        clearTimeout(timer);
        pending.delete(id);
        if (reply.error) reject(new Error(`${name}: ${type} failed: ${reply.error}`));
        else resolve(reply.value as T);
      });
      child.send({ id, type, payload } satisfies Request);
    });
  return {
    name,
    url,
    pid: child.pid!,
    ask,
    cpu: () => ask<CpuSample>('cpu', undefined, 10_000),
    async stop(timeoutMs = 10_000) {
      if (exited) return;
      stopping = true;
      const exit = once(child, 'exit');
      child.send({ id: -1, type: 'exit' } satisfies Request);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exit;
      clearTimeout(timer);
    },
  };
}

/** CPU µs (user + system) and wall µs between two samples of the same server. */
export function cpuBetween(before: CpuSample, after: CpuSample): { cpuUs: number; wallUs: number } {
  return { cpuUs: after.userUs + after.systemUs - before.userUs - before.systemUs, wallUs: after.hrtimeUs - before.hrtimeUs };
}
