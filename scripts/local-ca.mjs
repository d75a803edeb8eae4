// The local authority's loopback TLS certificate, made with openssl at run time (never committed).
// Scripts that start node processes which must trust it set NODE_EXTRA_CA_CERTS and
// LOCAL_AUTHORITY_TLS_DIR from here.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** Creates `<root>/.local-authority/local-authority.{key,crt}` when absent; returns the env to trust it. */
export function localAuthorityTrust(root) {
  const dir = join(root, '.local-authority');
  const cert = join(dir, 'local-authority.crt');
  const key = join(dir, 'local-authority.key');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!existsSync(cert) || !existsSync(key)) {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '7', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  }
  return { LOCAL_AUTHORITY_TLS_DIR: dir, NODE_EXTRA_CA_CERTS: cert };
}
