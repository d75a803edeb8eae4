// A generic authority at OboModule (issue 10): where its metadata comes from (#115) and the
// delegation chains of its tokens (#117), through the HTTP guard.
import { actChain, LocalOidcAuthority } from 'nestjs-obo/testing';
import { startApi, type ApiUnderTest } from './support/api-under-test.js';
import { CapturingLogger } from './support/capturing-logger.js';
import { expectRejection, get } from './support/expect-rejection.js';
import { startLoggedApi } from './support/logged-api.js';

describe('#115 generic authority metadata', () => {
  it('an authority that serves only RFC 8414 metadata: the openid-configuration 404 is skipped, its tokens pass', async () => {
    const authority = await LocalOidcAuthority.start({ dialect: 'keycloak', metadata: 'rfc8414-only' });
    const api = await startApi({ issuer: authority.issuer, audience: authority.audience, tokenProfile: 'keycloak', clientId: authority.clientId });
    try {
      expect((await get(`${api.url}/delegated`, authority.mintUserToken())).status).toBe(200);
      expect(authority.requests.openidConfiguration).toBeGreaterThanOrEqual(1);
      expect(authority.requests.authorizationServerMetadata).toBeGreaterThanOrEqual(1);
    } finally {
      await api.close();
      await authority.close();
    }
  });

  it('an issuer that differs from the metadata’s by a trailing slash is never normalised: 503, and the log names both', async () => {
    const authority = await LocalOidcAuthority.start({ dialect: 'auth0' });
    const logger = new CapturingLogger();
    const withoutSlash = authority.issuer.replace(/\/$/, '');
    const api = await startLoggedApi({ issuer: withoutSlash, audience: authority.audience, tokenProfile: 'auth0' }, logger);
    try {
      const res = await get(`${api.url}/delegated`, authority.mintUserToken());
      expectRejection(res, 'H503');
      expect(logger.lines.join('\n')).toContain(`names ${JSON.stringify(authority.issuer)}, not the configured issuer ${JSON.stringify(withoutSlash)}`);
    } finally {
      await api.close();
      await authority.close();
    }
  });

  it('no metadata at any URL: 503 with Retry-After, and the log says which URLs answered 404', async () => {
    const authority = await LocalOidcAuthority.start({ dialect: 'okta' });
    authority.discoveryFault = 'status-404';
    const logger = new CapturingLogger();
    const api = await startLoggedApi({ issuer: authority.issuer, audience: authority.audience, tokenProfile: 'okta' }, logger);
    try {
      expectRejection(await get(`${api.url}/delegated`, authority.mintUserToken()), 'H503');
      expect(logger.lines.join('\n')).toMatch(/no metadata document for the issuer .*\/oauth2\/default: .*openid-configuration and .*answered 404/);
    } finally {
      await api.close();
      await authority.close();
    }
  });
});

describe('#117 delegation chains of incoming tokens', () => {
  let authority: LocalOidcAuthority;
  let api: ApiUnderTest;
  let allowList: ApiUnderTest;

  beforeAll(async () => {
    authority = await LocalOidcAuthority.start({ dialect: 'auth0' });
    const options = { issuer: authority.issuer, audience: authority.audience, tokenProfile: 'auth0' as const };
    api = await startApi(options);
    allowList = await startApi({ ...options, delegation: { allowedActors: ['agent'] } });
  });

  afterAll(async () => {
    await api?.close();
    await allowList?.close();
    await authority?.close();
  });

  it('exposes the chain outermost actor first, up to delegation.maxActors (4); a fifth level is 401', async () => {
    const four = await get(`${api.url}/delegated`, authority.mintUserToken({ act: actChain('agent', 'b', 'c', 'd') }));
    expect(four.status).toBe(200);
    expect((JSON.parse(four.body) as { actors: unknown }).actors).toEqual([{ subject: 'agent' }, { subject: 'b' }, { subject: 'c' }, { subject: 'd' }]);
    expectRejection(await get(`${api.url}/delegated`, authority.mintUserToken({ act: actChain('agent', 'b', 'c', 'd', 'e') })), 'H401');
  });

  it('allowedActors decides on the outermost actor only: nested-only is 403, no act passes', async () => {
    expect((await get(`${allowList.url}/delegated`, authority.mintUserToken({ act: actChain('agent', 'intruder') }))).status).toBe(200);
    const nestedOnly = await get(`${allowList.url}/delegated`, authority.mintUserToken({ act: actChain('intruder', 'agent') }));
    expect(nestedOnly.status).toBe(403);
    expect((await get(`${allowList.url}/delegated`, authority.mintUserToken())).status).toBe(200);
  });

  it('a malformed act claim is 401', async () => {
    expectRejection(await get(`${api.url}/delegated`, authority.mintUserToken({ claims: { act: 'agent' } })), 'H401');
  });
});
