// HTTP plumbing of the JWKS-flood bench: child processes (servers, the flood worker) and a
// keep-alive GET client that times each request.
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { join } from 'node:path';

/** A child node process running a compiled file of dist/bench/bench/servers. */
export interface Child {
  readonly process: ChildProcess;
  /** Lines it printed on stdout. */
  readonly lines: string[];
  /** Resolves with the first stdout line starting with `prefix`. */
  waitFor(prefix: string, timeoutMs: number): Promise<string>;
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
  kill(): void;
}

/** Starts `bench/servers/<file>.js` (compiled next to this file) with the parent's env (TLS trust) plus `env`. */
export function startChild(file: string, env: Record<string, string>): Child {
  const path = join(import.meta.dirname, '..', 'servers', file);
  const child = spawn(process.execPath, [path], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const waiters: Array<{ prefix: string; resolve: (line: string) => void }> = [];
  let buffer = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      lines.push(line);
      for (const w of [...waiters]) if (line.startsWith(w.prefix)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(line));
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    process: child,
    lines,
    exited,
    waitFor(prefix, timeoutMs) {
      const seen = lines.find((l) => l.startsWith(prefix));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${file}: no "${prefix}" line within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({ prefix, resolve: (line) => (clearTimeout(timer), resolve(line)) });
        void exited.then((code) => reject(new Error(`${file} exited (${code}) before printing "${prefix}"`)));
      });
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
}

export interface Reply {
  readonly status: number;
  readonly ms: number;
  readonly body: string;
}

/** GET `url` with `Authorization: Bearer <token>` through `agent` (keep-alive), timed from the call to the end of the body. */
export function get(agent: Agent, url: string, token?: string, timeoutMs = 30_000): Promise<Reply> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers: token ? { authorization: `Bearer ${token}` } : {}, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

export const keepAlive = (sockets: number) => new Agent({ keepAlive: true, maxSockets: sockets });

/** `{ status: count }`. */
export function tally(statuses: Iterable<number>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of statuses) counts[s] = (counts[s] ?? 0) + 1;
  return counts;
}

/**
 * Closed-loop load: `concurrency` workers, each sending one request after the other (request i
 * carries `tokenFor(i)`) until `stop()` returns true or `maxRequests` were sent.
 */
export async function closedLoop(url: string, tokenFor: (i: number) => string, concurrency: number, stop: () => boolean, maxRequests = Number.MAX_SAFE_INTEGER): Promise<Reply[]> {
  const agent = keepAlive(concurrency);
  const replies: Reply[] = [];
  let next = 0;
  const worker = async () => {
    while (!stop() && next < maxRequests) {
      const reply = await get(agent, url, tokenFor(next++));
      replies.push({ status: reply.status, ms: reply.ms, body: '' });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  return replies;
}
