// Security catalogue section 4.1 (cases #1 to #14): how the bearer token travels and is extracted.
// Real HTTP on 127.0.0.1 against the local authority; raw TCP where exact bytes matter.
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { LocalAuthority } from 'nestjs-obo/testing';
import { ADAPTERS, optionsFor, startApi, type ApiUnderTest } from './support/api-under-test.js';
import { CapturingLogger } from './support/capturing-logger.js';
import { expectRejection, get, LEAK_PATTERNS } from './support/expect-rejection.js';
import { jwtPayload } from './support/jwt-payload.js';
import { startLoggedApi } from './support/logged-api.js';
import { rawRequest, type RawResponse } from './support/raw-request.js';

const STACK_FRAME = /\bat [\w.<>]+ \(|\.ts:\d+:\d+|node:internal/;

/** The `oid` a minted token carries, to check which identity a 200 answered for. */
function oidOf(token: string): string {
  return jwtPayload(token).oid as string;
}

/** Sends a request with any fetch options and returns status, headers and body text. */
async function send(url: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; body: string }> {
  const res = await fetch(url, init);
  return { status: res.status, headers: res.headers, body: await res.text() };
}

/** A response Node itself wrote (no JSON body from the app): an error status with nothing in it. */
function expectNoCrashOrLeak(res: { status: number; body: string; headers: Record<string, string> }): void {
  expect(res.status).not.toBe(200);
  expect(res.status).toBeLessThan(500);
  expect(res.body).not.toMatch(STACK_FRAME);
  for (const pattern of LEAK_PATTERNS) expect(`${res.body} ${res.headers['www-authenticate'] ?? ''}`).not.toMatch(pattern);
}

/**
 * Sends one request with a huge header over raw TCP and returns the status line's code. Node may
 * answer and close before it has read everything we wrote, so write errors after an answer are fine.
 */
function sendOversizedHeader(url: string, headerLine: string): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(url);
  const request = `GET /delegated HTTP/1.1\r\nHost: ${hostname}:${port}\r\nConnection: close\r\n${headerLine}\r\n\r\n`;
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    const finish = (): void => {
      const text = Buffer.concat(chunks).toString('latin1');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? NaN);
      if (Number.isNaN(status)) reject(new Error(`no HTTP answer: ${JSON.stringify(text.slice(0, 200))}`));
      else resolve({ status, text });
    };
    socket.setTimeout(10_000, () => socket.destroy(new Error('oversized request timed out')));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (error) => (chunks.length > 0 ? finish() : reject(error)));
    socket.on('close', () => finish());
    socket.write(request, 'latin1');
  });
}

describe.each(ADAPTERS)('4.1 transport and extraction on %s', (adapter) => {
  let authority: LocalAuthority;
  let api: ApiUnderTest;
  let valid: string;
  let other: string;

  beforeAll(async () => {
    authority = await LocalAuthority.start();
    api = await startApi(optionsFor(authority), {}, adapter);
    valid = authority.mintUserToken();
    other = authority.mintUserToken();
    // Warm the key cache once so every case below exercises extraction, not the first fetch.
    expect((await get(`${api.url}/delegated`, valid)).status).toBe(200);
  });

  afterAll(async () => {
    await api?.close();
    await authority?.close();
  });

  describe('#1 no Authorization header', () => {
    it.each(['/delegated', '/authenticated', '/app', '/admin/default'])('answers 401 with a bare Bearer challenge on %s', async (path) => {
      expectRejection(await get(`${api.url}${path}`), 'H0');
    });

    it('answers 401 with a bare Bearer challenge when the Authorization header is present but empty', async () => {
      expectRejection(await rawRequest(api.url, 'GET', '/delegated', ['Authorization: ']), 'H0');
    });
  });

  describe('#2 a scheme other than Bearer', () => {
    it.each([
      ['Basic credentials', () => 'Basic dXNlcjpwYXNz'],
      ['Digest credentials', () => 'Digest username="u", realm="api", nonce="n", uri="/delegated", response="r"'],
      ['a valid token under the Token scheme', () => `Token ${valid}`],
      ['a valid token under the DPoP scheme', () => `DPoP ${valid}`],
      ['a valid token glued to the scheme (Bearer<token>)', () => `Bearer${valid}`],
      ['a valid token without any scheme', () => valid],
    ])('answers 401 with a bare Bearer challenge for %s', async (_name, value) => {
      expectRejection(await rawRequest(api.url, 'GET', '/delegated', [`Authorization: ${value()}`]), 'H0');
    });
  });

  describe('#3 Bearer with an empty token', () => {
    it.each([
      ['"Bearer"', 'Authorization: Bearer'],
      ['"Bearer " (one trailing space)', 'Authorization: Bearer '],
      ['"Bearer" followed by spaces only', 'Authorization: Bearer     '],
      ['lower-case "bearer" alone', 'Authorization: bearer'],
    ])('answers 401 with a bare Bearer challenge for %s', async (_name, line) => {
      expectRejection(await rawRequest(api.url, 'GET', '/delegated', [line]), 'H0');
    });

    it('does not fetch discovery or signing keys for an empty Bearer', async () => {
      const before = { ...authority.requests };
      expectRejection(await rawRequest(api.url, 'GET', '/delegated', ['Authorization: Bearer ']), 'H0');
      expect(authority.requests).toEqual(before);
    });
  });

  describe('#4 the scheme is case-insensitive (positive control)', () => {
    it.each([
      ['authorization: bearer <token>', (t: string) => `authorization: bearer ${t}`],
      ['Authorization: BEARER <token>', (t: string) => `Authorization: BEARER ${t}`],
      ['AUTHORIZATION: bEaReR <token>', (t: string) => `AUTHORIZATION: bEaReR ${t}`],
    ])('answers 200 with the token owner for %s', async (_name, line) => {
      const res = await rawRequest(api.url, 'GET', '/delegated', [line(valid)]);
      expect(res.status).toBe(200);
      expect(res.json<{ objectId: string }>().objectId).toBe(oidOf(valid));
    });

    it('answers 200 through fetch with a lower-case scheme', async () => {
      const res = await send(`${api.url}/delegated`, { headers: { authorization: `bearer ${valid}` } });
      expect(res.status).toBe(200);
      expect((JSON.parse(res.body) as { objectId: string }).objectId).toBe(oidOf(valid));
    });
  });

  describe('#5 credentials that are not "Bearer" 1SP b64token', () => {
    it.each([
      ['junk after the token', (t: string) => `Bearer ${t} junk`],
      ['a second word after the token', (t: string) => `Bearer ${t} ${t}`],
      ['a tab between scheme and token', (t: string) => `Bearer\t${t}`],
      ['two spaces between scheme and token', (t: string) => `Bearer  ${t}`],
      ['a tab inside the token', (t: string) => `Bearer ${t.slice(0, 20)}\t${t.slice(20)}`],
      ['a space inside the token', (t: string) => `Bearer ${t.slice(0, 20)} ${t.slice(20)}`],
      ['a quoted token', (t: string) => `Bearer "${t}"`],
      ['an auth-param instead of a token', (t: string) => `Bearer access_token="${t}"`],
    ])('answers 400 invalid_request for %s', async (_name, value) => {
      expectRejection(await rawRequest(api.url, 'GET', '/delegated', [`Authorization: ${value(valid)}`]), 'H400');
    });
  });

  describe('#6 two Authorization headers', () => {
    it.each([
      ['valid user first, other user second', () => [`Authorization: Bearer ${valid}`, `Authorization: Bearer ${other}`]],
      ['other user first, valid user second', () => [`Authorization: Bearer ${other}`, `Authorization: Bearer ${valid}`]],
      ['the same token twice', () => [`Authorization: Bearer ${valid}`, `Authorization: Bearer ${valid}`]],
      ['Basic first, valid Bearer second', () => ['Authorization: Basic dXNlcjpwYXNz', `Authorization: Bearer ${valid}`]],
      ['valid Bearer first, Basic second', () => [`Authorization: Bearer ${valid}`, 'Authorization: Basic dXNlcjpwYXNz']],
      ['differently cased header names', () => [`authorization: Bearer ${valid}`, `AUTHORIZATION: Bearer ${other}`]],
    ])('answers 400 invalid_request with %s', async (_name, lines) => {
      expectRejection(await rawRequest(api.url, 'GET', '/delegated', lines()), 'H400');
    });

    it('answers 400 invalid_request when the second header is empty', async () => {
      const lines = [`Authorization: Bearer ${valid}`, 'Authorization: '];
      const res = await rawRequest(api.url, 'GET', '/delegated', lines);
      expect(res.status).not.toBe(200);
      expectRejection(res, 'H400');
    });
  });

  describe('#7 several credentials in one header', () => {
    it.each([
      ['two Bearer credentials separated by a comma', (a: string, b: string) => `Bearer ${a}, Bearer ${b}`],
      ['two tokens separated by a comma', (a: string, b: string) => `Bearer ${a},${b}`],
      ['Bearer then Basic in one list', (a: string) => `Bearer ${a}, Basic dXNlcjpwYXNz`],
    ])('answers 400 invalid_request for %s', async (_name, value) => {
      expectRejection(await rawRequest(api.url, 'GET', '/delegated', [`Authorization: ${value(valid, other)}`]), 'H400');
    });
  });

  describe('#8 #9 #10 other transports, with the token kept out of the logs', () => {
    const logger = new CapturingLogger();
    let logged: ApiUnderTest;

    beforeAll(async () => {
      logged = await startLoggedApi(optionsFor(authority), logger, adapter);
      expect(logger.lines.length).toBeGreaterThan(0); // the capture sees Nest's own start-up lines
      expect((await get(`${logged.url}/delegated`, valid)).status).toBe(200);
    });

    afterAll(async () => {
      await logged?.close();
    });

    afterEach(() => {
      // Neither the token nor the URL carrying it may reach any log line.
      for (const line of logger.lines) {
        expect(line).not.toContain(valid);
        expect(line).not.toContain(valid.split('.')[2]!);
        expect(line).not.toMatch(/access_token=/);
      }
    });

    it('#8 answers 401 with a bare Bearer challenge when the token is only in the query string', async () => {
      expectRejection(await get(`${logged.url}/delegated?access_token=${valid}`), 'H0');
    });

    it('#8 answers 401 with a bare Bearer challenge when the token is only in the query string of a POST', async () => {
      expectRejection(await send(`${logged.url}/delegated?access_token=${valid}`, { method: 'POST' }), 'H0');
    });

    it('#9 answers 400 invalid_request for a header token plus ?access_token=', async () => {
      expectRejection(await get(`${logged.url}/delegated?access_token=${valid}`, valid), 'H400');
    });

    it('#9 answers 400 invalid_request for a header token plus ?access_token= carrying another user', async () => {
      expectRejection(await get(`${logged.url}/delegated?x=1&access_token=${other}`, valid), 'H400');
    });

    it.each([
      ['application/x-www-form-urlencoded', () => `access_token=${encodeURIComponent(valid)}`],
      ['application/json', () => JSON.stringify({ access_token: valid })],
      ['application/x-www-form-urlencoded with another user in the body', () => `a=1&access_token=${encodeURIComponent(other)}`],
    ])('#9 answers 400 invalid_request for a header token plus access_token in a %s body on POST', async (type, body) => {
      const contentType = type.split(' ')[0]!;
      const res = await send(`${logged.url}/delegated`, {
        method: 'POST',
        headers: { authorization: `Bearer ${valid}`, 'content-type': contentType },
        body: body(),
      });
      expectRejection(res, 'H400');
    });

    it('#9 answers 201 for a header token with a POST body that has no access_token (positive control)', async () => {
      const res = await send(`${logged.url}/delegated`, {
        method: 'POST',
        headers: { authorization: `Bearer ${valid}`, 'content-type': 'application/json' },
        body: JSON.stringify({ note: 'hello' }),
      });
      expect(res.status).toBe(201);
      expect((JSON.parse(res.body) as { objectId: string }).objectId).toBe(oidOf(valid));
    });

    it.each([
      ['Cookie: access_token=<token>', (t: string) => `Cookie: access_token=${t}`],
      ['Cookie: Authorization=Bearer%20<token>', (t: string) => `Cookie: Authorization=Bearer%20${t}`],
      ['Cookie: id_token=<token>; access_token=<token>', (t: string) => `Cookie: id_token=${t}; access_token=${t}`],
    ])('#10 answers 401 with a bare Bearer challenge when the token is only in a cookie (%s)', async (_name, line) => {
      expectRejection(await rawRequest(logged.url, 'GET', '/delegated', [line(valid)]), 'H0');
    });

    it.each([
      ['application/x-www-form-urlencoded', () => `access_token=${encodeURIComponent(valid)}`],
      ['application/json', () => JSON.stringify({ access_token: valid })],
    ])('#10 answers 401 with a bare Bearer challenge when the token is only in a %s body', async (contentType, body) => {
      const res = await send(`${logged.url}/delegated`, { method: 'POST', headers: { 'content-type': contentType }, body: body() });
      expectRejection(res, 'H0');
    });
  });

  describe('#11 a 100 KB Authorization header', () => {
    it('is answered 431 by Node without a stack trace, and the app keeps serving', async () => {
      const res = await sendOversizedHeader(api.url, `Authorization: Bearer ${'A'.repeat(100 * 1024)}`);
      expect(res.status).toBe(431);
      expect(res.text).not.toMatch(STACK_FRAME);
      expect(res.text).not.toContain('AAAAAAAAAAAAAAAA');
      const after = await get(`${api.url}/delegated`, valid);
      expect(after.status).toBe(200);
      expect((JSON.parse(after.body) as { objectId: string }).objectId).toBe(oidOf(valid));
    });

    it('answers 431 for a 100 KB header carrying a real token padded with junk, then still serves', async () => {
      const res = await sendOversizedHeader(api.url, `Authorization: Bearer ${valid}${'.x'.repeat(50 * 1024)}`);
      expect(res.status).toBe(431);
      expect(res.text).not.toMatch(STACK_FRAME);
      expect((await get(`${api.url}/authenticated`, valid)).status).toBe(200);
    });
  });

  // The default cap (16384, #110) lets through every token Node's 16 KiB header limit delivers; the
  // cap is pinned at the old 12288 here so 15 KB tokens still reach the app and meet it.
  describe('#12 15 KB tokens over maxTokenLength (12288) are refused before any decoding or key fetch', () => {
    let fresh: LocalAuthority;
    let freshApi: ApiUnderTest;

    beforeAll(async () => {
      fresh = await LocalAuthority.start();
      freshApi = await startApi(optionsFor(fresh, { maxTokenLength: 12_288 }), {}, adapter);
    });

    afterAll(async () => {
      await freshApi?.close();
      await fresh?.close();
    });

    const size = 15 * 1024;
    /** A correctly signed token grown to about 15 KB with a filler claim. */
    const bigToken = (): string => fresh.mintUserToken({ claims: { pad: 'p'.repeat(10_600) } });
    it.each([
      ['garbage base64url characters', () => randomBytes(size).toString('base64url').slice(0, size)],
      ['garbage in three segments', () => `${randomBytes(5000).toString('base64url')}.${randomBytes(5000).toString('base64url')}.${randomBytes(1500).toString('base64url')}`],
      [
        'a validly shaped header and payload with a random signature',
        () => {
          const [header, payload] = bigToken().split('.');
          return `${header}.${payload}.${randomBytes(256).toString('base64url')}`;
        },
      ],
      ['a correctly signed token of about 15 KB', bigToken],
    ])('answers 401 invalid_token for %s, with no discovery or JWKS request', async (_name, make) => {
      const token = make();
      expect(token.length).toBeGreaterThan(12_288);
      expect(token.length).toBeLessThanOrEqual(size + 512);
      const before = { ...fresh.requests };
      expectRejection(await get(`${freshApi.url}/delegated`, token), 'H401');
      expect(fresh.requests.discovery).toBe(before.discovery);
      expect(fresh.requests.jwks).toBe(before.jwks);
      expect(fresh.requests).toEqual({ ...before });
    });

    it('still validates a normal token afterwards, which proves the counters see key fetches', async () => {
      const token = fresh.mintUserToken();
      const res = await get(`${freshApi.url}/delegated`, token);
      expect(res.status).toBe(200);
      expect(fresh.requests.jwks).toBe(1); // the one load at startup (#106), counted
    });
  });

  describe('#13 control and non-ASCII bytes in the Authorization value', () => {
    /**
     * The HTTP layer's own 400, or our H400/H401; never 200, never 500, never a stack trace. Node's
     * parser refuses control bytes in a header value before any framework runs; Express then lets
     * Node write a bare 400, while Fastify's `clientErrorHandler` writes its fixed JSON body (no
     * request object exists yet, so neither Nest nor the guard can shape it).
     */
    function expectRefused(res: RawResponse): void {
      expectNoCrashOrLeak(res);
      if (res.headers['content-type']?.includes('application/json') && !isFastifyClientError(res)) {
        expect([400, 401]).toContain(res.status);
        expectRejection(res, res.status === 400 ? 'H400' : 'H401');
      } else {
        expect(res.status).toBe(400); // written before Nest runs
      }
    }

    function isFastifyClientError(res: RawResponse): boolean {
      return adapter === 'fastify' && res.body === '{"error":"Bad Request","message":"Client Error","statusCode":400}';
    }

    // rawRequest writes latin1, so each char below is one byte on the wire.
    it.each([
      ['a latin1 é (0xE9) after the token', (t: string) => `Bearer ${t}\u00e9`],
      ['UTF-8 bytes of é (0xC3 0xA9) after the token', (t: string) => `Bearer ${t}\u00c3\u00a9`],
      ['a non-ASCII byte in the middle of the token', (t: string) => `Bearer ${t.slice(0, 30)}\u00ff${t.slice(30)}`],
      ['a NUL byte after the token', (t: string) => `Bearer ${t}\u0000`],
      ['a NUL byte inside the token', (t: string) => `Bearer ${t.slice(0, 30)}\u0000${t.slice(30)}`],
      ['a vertical tab after the scheme', (t: string) => `Bearer\u000b${t}`],
      ['a DEL byte after the token', (t: string) => `Bearer ${t}\u007f`],
      ['an escape byte inside the token', (t: string) => `Bearer ${t.slice(0, 30)}\u001b${t.slice(30)}`],
      ['a bare carriage return after the token', (t: string) => `Bearer ${t}\rX-Injected: 1`],
      ['a form feed before the token', (t: string) => `Bearer \u000c${t}`],
    ])('refuses %s without 200, 500 or a stack trace', async (_name, value) => {
      const res = await rawRequest(api.url, 'GET', '/delegated', [`Authorization: ${value(valid)}`]);
      expectRefused(res);
    });

    it('still answers a valid request afterwards', async () => {
      expect((await get(`${api.url}/delegated`, valid)).status).toBe(200);
    });
  });

  describe('#14 other methods and path spellings', () => {
    let forged: string;
    beforeAll(async () => {
      forged = authority.mintUserToken({ key: await authority.foreignKey('RS256', authority.activeKey.kid) });
    });

    const variants = ['/delegated/', '/DELEGATED', '/Delegated', '/./delegated', '/delegated/.', '//delegated', '/delegated%2f', '/delegated%2F', '/%64elegated', '/delegated;x', '/delegated?x=1'];

    it('answers 200 with no body to an authenticated HEAD /delegated', async () => {
      const res = await send(`${api.url}/delegated`, { method: 'HEAD', headers: { authorization: `Bearer ${valid}` } });
      expect(res.status).toBe(200);
      expect(res.body).toBe('');
    });

    it('answers 401 with a bare Bearer challenge to an unauthenticated HEAD /delegated', async () => {
      const res = await send(`${api.url}/delegated`, { method: 'HEAD' });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.body).toBe('');
    });

    it('answers 401 invalid_token to a HEAD /delegated with a forged token', async () => {
      const res = await send(`${api.url}/delegated`, { method: 'HEAD', headers: { authorization: `Bearer ${forged}` } });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
    });

    it('returns no data to an unauthenticated OPTIONS /delegated', async () => {
      const res = await rawRequest(api.url, 'OPTIONS', '/delegated', []);
      expect([401, 404]).toContain(res.status);
      expect(res.body).not.toMatch(/objectId|tenantId/);
      if (res.status === 401) expectRejection(res, 'H0');
    });

    it('answers an authenticated OPTIONS /delegated like GET /delegated, or 404', async () => {
      const res = await rawRequest(api.url, 'OPTIONS', '/delegated', [`Authorization: Bearer ${valid}`]);
      expect([200, 404]).toContain(res.status);
      expect(res.body).not.toMatch(STACK_FRAME);
      if (res.status === 200) expect(res.json<{ objectId: string }>().objectId).toBe(oidOf(valid));
    });

    it.each(variants)('returns no data to an unauthenticated GET %s (401 or 404)', async (path) => {
      const res = await rawRequest(api.url, 'GET', path, []);
      expect([401, 404]).toContain(res.status);
      expect(res.body).not.toMatch(/objectId|tenantId/);
      expect(res.body).not.toMatch(STACK_FRAME);
      if (res.status === 401) expectRejection(res, 'H0');
    });

    it.each(variants)('returns no data to GET %s with a forged token (401 or 404)', async (path) => {
      const res = await rawRequest(api.url, 'GET', path, [`Authorization: Bearer ${forged}`]);
      expect([401, 404]).toContain(res.status);
      expect(res.body).not.toMatch(/objectId|tenantId/);
      if (res.status === 401) expectRejection(res, 'H401');
    });

    it.each(variants)('answers GET %s with a valid token like GET /delegated (200 for the owner) or 404', async (path) => {
      const res = await rawRequest(api.url, 'GET', path, [`Authorization: Bearer ${valid}`]);
      expect([200, 404]).toContain(res.status);
      if (res.status === 200) expect(res.json<{ objectId: string }>().objectId).toBe(oidOf(valid));
    });

    it.each(variants)('answers GET %s with a token lacking the scope with 403 or 404', async (path) => {
      const token = authority.mintUserToken({ claims: { scp: 'other_scope' } });
      const res = await rawRequest(api.url, 'GET', path, [`Authorization: Bearer ${token}`]);
      expect([403, 404]).toContain(res.status);
      expect(res.body).not.toMatch(/objectId|tenantId/);
      if (res.status === 403) expectRejection(res, 'H403');
    });

    it.each(['HEAD', 'OPTIONS', 'GET'])('returns no data to an unauthenticated %s on /DELEGATED/', async (method) => {
      const res = await rawRequest(api.url, method, '/DELEGATED/', []);
      expect([401, 404]).toContain(res.status);
      expect(res.body).not.toMatch(/objectId|tenantId/);
    });
  });
});
