// Catalogue #107: the forms a JWKS key takes in the real world. A key with only `x5c` is used
// through its first certificate's public key (as Microsoft.IdentityModel does; no chain is fetched
// or checked); a key whose `n`/`e` and certificate disagree is dropped; every unusable key is one
// warning per JWKS refresh with its kid and reason, never skipped silently. Certificates are made
// by the local authority with openssl at run time.
import { generateKeyPairSync } from 'node:crypto';
import { generateAuthorityKey, LocalAuthority, type AuthorityKey } from 'nestjs-obo/testing';
import { optionsFor, type ApiUnderTest } from './support/api-under-test.js';
import { CapturingLogger } from './support/capturing-logger.js';
import { expectRejection, get } from './support/expect-rejection.js';
import { startLoggedApi } from './support/logged-api.js';

describe('#107 JWKS key forms: x5c-only keys, n/e vs x5c mismatches, one warning per unusable key', () => {
  let authority: LocalAuthority;
  let api: ApiUnderTest;
  const logger = new CapturingLogger();
  let x5cOnly: AuthorityKey;
  let withCertificate: AuthorityKey;
  let mismatched: AuthorityKey;
  /** kid -> the reason its warning must give. */
  const BAD: Record<string, RegExp> = {
    'bad-material': /malformed key material/,
    'short-modulus': /RSA modulus of 1024 bits is under 2048/,
    'encryption-key': /use is "enc", not "sig"/,
  };
  const warningsFor = (kid: string): string[] => logger.lines.filter((l) => l.startsWith('warn ') && l.includes(`"${kid}"`));

  beforeAll(async () => {
    authority = await LocalAuthority.start();
    x5cOnly = await generateAuthorityKey();
    withCertificate = await generateAuthorityKey();
    mismatched = await generateAuthorityKey();
    authority.publishKeyWithCertificate(x5cOnly, { form: 'x5c-only' });
    authority.publishKeyWithCertificate(withCertificate, { form: 'n-e-and-x5c' });
    authority.publishKeyWithCertificate(mismatched, { form: 'n-e-and-x5c', certificateOf: await generateAuthorityKey() });
    authority.publishJwk({ ...authority.activeKey.publicJwk, kid: 'bad-material', e: undefined }); // n without e
    const short = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
    authority.publishJwk({ ...short, kid: 'short-modulus', use: 'sig', alg: 'RS256' });
    authority.publishJwk({ ...(await generateAuthorityKey()).publicJwk, kid: 'encryption-key', use: 'enc', alg: undefined });
    api = await startLoggedApi(optionsFor(authority), logger);
  });

  afterAll(async () => {
    await api?.close();
    await authority?.close();
  });

  it('answers 200 to a token signed with an x5c-only key (the key of its first certificate)', async () => {
    expect(x5cOnly.publicJwk.n).toBeDefined(); // the pair has n/e; the authority left them out of the JWKS
    const res = await get(`${api.url}/delegated`, authority.mintUserToken({ key: x5cOnly }));
    expect(res.status).toBe(200);
    expect(warningsFor(x5cOnly.kid)).toEqual([]);
  });

  it('answers 200 to a token signed with a key whose n/e and x5c certificate agree', async () => {
    expect((await get(`${api.url}/delegated`, authority.mintUserToken({ key: withCertificate }))).status).toBe(200);
    expect(warningsFor(withCertificate.kid)).toEqual([]);
  });

  it('answers 401 invalid_token to a token signed with a key whose x5c certificate holds another key, and warns once naming its kid', async () => {
    expectRejection(await get(`${api.url}/delegated`, authority.mintUserToken({ key: mismatched })), 'H401');
    const lines = warningsFor(mismatched.kid);
    expect(lines).toHaveLength(authority.requests.jwks); // one line per JWKS refresh
    expect(lines[0]).toMatch(/Signing key ".+" is not used: n\/e and the public key of its x5c certificate differ\./);
  });

  it.each(Object.entries(BAD))('still answers 200 with the good key beside the unusable key %s, which got one warning with its reason', async (kid, reason) => {
    expect((await get(`${api.url}/delegated`, authority.mintUserToken())).status).toBe(200);
    const lines = warningsFor(kid);
    expect(lines).toHaveLength(authority.requests.jwks);
    expect(lines[0]).toMatch(reason);
  });

  it('warns once per key per refresh, not once per request', async () => {
    for (let i = 0; i < 5; i++) expectRejection(await get(`${api.url}/delegated`, authority.mintUserToken({ key: mismatched })), 'H401');
    const fetches = authority.requests.jwks;
    expect(fetches).toBeLessThan(6); // the unknown-kid cooldown (30 s) held back most refetches
    for (const kid of [mismatched.kid, ...Object.keys(BAD)]) expect(warningsFor(kid)).toHaveLength(fetches);
  });
});
