import { createHmac, sign as cryptoSign, constants, type KeyObject } from 'node:crypto';

/** Signs raw header and payload JSON exactly as given, so tests can mint what libraries refuse to. */
export function signCompact(headerJson: string, payloadJson: string, alg: string, key: KeyObject | Buffer | string): string {
  const input = `${Buffer.from(headerJson).toString('base64url')}.${Buffer.from(payloadJson).toString('base64url')}`;
  return `${input}.${signature(input, alg, key).toString('base64url')}`;
}

function signature(input: string, alg: string, key: KeyObject | Buffer | string): Buffer {
  const bits = alg.slice(2);
  if (alg === 'none') return Buffer.alloc(0);
  if (alg.startsWith('HS')) return createHmac(`sha${bits}`, key as Buffer | string).update(input).digest();
  const privateKey = key as KeyObject;
  if (alg.startsWith('RS')) return cryptoSign(`sha${bits}`, Buffer.from(input), privateKey);
  if (alg.startsWith('PS')) {
    return cryptoSign(`sha${bits}`, Buffer.from(input), { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(bits) / 8 });
  }
  if (alg.startsWith('ES')) return cryptoSign(`sha${bits}`, Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  if (alg === 'EdDSA') return cryptoSign(null, Buffer.from(input), privateKey);
  throw new Error(`signCompact: unsupported alg ${alg}`);
}
