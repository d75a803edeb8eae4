import type { Reply } from './http-reply.js';

/** The error body every outbound failure carries, and nothing else. */
export interface ErrorBody {
  statusCode: number;
  code: string;
  message: string;
}

/** The `claims` parameter of a claims challenge: base64 of JSON, so it starts with "eyJ". */
const CLAIMS_PARAM = /,?\s*claims="[^"]*"/;

/** Provider text, ids and tokens that no error response may carry. */
const PROVIDER_TEXT: readonly RegExp[] = [/AADSTS/i, /trace_id/i, /Trace ID/i, /correlation/i, /eyJ/];

/**
 * Asserts an error response of the On-Behalf-Of path: status, `Cache-Control: no-store`, no
 * cookie, a body of exactly `{statusCode, code, message}`, and nothing from the provider or the
 * downstream API (`PROVIDER_TEXT` and `forbidden`), no `secret`, no host name. The claims
 * challenge's own `claims` value is removed before the token check (callers verify it), and host
 * names may appear only in the challenge's authorization_uri. Returns the parsed body.
 */
export function expectCleanError(reply: Reply, status: number, code: string, secret: string, forbidden: readonly RegExp[] = []): ErrorBody {
  expect({ status: reply.status, body: reply.body }).toEqual({ status, body: expect.any(String) });
  const body = JSON.parse(reply.body) as ErrorBody;
  expect(Object.keys(body).sort()).toEqual(['code', 'message', 'statusCode']);
  expect(body).toEqual({ statusCode: status, code, message: expect.any(String) });
  expect(reply.headers.get('cache-control')).toEqual(['no-store']);
  expect(reply.headers.has('set-cookie')).toBe(false);
  const headerText = [...reply.headers.entries()]
    .map(([name, values]) => `${name}: ${values.map((v) => (name === 'www-authenticate' ? v.replace(CLAIMS_PARAM, '') : v)).join(' | ')}`)
    .join('\n');
  const everything = `${reply.body}\n${headerText}`;
  for (const pattern of [...PROVIDER_TEXT, ...forbidden]) expect(everything).not.toMatch(pattern);
  expect(everything).not.toContain(secret);
  const withoutChallenge = `${reply.body}\n${headerText.replace(/^www-authenticate: .*$/m, '')}`;
  expect(withoutChallenge).not.toMatch(/127\.0\.0\.1|localhost|login\.microsoftonline/);
  return body;
}
