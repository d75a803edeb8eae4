import { setTimeout as sleep } from 'node:timers/promises';
import { LocalAuthority } from 'nestjs-obo/testing';
import { ValidatedTokenCache } from '../libs/obo/src/inbound/jwt/validated-token.cache.js';
import { optionsFor, startApi, type ApiUnderTest } from './support/api-under-test.js';
import { expectRejection, get } from './support/expect-rejection.js';

describe('validated token cache (a repeated token skips the signature check)', () => {
  let authority: LocalAuthority;
  let api: ApiUnderTest;
  beforeAll(async () => {
    authority = await LocalAuthority.start();
    api = await startApi(optionsFor(authority, { clockToleranceSeconds: 0, jwks: { cacheMaxAgeSeconds: 2 } }));
  });
  afterAll(async () => {
    await api.close();
    await authority.close();
  });

  it('remembers a token only after it passed full validation, keyed by its exact text', async () => {
    const cache = api.app.get(ValidatedTokenCache);
    const token = authority.mintUserToken();
    expect(cache.get(token)).toBeUndefined();
    expect((await get(`${api.url}/delegated`, token)).status).toBe(200);
    expect(cache.get(token)?.objectId).toBeDefined();
    const forged = authority.mintUserToken({ key: await authority.foreignKey('RS256', authority.activeKey.kid) });
    expectRejection(await get(`${api.url}/delegated`, forged), 'H401');
    expect(cache.get(forged)).toBeUndefined();
  });

  it('never serves a remembered principal for another token that ends with the same signature', async () => {
    const cache = api.app.get(ValidatedTokenCache);
    const token = authority.mintUserToken();
    expect((await get(`${api.url}/delegated`, token)).status).toBe(200);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const swapped = `${header}.${Buffer.from(JSON.stringify({ ...claims, oid: '00000000-0000-4000-8000-00000000beef' })).toString('base64url')}.${signature}`;
    expect(cache.get(swapped)).toBeUndefined();
    expectRejection(await get(`${api.url}/delegated`, swapped), 'H401');
    // The forgery neither replaced nor evicted the genuine entry.
    expect(cache.get(token)?.objectId).toBe(claims.oid);
    expect((await get(`${api.url}/delegated`, token)).status).toBe(200);
  });

  it('still enforces scopes on a remembered token (authorization is never cached)', async () => {
    const token = authority.mintUserToken();
    expect((await get(`${api.url}/delegated`, token)).status).toBe(200);
    expectRejection(await get(`${api.url}/app`, token), 'H403');
  });

  it('stops serving a remembered token the moment it expires', async () => {
    const token = authority.mintUserToken({ lifetimeSeconds: 2 });
    expect((await get(`${api.url}/delegated`, token)).status).toBe(200);
    expect((await get(`${api.url}/delegated`, token)).status).toBe(200);
    await sleep(2_100);
    expectRejection(await get(`${api.url}/delegated`, token), 'H401-expired');
  });

  it('stops serving a remembered token once its signing key left the JWKS and the key set refreshed', async () => {
    const old = authority.activeKey;
    const token = authority.mintUserToken();
    expect((await get(`${api.url}/delegated`, token)).status).toBe(200);
    await authority.rotateKey();
    authority.unpublishKey(old.kid);
    expect((await get(`${api.url}/delegated`, token)).status).toBe(200); // key set still fresh: same answer as without the cache
    await sleep(2_100); // cacheMaxAgeSeconds 2
    expectRejection(await get(`${api.url}/delegated`, token), 'H401');
  });

  it('is off with validatedTokenCacheMaxEntries 0', async () => {
    const off = await startApi(optionsFor(authority, { validatedTokenCacheMaxEntries: 0 }));
    try {
      const token = authority.mintUserToken();
      expect((await get(`${off.url}/delegated`, token)).status).toBe(200);
      expect(off.app.get(ValidatedTokenCache).get(token)).toBeUndefined();
    } finally {
      await off.close();
    }
  });
});
