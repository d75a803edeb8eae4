import { extractBearerToken, type BearerSource } from './extract-bearer-token.js';

const token = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';

function source(authorization: string | string[] | undefined, url = '/x', body?: unknown): BearerSource {
  const all = authorization === undefined ? undefined : ([] as string[]).concat(authorization);
  return { headers: { authorization: all?.[0] }, headersDistinct: all ? { authorization: all } : {}, url, body };
}

describe('extractBearerToken', () => {
  it.each(['Bearer', 'bearer', 'BEARER', 'BeArEr'])('reads the token whatever the case of the scheme (%s)', (scheme) => {
    expect(extractBearerToken(source(`${scheme} ${token}`), 12288)).toEqual({ kind: 'token', token });
  });

  it.each([undefined, '', 'Bearer', 'Bearer   ', 'Basic dXNlcjpwYXNz', 'Digest x', 'Token abc'])('treats %j as no credentials', (value) => {
    expect(extractBearerToken(source(value), 12288).kind).toBe('missing');
  });

  it.each([`Bearer ${token} junk`, `Bearer\t${token}`, `Bearer  ${token}`, `Bearer ${token}, Bearer ${token}`, `Bearer ${token}\u00e9`, 'Bearer a"b'])(
    'calls %j malformed',
    (value) => {
      expect(extractBearerToken(source(value), 12288).kind).toBe('malformed');
    },
  );

  it('calls two Authorization headers malformed, even when both are valid', () => {
    expect(extractBearerToken(source([`Bearer ${token}`, `Bearer ${token}`]), 12288).kind).toBe('malformed');
  });

  it('counts Authorization lines on the Node request in `raw` when the framework request has no lists (Fastify)', () => {
    // Node keeps only the first of two Authorization lines in `headers`; `raw.rawHeaders` has both.
    const fastify = (lines: string[]): BearerSource => ({
      headers: { authorization: lines[0] },
      url: '/x',
      raw: { rawHeaders: lines.flatMap((line, i) => [i % 2 ? 'authorization' : 'Authorization', line]) },
    });
    expect(extractBearerToken(fastify([`Bearer ${token}`, `Bearer ${token}`]), 12288).kind).toBe('malformed');
    expect(extractBearerToken(fastify([`Bearer ${token}`]), 12288)).toEqual({ kind: 'token', token });
    const distinct: BearerSource = { headers: { authorization: `Bearer ${token}` }, url: '/x', raw: { headersDistinct: { authorization: [`Bearer ${token}`, 'Basic x'] } } };
    expect(extractBearerToken(distinct, 12288).kind).toBe('malformed');
  });

  it('calls a request malformed when no header list can show that it carried one Authorization line', () => {
    expect(extractBearerToken({ headers: { authorization: `Bearer ${token}` }, url: '/x' }, 12288).kind).toBe('malformed');
  });

  it('calls a header plus an access_token query parameter or body field malformed (two transports)', () => {
    expect(extractBearerToken(source(`Bearer ${token}`, `/x?a=1&access_token=${token}`), 12288).kind).toBe('malformed');
    expect(extractBearerToken(source(`Bearer ${token}`, '/x', { access_token: token }), 12288).kind).toBe('malformed');
  });

  it('never reads a token from the query string or body alone', () => {
    expect(extractBearerToken(source(undefined, `/x?access_token=${token}`, { access_token: token }), 12288).kind).toBe('missing');
  });

  it('refuses a token longer than the cap before looking at its content', () => {
    expect(extractBearerToken(source(`Bearer ${'a'.repeat(301)}`), 300)).toEqual({ kind: 'too-long', length: 301 });
    expect(extractBearerToken(source(`Bearer ${'a'.repeat(300)}`), 300).kind).toBe('token');
  });
});
