import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/**
 * A self-signed X.509 certificate for `key` (valid one day), as the base64 DER that
 * a JWK's `x5c` holds. Made with the `openssl` CLI at run time; never committed.
 */
export function selfSignedCertificate(key: AuthorityKey): string {
  // openssl cannot read the key from a socket-backed stdin: a private temporary file, removed at once.
  const dir = mkdtempSync(join(tmpdir(), 'obo-signing-cert-'));
  try {
    const keyPath = join(dir, 'key.pem');
    writeFileSync(keyPath, key.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const der = execFileSync('openssl', ['req', '-x509', '-new', '-key', keyPath, '-subj', '/CN=nestjs-obo local authority signing key', '-days', '1', '-outform', 'DER'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return der.toString('base64');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
