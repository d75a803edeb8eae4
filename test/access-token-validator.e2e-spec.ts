// The AccessTokenValidator on its own (issue 10, "Shape of the code"): what a GraphQL resolver, a
// WebSocket gateway or a microservice handler calls with a token string. Its verdicts must be the
// HTTP guard's verdicts, token for token, including the RFC 6750 headers.
import { AccessTokenValidator, OboHttpException, type Principal } from 'nestjs-obo';
import { LocalAuthority } from 'nestjs-obo/testing';
import { optionsFor, startApi, type ApiUnderTest } from './support/api-under-test.js';
import { get } from './support/expect-rejection.js';
import { nowSeconds } from './support/clock.js';

describe('AccessTokenValidator.validate(token)', () => {
  let authority: LocalAuthority;
  let api: ApiUnderTest;
  let validator: AccessTokenValidator;

  beforeAll(async () => {
    authority = await LocalAuthority.start();
    api = await startApi(optionsFor(authority, { allowedClientApplications: undefined }));
    validator = api.app.get(AccessTokenValidator);
  });

  afterAll(async () => {
    await api?.close();
    await authority?.close();
  });

  async function verdict(token: string): Promise<{ status: number; challenge?: string; principal?: Principal }> {
    try {
      const principal = await validator.validate(token);
      return { status: 200, principal };
    } catch (error) {
      expect(error).toBeInstanceOf(OboHttpException);
      const rejection = error as OboHttpException;
      return { status: rejection.getStatus(), challenge: rejection.headers['WWW-Authenticate'] };
    }
  }

  it('returns the principal of a valid token, and the same principal again from the validated-token cache', async () => {
    const token = authority.mintUserToken();
    const first = await verdict(token);
    expect(first.status).toBe(200);
    expect(first.principal!.objectId).toBe((JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { oid: string }).oid);
    expect(first.principal!.assertion).toBe(token);
    expect((await verdict(token)).principal).toBe(first.principal);
  });

  it('agrees with the HTTP guard on every token, with the same WWW-Authenticate challenge', async () => {
    const foreign = await authority.foreignKey();
    const valid = authority.mintUserToken();
    const [head, body, signature] = valid.split('.') as [string, string, string];
    const tokens: Record<string, string> = {
      valid,
      'signature of another key': authority.mintUserToken({ key: foreign }),
      'signature flipped': `${head}.${body}.${signature.slice(0, -2)}${signature.endsWith('A') ? 'B' : 'A'}A`.slice(0, valid.length),
      expired: authority.mintUserToken({ claims: { exp: nowSeconds() - 3_600, iat: nowSeconds() - 7_200, nbf: nowSeconds() - 7_200 } }),
      'wrong audience': authority.mintUserToken({ audience: 'api://someone-else' }),
      'typ at+jwt on Entra': authority.mintUserToken({ header: { typ: 'at+jwt' } }),
      'alg none': `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${body}.`,
      'not a JWT': 'abc.def',
      'too long': 'a'.repeat(20_000),
    };
    for (const [name, token] of Object.entries(tokens)) {
      const http = await get(`${api.url}/delegated`, token);
      const direct = await verdict(token);
      // The guard answers 400 invalid_request for what is not token68 text; neither passes.
      expect({ name, status: direct.status === 200 ? 200 : 401 }).toEqual({ name, status: http.status === 200 ? 200 : 401 });
      if (http.status === 401) expect({ name, challenge: direct.challenge }).toEqual({ name, challenge: (http.headers as Headers).get('www-authenticate') ?? undefined });
    }
  });

  it('answers an expired token with the expired description, and never echoes the token', async () => {
    const token = authority.mintUserToken({ claims: { exp: nowSeconds() - 3_600, iat: nowSeconds() - 7_200, nbf: nowSeconds() - 7_200 } });
    const { status, challenge } = await verdict(token);
    expect(status).toBe(401);
    expect(challenge).toMatch(/error="invalid_token", error_description="The access token has expired\."/);
    expect(challenge).not.toContain(token.slice(0, 20));
  });
});
