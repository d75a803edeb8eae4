import { generateKeyPairSync } from 'node:crypto';
import { generateAuthorityKey, selfSignedCertificate } from '../../../testing/authority-keys.js';
import { jwksUriFor, parseJwks } from './jwks-keys.js';

const RS256 = ['RS256'];

describe('#107 parseJwks: every key is used or listed with its reason', () => {
  it('takes an x5c-only key from its first certificate and ignores the rest of the chain', async () => {
    const key = await generateAuthorityKey();
    const { n: _n, e: _e, ...rest } = key.publicJwk;
    const { keys, unusable } = parseJwks([{ ...rest, x5c: [selfSignedCertificate(key), 'not a certificate at all'] }], RS256);
    expect(unusable).toEqual([]);
    expect(keys.get(key.kid)?.key.export({ format: 'jwk' })).toEqual({ kty: 'RSA', n: key.publicJwk.n, e: key.publicJwk.e });
  });

  it.each<[string, (jwk: Record<string, unknown>, cert: string, other: string) => unknown, RegExp]>([
    ['a JWK that is not an object', () => 'RSA', /it has no kid/],
    ['a JWK without kid', (jwk) => ({ ...jwk, kid: undefined }), /it has no kid/],
    ['an alg not accepted', (jwk) => ({ ...jwk, alg: 'RS512' }), /alg "RS512" is not in the accepted algorithms \(RS256\)/],
    ['a kty no accepted alg fits', (jwk) => ({ ...jwk, kty: 'EC', alg: undefined }), /kty "EC" fits none/],
    ['no key material at all', (jwk) => ({ ...jwk, n: undefined, e: undefined }), /no key material/],
    ['x5c that is not base64', (jwk) => ({ ...jwk, x5c: ['***'] }), /x5c is not a list of base64 DER certificates/],
    ['x5c that is not a list', (jwk, cert) => ({ ...jwk, x5c: cert }), /x5c is not a list/],
    ['x5c[0] that is not a certificate', (jwk) => ({ ...jwk, x5c: ['AAAA'] }), /x5c\[0\] is not an X.509 certificate/],
    ['n/e of one key with the certificate of another', (jwk, _cert, other) => ({ ...jwk, x5c: [other] }), /n\/e and the public key of its x5c certificate differ/],
    ['an x5c-only RSA key whose certificate holds an EC key', (jwk) => ({ ...jwk, n: undefined, e: undefined, x5c: [ecCertificate] }), /its key is ec, not kty RSA/],
  ])('lists %s as unusable with its reason', async (_label, make, reason) => {
    const key = await generateAuthorityKey();
    const other = selfSignedCertificate(await generateAuthorityKey());
    const jwk = JSON.parse(JSON.stringify(make(key.publicJwk, selfSignedCertificate(key), other))) as unknown;
    const { keys, unusable } = parseJwks([jwk], RS256);
    expect(keys.size).toBe(0);
    expect(unusable).toHaveLength(1);
    expect(unusable[0]!.reason).toMatch(reason);
  });

  it('keeps the first of two keys with one kid and lists the second', async () => {
    const key = await generateAuthorityKey();
    const { keys, unusable } = parseJwks([key.publicJwk, { ...(await generateAuthorityKey()).publicJwk, kid: key.kid }], RS256);
    expect(keys.get(key.kid)?.key.export({ format: 'jwk' }).n).toBe(key.publicJwk.n);
    expect(unusable).toEqual([{ kid: JSON.stringify(key.kid), reason: 'an earlier key has the same kid (that one is used)' }]);
  });

  it('quotes and shortens a kid for the log line', () => {
    const { unusable } = parseJwks([{ kid: `a\r\nb${'x'.repeat(200)}`, kty: 'RSA', use: 'enc' }], RS256);
    expect(unusable[0]!.kid).toBe(JSON.stringify(`a\r\nb${'x'.repeat(76)}`));
    expect(unusable[0]!.kid).not.toContain('\n');
  });
});

describe('#108 jwksUriFor', () => {
  it('appends appid=<client id> with the URL API, keeping any query the discovered URI has', () => {
    expect(jwksUriFor('https://login.example/t/discovery/v2.0/keys', 'c1', true)).toBe('https://login.example/t/discovery/v2.0/keys?appid=c1');
    expect(jwksUriFor('https://login.example/t/keys?p=b2c_1_x', 'c1', true)).toBe('https://login.example/t/keys?p=b2c_1_x&appid=c1');
    expect(jwksUriFor('https://login.example/t/discovery/v2.0/keys', 'c1', false)).toBe('https://login.example/t/discovery/v2.0/keys');
  });
});

// An EC certificate, to put under an RSA JWK.
const ecCertificate = (() => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return selfSignedCertificate({ kid: 'ec', alg: 'ES256', privateKey, publicJwk: {} });
})();
