// The local authority's loopback TLS certificate, made with openssl at run time (never committed).
// Scripts that start node processes which must trust it set NODE_EXTRA_CA_CERTS and
// LOCAL_AUTHORITY_TLS_DIR from here.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Creates `<root>/.local-authority/local-authority.{key,crt}` when absent; returns the env to trust
 * it. The machine's own extra authorities (its NODE_EXTRA_CA_CERTS file, which npm needs to reach the
 * registry through this network) are kept: both go into one new bundle file, never replacing them.
 */
export function localAuthorityTrust(root) {
  const dir = join(root, '.local-authority');
  const cert = join(dir, 'local-authority.crt');
  const key = join(dir, 'local-authority.key');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!existsSync(cert) || !existsSync(key)) {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '7', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  }
  const bundle = join(dir, 'trust-bundle.pem');
  const machine = process.env.NODE_EXTRA_CA_CERTS;
  let trusted = cert;
  if (machine && machine !== bundle && machine !== cert && existsSync(machine)) {
    writeFileSync(bundle, `${readFileSync(machine, 'utf8').trimEnd()}\n${readFileSync(cert, 'utf8')}`, { mode: 0o600 });
    trusted = bundle;
  }
  return { LOCAL_AUTHORITY_TLS_DIR: dir, NODE_EXTRA_CA_CERTS: trusted };
}
