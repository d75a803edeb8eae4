// Runs the whole test suite: creates the local authority's loopback TLS certificate (openssl, at
// run time, never committed), trusts it through NODE_EXTRA_CA_CERTS, and starts jest in ESM mode.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { localAuthorityTrust } from './local-ca.mjs';

const root = resolve(import.meta.dirname, '..');

// redis-server backs the shared-cache tests (each starts its own on a free loopback port; redis-cli
// joins six of them into a cluster), openssl
// makes the loopback certificate, and Debian's chromium runs the browser tests (playwright-core drives
// it; no browser is ever downloaded). On a fresh Debian machine as root, install what is missing;
// elsewhere say what is missing.
const has = (command) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
const missing = [
  ...(has('redis-server') ? [] : ['redis-server']),
  // redis-cli creates the Redis Cluster of test/redis-cluster.e2e-spec.ts (`--cluster create`).
  ...(has('redis-cli') ? [] : ['redis-tools']),
  ...(has('openssl') ? [] : ['openssl']),
  // test/support/browser.ts launches exactly this path.
  ...(existsSync('/usr/bin/chromium') ? [] : ['chromium']),
];
if (missing.length > 0) {
  if (process.getuid?.() === 0 && has('apt-get')) {
    console.log(`Installing ${missing.join(', ')} with apt-get (needed by the tests)...`);
    const apt = (args) => spawnSync('apt-get', args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
    if (!apt(['update']) || !apt(['install', '-y', '--no-install-recommends', ...missing])) process.exit(1);
  } else {
    console.error(`The tests need ${missing.join(', ')} (Debian/Ubuntu: sudo apt-get install ${missing.join(' ')}; chromium at /usr/bin/chromium).`);
    process.exit(1);
  }
}
const env = {
  ...process.env,
  ...localAuthorityTrust(root),
  NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --experimental-vm-modules --no-warnings=ExperimentalWarning`.trim(),
};
const jest = join(root, 'node_modules', 'jest', 'bin', 'jest.js');
const summary = join(tmpdir(), `nestjs-obo-jest-${process.pid}.json`);
const result = spawnSync(process.execPath, [jest, '--json', `--outputFile=${summary}`, ...process.argv.slice(2)], { stdio: 'inherit', env, cwd: root });
// One plain closing line that any CI reads: "tests: N passed, N failed, N skipped".
if (existsSync(summary)) {
  const { numPassedTests, numFailedTests, numPendingTests, numTodoTests } = JSON.parse(readFileSync(summary, 'utf8'));
  rmSync(summary);
  console.log(`node ${process.version}`);
  console.log(`tests: ${numPassedTests} passed, ${numFailedTests} failed, ${numPendingTests + numTodoTests} skipped`);
}
process.exit(result.status ?? 1);
