import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { OboError } from '../../errors/obo.error.js';
import { DownstreamClient, MAX_DOWNSTREAM_RESPONSE_BYTES, type DownstreamUrl } from './downstream-client.js';

/** What the raw server does with one request: the bytes to write, and whether to end the socket. */
type Answer = { readonly bytes: string | Buffer; readonly end?: boolean } | 'silence';

/** A loopback HTTP/1.1 server written on raw sockets, so any byte sequence can be answered. */
interface RawServer {
  readonly url: DownstreamUrl;
  /** Request heads received, in order. */
  readonly heads: string[];
  /** Answers used one per request; when empty: 200 `{"ok":true}`, connection kept alive. */
  readonly script: Answer[];
  /** Sockets currently open. */
  readonly open: Set<Socket>;
  close(): Promise<void>;
}

async function startRawServer(): Promise<RawServer> {
  const heads: string[] = [];
  const script: Answer[] = [];
  const open = new Set<Socket>();
  const server: Server = createServer((socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => undefined);
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      while (buffered.includes('\r\n\r\n')) {
        const end = buffered.indexOf('\r\n\r\n') + 4;
        heads.push(buffered.slice(0, end));
        buffered = buffered.slice(end);
        const answer = script.shift() ?? { bytes: response('200 OK', [], '{"ok":true}') };
        if (answer === 'silence') continue;
        if (answer.end) socket.end(answer.bytes);
        else socket.write(answer.bytes);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const host = `127.0.0.1:${port}`;
  return {
    url: { origin: `http://${host}`, path: '/api/whoami', host },
    heads,
    script,
    open,
    close: async () => {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function response(status: string, headerLines: string[], body: string | Buffer): Buffer {
  const head = [`HTTP/1.1 ${status}`, ...headerLines, `content-length: ${Buffer.byteLength(body)}`, '', ''].join('\r\n');
  return Buffer.concat([Buffer.from(head, 'latin1'), Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8')]);
}

async function rejection(promise: Promise<unknown>): Promise<OboError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OboError);
  return error as OboError;
}

describe('DownstreamClient (undici on loopback)', () => {
  let server: RawServer;
  let client: DownstreamClient;
  const get = (timeoutMs = 2_000) => client.send({ method: 'GET', url: server.url, headers: { accept: 'application/json', authorization: 'Bearer t0k' }, body: undefined, timeoutMs });

  beforeEach(async () => {
    server = await startRawServer();
    client = new DownstreamClient();
  });
  afterEach(async () => {
    await client.close();
    await server.close();
  });

  it('sends exactly the given headers (no Accept-Encoding) and reads a JSON body', async () => {
    const answer = await get();
    expect(answer.status).toBe(200);
    expect(await answer.text()).toBe('{"ok":true}');
    const head = server.heads[0]!;
    expect(head.startsWith('GET /api/whoami HTTP/1.1\r\n')).toBe(true);
    expect(head).toMatch(/\r\nauthorization: Bearer t0k\r\n/i);
    expect(head).not.toMatch(/accept-encoding/i);
  });

  it('reuses keep-alive connections across calls', async () => {
    let connections = 0;
    const seen = new WeakSet<Socket>();
    for (let i = 0; i < 10; i += 1) {
      expect(await (await get()).text()).toBe('{"ok":true}');
      for (const socket of server.open) if (!seen.has(socket)) (seen.add(socket), (connections += 1));
    }
    expect(server.heads).toHaveLength(10);
    // undici's pool may open a second connection when a call starts in the instant the previous
    // response is read but its connection not yet marked free; never one per call.
    expect(connections).toBeLessThanOrEqual(2);
  });

  it('joins repeated header lines with ", "', async () => {
    server.script.push({ bytes: response('401 Unauthorized', ['www-authenticate: Bearer error="a"', 'www-authenticate: Bearer error="b"'], '') });
    const first = await get();
    expect(first.status).toBe(401);
    expect(first.header('www-authenticate')).toBe('Bearer error="a", Bearer error="b"');
    expect(first.header('x-absent')).toBeNull();
    await first.discard();
    expect(await (await get()).text()).toBe('{"ok":true}');
  });

  it('returns a redirect as it is and never follows it', async () => {
    const target = await startRawServer();
    try {
      server.script.push({ bytes: response('302 Found', [`location: ${target.url.origin}/steal`], '') });
      const answer = await get();
      expect(answer.status).toBe(302);
      await answer.discard();
      expect(target.heads).toHaveLength(0);
    } finally {
      await target.close();
    }
  });

  it('refuses a body over the cap whose Content-Length says so', async () => {
    const big = Buffer.alloc(MAX_DOWNSTREAM_RESPONSE_BYTES + 1, 0x20);
    server.script.push({ bytes: response('200 OK', [], big), end: true });
    const error = await rejection(get(10_000).then((answer) => answer.text()));
    expect(error.code).toBe('ERR_OBO_DOWNSTREAM_FAILED');
  });

  it('abandons a chunked body as soon as it passes the cap', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    const frame = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
    const frames = Array.from({ length: 11 }, () => frame); // 11 MiB, never terminated
    server.script.push({ bytes: Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n'), ...frames]) });
    const error = await rejection(get(10_000).then((answer) => answer.text()));
    expect(error.code).toBe('ERR_OBO_DOWNSTREAM_FAILED');
  });

  it('refuses a compressed body it never asked for', async () => {
    server.script.push({ bytes: response('200 OK', ['content-encoding: gzip'], gzipSync('{"ok":true}')) });
    const error = await rejection(get().then((answer) => answer.text()));
    expect(error.code).toBe('ERR_OBO_DOWNSTREAM_FAILED');
  });

  it('refuses a body that is not UTF-8', async () => {
    server.script.push({ bytes: response('200 OK', [], Buffer.from([0x22, 0xc0, 0xaf, 0x22])) });
    const error = await rejection(get().then((answer) => answer.text()));
    expect(error.code).toBe('ERR_OBO_DOWNSTREAM_FAILED');
  });

  it('times out when no answer comes: ERR_OBO_DOWNSTREAM_TIMEOUT', async () => {
    server.script.push('silence');
    const error = await rejection(get(300));
    expect(error.code).toBe('ERR_OBO_DOWNSTREAM_TIMEOUT');
    expect(error.message).toContain('300 ms');
  });

  it('times out when the body stalls after the headers: the deadline covers the body', async () => {
    server.script.push({ bytes: 'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{"partial":' });
    const answer = await get(300);
    expect(answer.status).toBe(200);
    const error = await rejection(answer.text());
    expect(error.code).toBe('ERR_OBO_DOWNSTREAM_TIMEOUT');
  });

  it('reports a refused connection as ERR_OBO_DOWNSTREAM_FAILED', async () => {
    const url = server.url;
    await server.close();
    const error = await rejection(client.send({ method: 'GET', url, headers: {}, body: undefined, timeoutMs: 2_000 }));
    expect(error.code).toBe('ERR_OBO_DOWNSTREAM_FAILED');
    server = await startRawServer(); // for afterEach
  });

  it('reports a header value undici refuses as ERR_OBO_DOWNSTREAM_FAILED, without sending anything', async () => {
    const error = await rejection(client.send({ method: 'GET', url: server.url, headers: { 'x-bad': 'a\r\nx-injected: 1' }, body: undefined, timeoutMs: 2_000 }));
    expect(error.code).toBe('ERR_OBO_DOWNSTREAM_FAILED');
    expect(server.heads).toHaveLength(0);
  });

  it('close() closes its idle keep-alive connections', async () => {
    await (await get()).text();
    expect(server.open.size).toBe(1);
    await client.close();
    for (let i = 0; i < 100 && server.open.size > 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(server.open.size).toBe(0);
  });
});
