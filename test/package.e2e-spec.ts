// Issue 11, the package people install: `npm pack` of libs/obo (its prepack builds libs/obo/dist
// afresh), the tarball's file list and size budget, publint and are-the-types-wrong on the tarball,
// and the workspace resolving `nestjs-obo` and `nestjs-obo/testing` through node_modules and the
// package's `exports` map in plain `node` processes, ESM `import` and CommonJS `require`. The other
// tests run on the TypeScript sources (jest.config.ts maps the names for ts-jest); these are the
// ones a broken `exports` map, a file missing from `files` or a stale build fails.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = join(import.meta.dirname, '..');
const packageDir = join(root, 'libs', 'obo');
const bin = (name: string) => join(root, 'node_modules', '.bin', name);

/**
 * The budget, a little above the size measured on 2026-12-01 (617,102 bytes packed, 2,233,669
 * unpacked, 594 files; about 57% of the unpacked bytes are source maps carrying their sources).
 * Raised again for issue 13 from 700,000 / 2,550,000 (measured 714,998 packed, 2,564,397 unpacked,
 * 675 files): OpenTelemetry spans and metrics, the terminus indicators, RFC 9728 metadata and step-up.
 * Raised from 660,000 / 2,400,000 for issue 13 (measured 669,928 packed, 2,416,098 unpacked, 639
 * files): the `nestjs-obo/swagger` entry point (OpenAPI security from the decorators, ~23 KB packed)
 * on top of 646,902 / 2,342,923 before it.
 * Raised from 460,000 / 1,650,000 (2026-11-30: 423,284 packed) for issue 12: the web-app half
 * (`OboWebAppModule`: sign-in with msal-node and openid-client, sessions, `@AuthorizeForScopes`,
 * ~128 KB of JavaScript) and the local authority's browser sign-in in `nestjs-obo/testing`.
 * Growing past it is a decision to make, not an accident: raise it in the same commit and say why.
 */
const MAX_PACKED_BYTES = 740_000;
const MAX_UNPACKED_BYTES = 2_650_000;

/**
 * are-the-types-wrong, and why these two exceptions are right for this package:
 * - `--profile node16` leaves out the `node10` resolution (TypeScript's `moduleResolution: node`),
 *   which ignores `exports` and so finds neither entry point. Nest 12 is ESM only and has to be
 *   resolved through `exports` as well, so an app on `node10` cannot compile against Nest itself.
 * - `cjs-resolves-to-esm`: a CommonJS app's `require('nestjs-obo')` loads our ESM through Node's
 *   `require(esm)`, which our `engines` (`^20.19.0 || >=22.12.0`) guarantee; attw's TypeScript
 *   still reports it as "dynamic import only". The `node16 (from CJS)` resolution stays checked, so
 *   a CommonJS app that finds no types, or the wrong ones, still fails here.
 */
const ATTW_ARGS = ['--profile', 'node16', '--ignore-rules', 'cjs-resolves-to-esm'];

interface PackedFile {
  readonly path: string;
  readonly size: number;
}
interface PackResult {
  readonly filename: string;
  readonly size: number;
  readonly unpackedSize: number;
  readonly entryCount: number;
  readonly files: readonly PackedFile[];
}
interface ExportTargets {
  readonly types: string;
  readonly import: string;
  readonly default: string;
}

/** Runs `command` to its end (bounded by `timeout`); its output as text. */
function run(command: string, args: readonly string[], cwd: string, timeout = 120_000) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout, maxBuffer: 32 * 1024 * 1024, env: { ...process.env, NODE_OPTIONS: '' } });
  return { status: result.status, stdout: result.stdout ?? '', stderr: `${result.stderr ?? ''}${result.error ? String(result.error) : ''}` };
}

interface Manifest {
  readonly name: string;
  readonly exports: Record<string, ExportTargets | string>;
  readonly dependencies: Record<string, string>;
  readonly peerDependencies: Record<string, string>;
  readonly peerDependenciesMeta: Record<string, { optional?: boolean }>;
}
const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as Manifest;

/**
 * An app outside the repository with the tarball unpacked into its node_modules and, beside it, only
 * what an install gives it: the package's dependencies, its required peers, the optional `peers`
 * asked for, and @types/node (linked from ours; their own dependencies resolve where they live).
 * Returns the app's folder.
 */
function installConsumer(tarball: string, work: string, peers: readonly string[] = [], name = 'consumer'): string {
  const app = join(work, name);
  const installed = join(app, 'node_modules');
  mkdirSync(join(installed, 'nestjs-obo'), { recursive: true });
  const untar = run('tar', ['-xzf', tarball, '-C', join(installed, 'nestjs-obo'), '--strip-components=1'], app);
  if (untar.status !== 0) throw new Error(`tar failed: ${untar.stderr}`);
  const required = Object.keys(manifest.peerDependencies).filter((name) => !manifest.peerDependenciesMeta[name]?.optional);
  for (const name of [...Object.keys(manifest.dependencies), ...required, ...peers, '@types/node']) {
    mkdirSync(join(installed, name, '..'), { recursive: true });
    symlinkSync(join(root, 'node_modules', name), join(installed, name), 'dir');
  }
  writeFileSync(join(app, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
  return app;
}

/** Strict, `skipLibCheck` off: every declaration the entry points reach must resolve, third-party types included. */
function typeCheck(app: string, source = "import * as obo from 'nestjs-obo';\nimport * as testing from 'nestjs-obo/testing';\nexport const api = { obo, testing };\n") {
  writeFileSync(join(app, 'main.ts'), source);
  const compilerOptions = { module: 'nodenext', moduleResolution: 'nodenext', target: 'ES2022', strict: true, skipLibCheck: false, noEmit: true, experimentalDecorators: true, emitDecoratorMetadata: true, types: ['node'] };
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['main.ts'] }));
  return run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], app);
}

/** Runs `source` in a plain `node` (no jest, no loader) in `cwd`; what it printed, parsed. */
function node(kind: 'module' | 'commonjs', source: string, cwd: string, hint = '') {
  const result = run(process.execPath, ['--input-type', kind, '--eval', source], cwd, 30_000);
  if (result.status !== 0) throw new Error(`node (${kind}) failed (${result.status})${hint}:\n${result.stderr}`);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

/** The export names of both entry points as `import` sees them. */
const IMPORT_NAMES = `const main = await import('nestjs-obo'); const testing = await import('nestjs-obo/testing'); console.log(JSON.stringify({ main: Object.keys(main).sort(), testing: Object.keys(testing).sort(), kinds: [typeof main.OboModule, typeof main.TokenAcquisition, typeof main.DownstreamApi, typeof testing.LocalAuthority, typeof testing.LocalOidcAuthority] }))`;
/** The same through CommonJS `require` (Node's require(esm)). */
const REQUIRE_NAMES = `const main = require('nestjs-obo'); const testing = require('nestjs-obo/testing'); console.log(JSON.stringify({ main: Object.keys(main).filter((k) => k !== '__esModule').sort(), testing: Object.keys(testing).filter((k) => k !== '__esModule').sort(), same: main.OboModule === require('nestjs-obo').OboModule }))`;
/** What the TypeScript sources export (jest maps both names to them). */
const sourceNames = async () => ({ main: Object.keys(await import('nestjs-obo')).sort(), testing: Object.keys(await import('nestjs-obo/testing')).sort() });
const FUNCTIONS = ['function', 'function', 'function', 'function', 'function'];

describe('the nestjs-obo tarball (npm pack)', () => {
  let work: string;
  let packed: PackResult;
  let tarball: string;
  let consumer: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'nestjs-obo-pack-'));
    const result = run('npm', ['pack', '--json', '--pack-destination', work], packageDir);
    if (result.status !== 0) throw new Error(`npm pack failed (${result.status}):\n${result.stderr}`);
    [packed] = JSON.parse(result.stdout) as PackResult[];
    tarball = join(work, packed.filename);
    consumer = installConsumer(tarball, work);
  }, 180_000);
  afterAll(() => work && rmSync(work, { recursive: true, force: true }));

  it('holds the JavaScript, declarations and source map of every entry point the exports map names', () => {
    const paths = new Set(packed.files.map((file) => file.path));
    for (const subpath of ['.', './testing', './swagger']) {
      const targets = manifest.exports[subpath] as ExportTargets;
      expect(Object.keys(targets)).toEqual(['types', 'import', 'default']);
      for (const target of [targets.types, targets.import, targets.default, `${targets.import}.map`]) {
        expect({ subpath, target, packed: paths.has(target.replace(/^\.\//, '')) }).toEqual({ subpath, target, packed: true });
      }
    }
    expect([...paths].filter((path) => !path.startsWith('dist/')).sort()).toEqual(['LICENSE', 'README.md', 'package.json']);
  });

  it('ships no specs, tests, TypeScript sources, fixtures, keys, certificates or sample apps', () => {
    const unwanted = /\.(spec|e2e-spec)\.|(^|\/)(test|tests|fixtures|apps|bench|coverage|\.local-authority)\/|\.(pem|key|crt|p12|pfx|der|tgz|log)$|(?<!\.d)\.ts$/;
    expect(packed.files.map((file) => file.path).filter((path) => unwanted.test(path))).toEqual([]);
  });

  it(`stays within its size budget (${MAX_PACKED_BYTES} bytes packed, ${MAX_UNPACKED_BYTES} unpacked)`, () => {
    expect(packed.size).toBeGreaterThan(0);
    expect(packed.size).toBeLessThanOrEqual(MAX_PACKED_BYTES);
    expect(packed.unpackedSize).toBeLessThanOrEqual(MAX_UNPACKED_BYTES);
  });

  it('type-checks in a strict TypeScript app (skipLibCheck off) that has only the declared dependencies and peers', () => {
    const result = typeCheck(consumer);
    expect({ status: result.status, errors: result.stdout + result.stderr }).toEqual({ status: 0, errors: '' });
  }, 60_000);

  it('loads both entry points in that app with only the declared dependencies and peers (ESM import, CommonJS require)', async () => {
    const names = await sourceNames();
    expect(node('module', IMPORT_NAMES, consumer)).toEqual({ ...names, kinds: FUNCTIONS });
    expect(node('commonjs', REQUIRE_NAMES, consumer)).toEqual({ ...names, same: true });
  }, 60_000);

  it('nestjs-obo/swagger needs its optional peer: without @nestjs/swagger only it fails to load; with it, it loads and type-checks', () => {
    const load = `import('nestjs-obo/swagger').then((m) => console.log(JSON.stringify({ names: Object.keys(m).sort() })), (e) => console.log(JSON.stringify({ code: e.code, missing: String(e.message).includes("'@nestjs/swagger'") })))`;
    expect(node('module', load, consumer)).toEqual({ code: 'ERR_MODULE_NOT_FOUND', missing: true });
    const withSwagger = installConsumer(tarball, work, ['@nestjs/swagger'], 'consumer-swagger');
    expect(node('module', load, withSwagger)).toEqual({ names: ['OBO_SECURITY_SCHEMES', 'OboSwagger'] });
    const source = "import { OboSwagger } from 'nestjs-obo/swagger';\nimport type { OpenAPIObject } from '@nestjs/swagger';\nexport const create: (...args: Parameters<typeof OboSwagger.createDocument>) => Promise<OpenAPIObject> = OboSwagger.createDocument;\n";
    const result = typeCheck(withSwagger, source);
    expect({ status: result.status, errors: result.stdout + result.stderr }).toEqual({ status: 0, errors: '' });
  }, 90_000);

  it('passes publint with warnings counted as errors', () => {
    const result = run(bin('publint'), ['run', tarball, '--strict', '--level', 'suggestion'], root);
    expect({ status: result.status, output: result.stdout + result.stderr }).toEqual({ status: 0, output: expect.stringContaining('All good!') });
  });

  it('passes are-the-types-wrong for nestjs-obo, nestjs-obo/testing and nestjs-obo/swagger, only require(esm) and node10 left aside', () => {
    const result = run(bin('attw'), [tarball, ...ATTW_ARGS, '--format', 'json'], root);
    const report = JSON.parse(result.stdout) as { analysis: { entrypoints: Record<string, unknown>; problems: Array<{ kind: string; entrypoint: string; resolutionKind?: string }> } };
    expect(Object.keys(report.analysis.entrypoints)).toEqual(expect.arrayContaining(['.', './testing', './swagger']));
    const other = report.analysis.problems.filter((problem) => problem.resolutionKind !== 'node10' && problem.kind !== 'CJSResolvesToESM');
    expect(other).toEqual([]);
    expect(result.status).toBe(0);
  });
});

describe('the workspace resolves nestjs-obo through node_modules and its exports map', () => {
  const dist = join(realpathSync(packageDir), 'dist');
  const hint = '; `npm install` at the root links node_modules/nestjs-obo to libs/obo';

  it('resolves both entry points to the built dist of this checkout', () => {
    const resolved = node('module', `console.log(JSON.stringify({ main: import.meta.resolve('nestjs-obo'), testing: import.meta.resolve('nestjs-obo/testing') }))`, root, hint);
    // A link to another checkout (or none) shows here, not as a confusing failure below.
    expect(resolved).toEqual({ main: pathToFileURL(join(dist, 'src', 'index.js')).href, testing: pathToFileURL(join(dist, 'testing', 'index.js')).href });
  });

  it('imports (ESM) every name the sources export, from both entry points', async () => {
    expect(node('module', IMPORT_NAMES, root, hint)).toEqual({ ...(await sourceNames()), kinds: FUNCTIONS });
  });

  it('requires (CommonJS, require(esm)) every name the sources export, from both entry points', async () => {
    expect(node('commonjs', REQUIRE_NAMES, root, hint)).toEqual({ ...(await sourceNames()), same: true });
  });
});
