import { LEAK_PATTERNS } from './expect-rejection.js';
import type { GraphQLReply } from './graphql-api.js';

/** What a refused GraphQL field must carry: the HTTP status and challenge, and the error's codes. */
export interface GraphQLRejection {
  status: number;
  code: string;
  oboCode: string;
  /** The `WWW-Authenticate` value; `undefined` when none may be sent. */
  challenge: RegExp | undefined;
}

export const MISSING: GraphQLRejection = { status: 401, code: 'UNAUTHENTICATED', oboCode: 'ERR_OBO_TOKEN_MISSING', challenge: /^Bearer$/ };
export const INVALID: GraphQLRejection = {
  status: 401,
  code: 'UNAUTHENTICATED',
  oboCode: 'ERR_OBO_TOKEN_INVALID',
  challenge: /^Bearer error="invalid_token", error_description="The access token is invalid\."$/,
};
/** 403 naming exactly the `scope` the field accepts. */
export function insufficientScope(scope: string): GraphQLRejection {
  return { status: 403, code: 'FORBIDDEN', oboCode: 'ERR_OBO_INSUFFICIENT_SCOPE', challenge: new RegExp(`^Bearer error="insufficient_scope", error_description="[^"]+", scope="${scope}"$`) };
}

/**
 * Asserts the HTTP status, the `WWW-Authenticate` and `Cache-Control: no-store` headers, one GraphQL
 * error for `field` with exactly `code` and `oboCode` in its extensions (Apollo took `http` out),
 * no data for the field, and nothing leaked in the body or the header.
 */
export function expectGraphQLRejection(reply: GraphQLReply, field: string, expected: GraphQLRejection): void {
  const challenge = reply.headers.get('www-authenticate') ?? undefined;
  expect({ status: reply.status, challenge }).toEqual({ status: expected.status, challenge: expected.challenge ? expect.stringMatching(expected.challenge) : undefined });
  expect(reply.headers.get('cache-control')).toBe('no-store');
  expect(reply.body.errors).toHaveLength(1);
  const [error] = reply.body.errors!;
  expect(error!.path).toEqual([field]);
  expect(error!.extensions).toEqual({ code: expected.code, oboCode: expected.oboCode });
  expect(reply.body.data?.[field] ?? null).toBeNull();
  for (const pattern of LEAK_PATTERNS) expect(`${reply.text} ${challenge ?? ''}`).not.toMatch(pattern);
}
