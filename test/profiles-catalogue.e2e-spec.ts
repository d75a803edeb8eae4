// The catalogue cases that apply to every authority, run under each token profile (issue 10):
// Entra ID through our local authority, RFC 9068 through oidc-provider (an authority we did not
// write). Each case is the same request and the same expected answer; only the way the token is
// written differs, and that lives in test/support/profile-fixtures.ts.
import { generateKeyPairSync } from 'node:crypto';
import { signCompact } from 'nestjs-obo/testing';
import { startApi, type ApiUnderTest } from './support/api-under-test.js';
import { CapturingLogger } from './support/capturing-logger.js';
import { nowSeconds } from './support/clock.js';
import { expectRejection, get, LEAK_PATTERNS } from './support/expect-rejection.js';
import { startLoggedApi } from './support/logged-api.js';
import { PROFILE_FIXTURES, type ProfileFixture } from './support/profile-fixtures.js';

const segment = (token: string, i: 0 | 1): Record<string, unknown> => JSON.parse(Buffer.from(token.split('.')[i]!, 'base64url').toString()) as Record<string, unknown>;
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

describe.each(PROFILE_FIXTURES)('catalogue cases under the %s profile', (_name, make) => {
  const fixture: ProfileFixture = make();
  let api: ApiUnderTest;
  let delegated: string;

  beforeAll(async () => {
    await fixture.start();
    api = await startApi(fixture.options());
    delegated = `${api.url}/delegated`;
  });

  afterAll(async () => {
    await api?.close();
    await fixture.close();
  });

  it('positive control: a valid user token passes and names its user', async () => {
    const res = await get(delegated, await fixture.userToken({ userId: 'user-1' }));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ objectId: 'user-1', isAppOnly: false, scopes: ['access_as_user'] });
  });

  describe('4.1 transport', () => {
    it('#1 #2 #8: no credentials, another scheme, a token only in the query string: 401 with a bare challenge', async () => {
      const token = await fixture.userToken();
      expectRejection(await get(delegated), 'H0');
      expectRejection(await get(delegated, undefined, { authorization: `Basic ${token}` }), 'H0');
      expectRejection(await get(`${delegated}?access_token=${token}`), 'H0');
    });

    it('#7 several credentials in one header: 400 invalid_request', async () => {
      const token = await fixture.userToken();
      expectRejection(await get(delegated, undefined, { authorization: `Bearer ${token}, Bearer ${token}` }), 'H400');
    });
  });

  describe('4.2 structure and signature', () => {
    it('#18 #22 #23 #24: alg none, a tampered signature, a tampered payload, a stripped signature: 401', async () => {
      const token = await fixture.userToken();
      const [head, body, signature] = token.split('.') as [string, string, string];
      const flipped = `${head}.${body}.${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`;
      const tampered = `${head}.${b64({ ...segment(token, 1), sub: 'admin' })}.${signature}`;
      for (const bad of [`${b64({ ...segment(token, 0), alg: 'none' })}.${body}.`, flipped, tampered, `${head}.${body}.`]) expectRejection(await get(delegated, bad), 'H401');
    });

    it('#19 #25: the right kid signed by another key, or HMAC keyed with anything: 401', async () => {
      const token = await fixture.userToken();
      const header = segment(token, 0);
      const payload = JSON.stringify(segment(token, 1));
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      expectRejection(await get(delegated, signCompact(JSON.stringify(header), payload, 'RS256', privateKey)), 'H401');
      expectRejection(await get(delegated, signCompact(JSON.stringify({ ...header, alg: 'HS256' }), payload, 'HS256', Buffer.from('secret'))), 'H401');
    });

    it('#27 #28: a header typ the profile does not sign access tokens with: 401', async () => {
      expectRejection(await get(delegated, await fixture.userToken({ header: { typ: fixture.foreignTyp } })), 'H401');
    });
  });

  describe('4.3 keys', () => {
    it('#32 an unknown kid: 401, and no answer says which kids exist', async () => {
      const res = await get(delegated, await fixture.userToken({ header: { kid: 'no-such-key' } }));
      expectRejection(res, 'H401');
      expect(res.body).not.toContain('no-such-key');
    });
  });

  describe('4.4 time', () => {
    it('#42 expired: 401 with the expired description', async () => {
      const now = nowSeconds();
      expectRejection(await get(delegated, await fixture.userToken({ claims: { iat: now - 7_200, nbf: now - 7_200, exp: now - 3_600 } })), 'H401-expired');
    });

    it('#44 #46 #47 #48: exp missing, not yet valid, issued in the future, iat ill-typed: 401', async () => {
      const now = nowSeconds();
      for (const claims of [{ exp: undefined }, { nbf: now + 3_600 }, { iat: now + 3_600 }, { iat: String(now) }]) {
        const res = await get(delegated, await fixture.userToken({ claims }));
        expect({ claims, status: res.status }).toEqual({ claims, status: 401 });
      }
    });

    it('#45 an absurd lifetime: 401', async () => {
      const now = nowSeconds();
      expectRejection(await get(delegated, await fixture.userToken({ claims: { iat: now - 60, nbf: now - 60, exp: now + 30 * 86_400 } })), 'H401');
    });
  });

  describe('4.5 issuer and audience', () => {
    it('#49 #50 #51: another audience and look-alikes are 401; an array holding ours passes', async () => {
      const ours = segment(await fixture.userToken(), 1).aud as string;
      for (const aud of ['https://other.example.test', `${ours}/`, ours.toUpperCase(), [`${ours} `]]) {
        const res = await get(delegated, await fixture.userToken({ claims: { aud } }));
        expect({ aud, status: res.status }).toEqual({ aud, status: 401 });
      }
      expect((await get(delegated, await fixture.userToken({ claims: { aud: ['https://other.example.test', ours] } }))).status).toBe(200);
    });

    it('#52 #53: another issuer and look-alikes (trailing slash, case): 401', async () => {
      const iss = segment(await fixture.userToken(), 1).iss as string;
      for (const bad of ['https://evil.example.test/', `${iss}/`, iss.replace('https://', 'HTTPS://'), `${iss} `]) {
        const res = await get(delegated, await fixture.userToken({ claims: { iss: bad } }));
        expect({ bad, status: res.status }).toEqual({ bad, status: 401 });
      }
    });
  });

  describe('4.6 authorization', () => {
    it('#58 #59 #60: scopes compared exactly, as whole names: 403 insufficient_scope naming the scope', async () => {
      for (const scopes of [['Access_As_User'], ['access_as_user2'], ['xaccess_as_user']]) {
        const res = await get(delegated, await fixture.userToken({ scopes }));
        expectRejection(res, 'H403');
        expect((res.headers as Headers).get('www-authenticate')).toContain('scope="access_as_user"');
      }
      expect((await get(delegated, await fixture.userToken({ scopes: ['openid', 'access_as_user'] }))).status).toBe(200);
    });

    it('#62 #64 #65: an app-only token is refused on a delegated route and accepted for its app permission', async () => {
      const app = await fixture.appToken();
      expectRejection(await get(delegated, app), 'H403');
      const res = await get(`${api.url}/app`, app);
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toMatchObject({ isAppOnly: true, scopes: [] });
      expectRejection(await get(`${api.url}/app`, await fixture.userToken()), 'H403');
    });
  });

  describe('4.7 On-Behalf-Of and 4.8 cache isolation', () => {
    it('#71 #81: the Downstream API sees the same user, called by the Original API; the second call is served from the cache', async () => {
      const chain = await fixture.startChain();
      try {
        const token = await chain.userToken('obo-user-1');
        const before = chain.exchanges();
        const first = await get(`${chain.originalUrl}/api/profile`, token);
        expect(first.status).toBe(200);
        const body = JSON.parse(first.body) as { caller: { objectId: string }; downstream: Record<string, unknown> };
        expect(body.caller.objectId).toBe('obo-user-1');
        expect(body.downstream).toMatchObject({ objectId: 'obo-user-1', clientAppId: chain.originalClientId, tokenKind: 'user', scopes: ['Downstream.Read'] });
        expect(chain.exchanges()).toBe(before + 1);
        expect((await get(`${chain.originalUrl}/api/profile`, token)).status).toBe(200);
        expect(chain.exchanges()).toBe(before + 1);
      } finally {
        await chain.close();
      }
    });

    it('#86 twenty users at once: each is seen downstream as themself, one exchange each', async () => {
      const chain = await fixture.startChain();
      try {
        const users = Array.from({ length: 20 }, (_, i) => `load-user-${i}`);
        const tokens = await Promise.all(users.map((u) => chain.userToken(u)));
        const before = chain.exchanges();
        const replies = await Promise.all(tokens.flatMap((t) => [t, t]).map((t) => get(`${chain.originalUrl}/api/profile`, t)));
        replies.forEach((reply, i) => {
          expect(reply.status).toBe(200);
          expect((JSON.parse(reply.body) as { downstream: { objectId: string } }).downstream.objectId).toBe(users[Math.floor(i / 2)]);
        });
        expect(chain.exchanges()).toBe(before + users.length);
      } finally {
        await chain.close();
      }
    });
  });

  describe('4.9 leakage', () => {
    it('#95 #96 #97: no token, claim value or library text in answers or logs', async () => {
      const logger = new CapturingLogger();
      const logged = await startLoggedApi(fixture.options(), logger);
      try {
        const token = await fixture.userToken({ claims: { aud: '<script>alert(1)</script>' } });
        const res = await get(`${logged.url}/delegated`, token);
        expectRejection(res, 'H401');
        for (const pattern of LEAK_PATTERNS) expect(res.body).not.toMatch(pattern);
        for (const text of [res.body, ...logger.lines]) {
          expect(text).not.toContain(token.split('.')[1]!);
          expect(text).not.toContain(token.split('.')[2]!);
          expect(text).not.toContain('<script>');
        }
      } finally {
        await logged.close();
      }
    });
  });
});
