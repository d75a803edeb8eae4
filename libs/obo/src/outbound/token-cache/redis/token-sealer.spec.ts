import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { TokenSealer } from './token-sealer.js';

/** A value as the first TokenSealer (before the shared TextSealer) wrote it: instances of both versions share one Redis during a rolling deploy. */
function sealedByVersion1(key: Buffer, cacheKey: string, json: string): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(`nestjs-obo/token/v1\0${cacheKey}`, 'utf8'));
  const body = Buffer.concat([cipher.update(json, 'utf8'), cipher.final()]);
  return Buffer.concat([Buffer.of(1), createHash('sha256').update(key).digest().subarray(0, 4), iv, cipher.getAuthTag(), body]);
}

describe('TokenSealer', () => {
  const key = randomBytes(32);
  const token = { accessToken: 'eyJ.token.sig', expiresOn: 1_900_000_000_000, scopes: ['api://downstream/Read'] };

  it('opens values sealed in the layout of earlier versions, and they open its values', () => {
    const sealer = new TokenSealer([key]);
    expect(sealer.open('k1', sealedByVersion1(key, 'k1', JSON.stringify({ a: token.accessToken, e: token.expiresOn, s: token.scopes })))).toEqual(token);
    expect(sealer.open('k1', sealer.seal('k1', token))).toEqual(token);
  });

  it('reads a value sealed under another cache key, or authentic but not a token, as a miss', () => {
    const sealer = new TokenSealer([key]);
    expect(sealer.open('k2', sealer.seal('k1', token))).toBeUndefined();
    expect(sealer.open('k1', sealedByVersion1(key, 'k1', 'not json'))).toBeUndefined();
    expect(sealer.open('k1', sealedByVersion1(key, 'k1', 'null'))).toBeUndefined();
    expect(sealer.open('k1', sealedByVersion1(key, 'k1', '{"a":1,"e":2,"s":[]}'))).toBeUndefined();
  });
});
