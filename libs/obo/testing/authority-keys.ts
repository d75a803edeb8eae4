import { createPrivateKey, randomUUID, type KeyObject } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';

/** A signing key of the local authority (or a foreign one, for attack tests). */
export interface AuthorityKey {
  readonly kid: string;
  readonly alg: string;
  readonly privateKey: KeyObject;
  readonly publicJwk: Record<string, unknown>;
}

/** Generates a key pair for `alg` (RS256 by default); `extractable` so tests can reuse its parts. */
export async function generateAuthorityKey(alg = 'RS256', kid: string = randomUUID()): Promise<AuthorityKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, modulusLength: 2048 });
  const jwk = await exportJWK(publicKey);
  const privateJwk = await exportJWK(privateKey);
  return {
    kid,
    alg,
    privateKey: createPrivateKey({ key: privateJwk as never, format: 'jwk' }),
    publicJwk: { ...jwk, kid, use: 'sig', alg },
  };
}
