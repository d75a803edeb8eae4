/** Status, code and challenge a rejection must carry, per the catalogue's section 0. */
export type Rejection =
  | 'H0' // 401, bare Bearer challenge, ERR_OBO_TOKEN_MISSING
  | 'H400' // 400 invalid_request
  | 'H401' // 401 invalid_token (ERR_OBO_TOKEN_INVALID)
  | 'H401-expired' // 401 invalid_token (ERR_OBO_TOKEN_EXPIRED)
  | 'H403' // 403 insufficient_scope
  | 'H503'; // 503 with Retry-After, no challenge

interface ResponseLike {
  status: number;
  headers: Record<string, string | string[] | undefined> | Headers;
  body: string;
}

const EXPECTED = {
  H0: { status: 401, code: 'ERR_OBO_TOKEN_MISSING', challenge: /^Bearer$/ },
  H400: { status: 400, code: 'ERR_OBO_INVALID_REQUEST', challenge: /^Bearer error="invalid_request", error_description="[^"]+"$/ },
  H401: { status: 401, code: 'ERR_OBO_TOKEN_INVALID', challenge: /^Bearer error="invalid_token", error_description="The access token is invalid\."$/ },
  'H401-expired': { status: 401, code: 'ERR_OBO_TOKEN_EXPIRED', challenge: /^Bearer error="invalid_token", error_description="The access token has expired\."$/ },
  H403: { status: 403, code: 'ERR_OBO_INSUFFICIENT_SCOPE', challenge: /^Bearer error="insufficient_scope", error_description="[^"]+", scope="[^"]+"$/ },
  H503: { status: 503, code: 'ERR_OBO_SIGNING_KEYS_UNAVAILABLE', challenge: undefined },
} as const;

function header(res: ResponseLike, name: string): string | undefined {
  if (res.headers instanceof Headers) return res.headers.get(name) ?? undefined;
  const value = res.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** What a body or header may never hold: tokens, library or provider text, stack frames. */
export const LEAK_PATTERNS: readonly RegExp[] = [
  /eyJ[A-Za-z0-9_-]{10,}/,
  /jwt (audience|issuer|malformed|expired|signature)/i,
  /invalid (signature|algorithm|token specified)/i,
  /secret or public key/i,
  /signing key/i,
  /Jwks|socket hang up|ECONNREFUSED|AADSTS|Trace ID/i,
  /\bat [\w.<>]+ \(/, // stack frame
  /127\.0\.0\.1|localhost/,
];

/**
 * Asserts status, stable code, exact `WWW-Authenticate` shape, `Cache-Control: no-store` and a
 * body that leaks nothing. Returns the parsed body.
 */
export function expectRejection(res: ResponseLike, kind: Rejection): { statusCode: number; code: string; message: string } {
  const expected = EXPECTED[kind];
  expect({ kind, status: res.status }).toEqual({ kind, status: expected.status });
  const body = JSON.parse(res.body) as { statusCode: number; code: string; message: string };
  expect(body.code).toBe(expected.code);
  expect(Object.keys(body).sort()).toEqual(['code', 'message', 'statusCode']);
  const challenge = header(res, 'www-authenticate');
  if (expected.challenge) expect(challenge).toMatch(expected.challenge);
  else expect(challenge).toBeUndefined();
  if (kind === 'H503') expect(Number(header(res, 'retry-after'))).toBeGreaterThanOrEqual(1);
  expect(header(res, 'cache-control')).toBe('no-store');
  expect(header(res, 'set-cookie')).toBeUndefined();
  for (const pattern of LEAK_PATTERNS) expect(`${res.body} ${challenge ?? ''}`).not.toMatch(pattern);
  return body;
}

/** GETs `url` with an optional bearer token and returns status, headers and body text. */
export async function get(url: string, token?: string, headers: Record<string, string> = {}): Promise<ResponseLike> {
  const res = await fetch(url, { headers: token === undefined ? headers : { ...headers, authorization: `Bearer ${token}` } });
  return { status: res.status, headers: res.headers, body: await res.text() };
}
