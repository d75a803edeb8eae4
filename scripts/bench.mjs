// Runs the benchmarks: creates the local authority's loopback TLS certificate (openssl, at run
// time, never committed) and trusts it through NODE_EXTRA_CA_CERTS, compiles bench/ (and the
// library sources it imports) with tsc into dist/bench, then runs node --expose-gc on it.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { localAuthorityTrust } from './local-ca.mjs';

const root = resolve(import.meta.dirname, '..');
const outDir = join(root, 'dist', 'bench');
mkdirSync(join(root, 'bench', 'results'), { recursive: true }); // git-ignored: absent in a fresh clone
rmSync(outDir, { recursive: true, force: true });
const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.bench.json')], { stdio: 'inherit', cwd: root });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

const env = {
  ...process.env,
  ...localAuthorityTrust(root),
  BENCH_ROOT: root,
  BENCH_COMMAND: process.env.BENCH_COMMAND ?? 'npm run bench',
};
// Every bench/*.bench.ts, one process each, in name order; `npm run bench -- <name>` runs the ones whose name contains it.
const only = process.argv[2];
const benchmarks = readdirSync(join(root, 'bench'))
  .filter((file) => file.endsWith('.bench.ts') && (!only || file.includes(only)))
  .sort();
for (const file of benchmarks) {
  console.log(`\n=== ${file} ===`);
  const run = spawnSync(process.execPath, ['--expose-gc', join(outDir, 'bench', file.replace(/\.ts$/, '.js'))], { stdio: 'inherit', env, cwd: root });
  if (run.status !== 0) process.exit(run.status ?? 1);
}
