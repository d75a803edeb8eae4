import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** A sample app running as a child process, and the URL it printed. */
export interface RunningApp {
  readonly url: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

const LISTENING = /listening on (http:\/\/\S+)/;

/**
 * Starts `node <entry>` with `env` and resolves once it prints "listening on <url>". Its output is
 * relayed with a prefix; it is stopped with SIGTERM (graceful shutdown) by {@link RunningApp.stop}.
 */
export function spawnApp(name: string, entry: string, env: NodeJS.ProcessEnv, timeoutMs = 20_000): Promise<RunningApp> {
  const child = spawn(process.execPath, [entry], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within ${timeoutMs} ms`)), timeoutMs);
    const relay = (stream: NodeJS.ReadableStream) =>
      createInterface({ input: stream }).on('line', (line) => {
        process.stdout.write(`[${name}] ${line}\n`);
        const match = LISTENING.exec(line.replace(/\x1b\[[0-9;]*m/g, ''));
        if (match) {
          clearTimeout(timer);
          resolve({ url: match[1]!, child, stop });
        }
      });
    relay(child.stdout!);
    relay(child.stderr!);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with code ${code} before it was ready`));
    });
  });
}
