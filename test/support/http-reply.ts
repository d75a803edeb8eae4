import { request as httpRequest } from 'node:http';

/** An HTTP answer read with node:http, keeping repeated headers apart. */
export interface Reply {
  status: number;
  body: string;
  /** Lower-case header name -> every value received, in order (repeated headers stay separate). */
  headers: Map<string, string[]>;
}

/** GET with node:http (optionally with a bearer token) so repeated response headers are seen one by one. */
export function send(url: string, token?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const headers = new Map<string, string[]>();
        for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
          const name = res.rawHeaders[i]!.toLowerCase();
          headers.set(name, [...(headers.get(name) ?? []), res.rawHeaders[i + 1]!]);
        }
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers });
      });
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error('request to the API under test timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** The value of header `name` (lower case), asserting it was sent at most once; undefined when absent. */
export function one(reply: Reply, name: string): string | undefined {
  const values = reply.headers.get(name);
  if (values === undefined) return undefined;
  expect({ header: name, count: values.length }).toEqual({ header: name, count: 1 });
  return values[0];
}
