import { LocalAuthority } from 'nestjs-obo/testing';
import { optionsFor } from './support/api-under-test.js';
import { CapturingLogger } from './support/capturing-logger.js';
import { expectRejection, get, LEAK_PATTERNS } from './support/expect-rejection.js';
import { startLoggedApi } from './support/logged-api.js';
import { rawRequest } from './support/raw-request.js';

describe('leakage and error hygiene (#95-#99)', () => {
  let authority: LocalAuthority;
  let url: string;
  let close: () => Promise<void>;
  const logger = new CapturingLogger();
  const presented: string[] = [];

  beforeAll(async () => {
    authority = await LocalAuthority.start();
    ({ url, close } = await startLoggedApi(optionsFor(authority), logger));
  });
  afterAll(async () => {
    await close();
    await authority.close();
  });

  /** Sends the token and remembers it, so the log check knows every token that was seen. */
  function send(path: string, token: string) {
    presented.push(token);
    return get(`${url}${path}`, token);
  }

  it('#98 answers an invalid signature, an unknown kid, a wrong audience and a wrong issuer identically', async () => {
    const forged = authority.mintUserToken({ key: await authority.foreignKey('RS256', authority.activeKey.kid) });
    const unknownKid = authority.mintUserToken({ header: { kid: 'no-such-key' } });
    const wrongAudience = authority.mintUserToken({ audience: 'api://someone-else' });
    const wrongIssuer = authority.mintUserToken({ claims: { iss: 'https://evil.example/v2.0' } });
    const answers = [];
    for (const token of [forged, unknownKid, wrongAudience, wrongIssuer]) {
      const res = await send('/delegated', token);
      expectRejection(res, 'H401');
      answers.push({ status: res.status, challenge: res.headers instanceof Headers ? res.headers.get('www-authenticate') : null, body: res.body });
    }
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
  });

  it.each([
    ['iss', { claims: { iss: 'https://evil"\r\nX-Injected: 1<script>' } }],
    ['kid', { header: { kid: '"\r\nX-Injected: 1<script>' } }],
  ])('#97 reflects nothing of a hostile %s and keeps headers well-formed', async (_claim, mint) => {
    const token = authority.mintUserToken(mint);
    presented.push(token);
    const res = await rawRequest(url, 'GET', '/delegated', [`Authorization: Bearer ${token}`]);
    expect(res.status).toBe(401);
    expect(res.headers['x-injected']).toBeUndefined();
    expect(res.headerLines.filter((l) => /^www-authenticate:/i.test(l))).toEqual([
      'WWW-Authenticate: Bearer error="invalid_token", error_description="The access token is invalid."',
    ]);
    expect(res.body).not.toMatch(/script|evil|X-Injected/);
  });

  it('#97 treats a hostile but correctly signed sub as data: JSON out, no header injected', async () => {
    const token = authority.mintUserToken({ claims: { sub: '"><script>alert(1)</script>\r\nX-Injected: 1' } });
    presented.push(token);
    const res = await rawRequest(url, 'GET', '/delegated', [`Authorization: Bearer ${token}`]);
    expect(res.status).toBe(200);
    expect(res.headers['x-injected']).toBeUndefined();
    expect(res.headers['content-type']).toMatch(/^application\/json/);
  });

  it('#99 sends Cache-Control: no-store and no Set-Cookie on every rejection class', async () => {
    expectRejection(await get(`${url}/delegated`), 'H0');
    expectRejection(await send('/delegated', `${authority.mintUserToken()} junk`.replace(' ', '%20')), 'H400');
    expectRejection(await send('/delegated', authority.mintUserToken({ claims: { scp: 'Other' } })), 'H403');
    expectRejection(await send('/delegated', authority.mintUserToken({ lifetimeSeconds: -3600 })), 'H401-expired');
  });

  it('#95 writes no token to any log line, at the most verbose level, after a full run of good and bad requests', async () => {
    const good = authority.mintUserToken();
    expect((await send('/delegated', good)).status).toBe(200);
    await send('/app', good);
    await send('/delegated', authority.mintUserToken({ claims: { exp: 'soon' } }));
    await send('/delegated', authority.mintAppToken({ claims: { scp: 'x' } }));
    await rawRequest(url, 'GET', `/delegated?access_token=${good}`, [`Authorization: Bearer ${good}`]);
    expect(logger.lines.length).toBeGreaterThan(0); // the logger really captured the app's output
    const logs = logger.lines.join('\n');
    for (const token of presented) {
      for (const part of token.split('.')) expect(logs).not.toContain(part);
    }
    expect(logs).not.toMatch(LEAK_PATTERNS[0]!);
  });
});
