import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A TLS key pair for the local authority, as PEM, with the certificate's path for `NODE_EXTRA_CA_CERTS`. */
export interface DevCertificate {
  readonly key: string;
  readonly cert: string;
  readonly certPath: string;
}

/**
 * Returns the self-signed loopback certificate in `dir`, creating it with the `openssl` CLI when
 * absent (CN localhost, SAN 127.0.0.1, ::1 and localhost, valid 7 days). Keys are made at run
 * time and never committed. Without `dir`, a fresh temporary folder is used.
 */
export function ensureDevCertificate(dir?: string): DevCertificate {
  const folder = dir ?? mkdtempSync(join(tmpdir(), 'obo-local-authority-'));
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const keyPath = join(folder, 'local-authority.key');
  const certPath = join(folder, 'local-authority.crt');
  if (!existsSync(keyPath) || !existsSync(certPath)) {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '7', '-subj', '/CN=localhost',
        '-addext', 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost', '-keyout', keyPath, '-out', certPath],
      { stdio: 'ignore' },
    );
  }
  return { key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8'), certPath };
}

/** The certificate named by `LOCAL_AUTHORITY_TLS_DIR` (what `npm test` and the demo set up), if any. */
export function certificateFromEnvironment(): DevCertificate | undefined {
  const dir = process.env.LOCAL_AUTHORITY_TLS_DIR;
  return dir ? ensureDevCertificate(dir) : undefined;
}
