import { connect } from 'node:net';

/** A response read off the wire: status, headers (lower-case names, repeated ones joined) and body. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  /** Every header line as received, for checking that a header appears exactly once. */
  headerLines: string[];
  body: string;
  json<T = Record<string, unknown>>(): T;
}

/**
 * Sends bytes exactly as given (duplicate headers, tabs, odd paths) over a fresh TCP connection
 * to 127.0.0.1 and parses the answer. `Connection: close` is added; the body must be small.
 */
export function rawRequest(url: string, method: string, path: string, headerLines: string[] = [], body = ''): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  const lines = [`${method} ${path} HTTP/1.1`, `Host: ${hostname}:${port}`, 'Connection: close', ...headerLines];
  if (body) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  const request = `${lines.join('\r\n')}\r\n\r\n${body}`;
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.setTimeout(10_000, () => socket.destroy(new Error('raw request timed out')));
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => resolve(parse(Buffer.concat(chunks).toString('latin1'))));
    socket.write(request, 'latin1');
  });
}

function parse(text: string): RawResponse {
  const split = text.indexOf('\r\n\r\n');
  const head = text.slice(0, split).split('\r\n');
  let body = text.slice(split + 4);
  const status = Number(head[0]!.split(' ')[1]);
  const headers: Record<string, string> = {};
  const headerLines = head.slice(1);
  for (const line of headerLines) {
    const i = line.indexOf(':');
    const name = line.slice(0, i).trim().toLowerCase();
    const value = line.slice(i + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  if (headers['transfer-encoding'] === 'chunked') body = dechunk(body);
  return { status, headers, headerLines, body, json: () => JSON.parse(body) };
}

function dechunk(body: string): string {
  let out = '';
  let rest = body;
  for (;;) {
    const eol = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, eol), 16);
    if (!size) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}
