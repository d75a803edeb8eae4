import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the stub answers the next request. */
export type StubReply =
  | { readonly status: number; readonly headers?: Record<string, string>; readonly body?: unknown; readonly delayMs?: number }
  | { readonly hang: true };

/** A downstream API we control completely: it records every bearer token and answers from a script. */
export interface StubDownstream {
  readonly url: string;
  /** Bearer tokens received, in order. */
  readonly tokens: string[];
  /** Replies used one per request, in order; when empty the stub answers 200 `{ ok: true }`. */
  readonly script: StubReply[];
  close(): Promise<void>;
}

/** Starts the stub on 127.0.0.1. */
export async function startStubDownstream(): Promise<StubDownstream> {
  const tokens: string[] = [];
  const script: StubReply[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const auth = req.headers.authorization ?? '';
    tokens.push(auth.replace(/^Bearer /, ''));
    const reply = script.shift() ?? { status: 200, body: { ok: true } };
    if ('hang' in reply) return; // never answers; close() drops the socket
    const send = () => {
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
    };
    if (reply.delayMs) setTimeout(send, reply.delayMs);
    else send();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    tokens,
    script,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
