// Runs the whole test suite: creates the local authority's loopback TLS certificate (openssl, at
// run time, never committed), trusts it through NODE_EXTRA_CA_CERTS, and starts jest in ESM mode.
import { spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const dir = join(root, '.local-authority');
const cert = join(dir, 'local-authority.crt');
const key = join(dir, 'local-authority.key');
mkdirSync(dir, { recursive: true, mode: 0o700 });
if (!existsSync(cert) || !existsSync(key)) {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '7', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost', '-keyout', key, '-out', cert], { stdio: 'ignore' });
}
const env = {
  ...process.env,
  LOCAL_AUTHORITY_TLS_DIR: dir,
  NODE_EXTRA_CA_CERTS: cert,
  NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --experimental-vm-modules --no-warnings=ExperimentalWarning`.trim(),
};
const jest = join(root, 'node_modules', 'jest', 'bin', 'jest.js');
const summary = join(tmpdir(), `nestjs-obo-jest-${process.pid}.json`);
const result = spawnSync(process.execPath, [jest, '--json', `--outputFile=${summary}`, ...process.argv.slice(2)], { stdio: 'inherit', env, cwd: root });
// One plain closing line that any CI reads: "tests: N passed, N failed, N skipped".
if (existsSync(summary)) {
  const { numPassedTests, numFailedTests, numPendingTests, numTodoTests } = JSON.parse(readFileSync(summary, 'utf8'));
  rmSync(summary);
  console.log(`tests: ${numPassedTests} passed, ${numFailedTests} failed, ${numPendingTests + numTodoTests} skipped`);
}
process.exit(result.status ?? 1);
