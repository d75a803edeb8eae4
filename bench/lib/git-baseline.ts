// The library as it was at an earlier commit, compiled beside this tree's: a "before" variant that a
// bench can load in a child process next to the current code, in the same run, on the same machine.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { log, root } from './report.js';

function run(command: string, args: readonly string[], cwd: string, timeout = 300_000): { ok: boolean; output: string } {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout, maxBuffer: 64 * 1024 * 1024 });
  return { ok: result.status === 0, output: `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}` };
}

/**
 * `libs/obo/src` at `commit`, extracted with `git archive` into the git-ignored
 * `dist/bench-baseline/<commit>/` and compiled there with this tree's TypeScript and tsconfig
 * (specs left out; node_modules resolve from the repository root). Reused when already built.
 * @returns The absolute path of its compiled `index.js`, or `undefined` (logged) when git or the
 * commit is missing (a shallow clone) or it does not compile.
 */
export function compileLibraryAt(commit: string): string | undefined {
  const dir = join(root, 'dist', 'bench-baseline', commit);
  const entry = join(dir, 'out', 'libs', 'obo', 'src', 'index.js');
  if (existsSync(join(dir, 'built'))) return entry;
  if (!run('git', ['cat-file', '-e', `${commit}^{commit}`], root, 10_000).ok) {
    log(`baseline: commit ${commit} is not in this clone; the "before" variant is left out`);
    return undefined;
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const tar = join(dir, 'src.tar');
  const archived = run('git', ['archive', '--format=tar', '-o', tar, commit, 'libs/obo/src'], root, 60_000);
  const extracted = archived.ok && run('tar', ['-xf', tar, '-C', dir], dir, 60_000).ok;
  if (!extracted) {
    log(`baseline: git archive of ${commit} failed; the "before" variant is left out\n${archived.output}`);
    return undefined;
  }
  const compilerOptions = { rootDir: '.', outDir: './out', declaration: false, sourceMap: false, types: ['node'], noEmit: false, paths: {} };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ extends: join(root, 'tsconfig.json'), compilerOptions, include: ['libs/obo/src/**/*.ts'], exclude: ['**/*.spec.ts'] }));
  log(`baseline: compiling libs/obo/src at ${commit.slice(0, 10)}`);
  const compiled = run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'tsconfig.json')], dir);
  if (!compiled.ok || !existsSync(entry)) {
    log(`baseline: ${commit} does not compile; the "before" variant is left out\n${compiled.output.slice(0, 2_000)}`);
    return undefined;
  }
  writeFileSync(join(dir, 'built'), `${new Date().toISOString()}\n`);
  return entry;
}
