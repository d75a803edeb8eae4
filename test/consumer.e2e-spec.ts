// A consumer from nothing (issue 11): in a fresh temporary folder, a new Nest 12 app made of exactly
// the README's quick-start files (nothing from apps/), with its own package.json and tsconfig.json,
// installs the packed nestjs-obo tarball and its dependencies from the registry, builds with tsc,
// starts twice (an Original API and the downstream API it calls) and is driven with tokens from
// nestjs-obo/testing's local authority. Once as an ESM app, once as a CommonJS app. If the quick start
// is wrong, this fails.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { LocalAuthority } from 'nestjs-obo/testing';
import { expectRejection, get } from './support/expect-rejection.js';

const root = join(import.meta.dirname, '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** The quick start's files: fenced `ts` blocks of the README whose first line is `// src/<file>.ts`. */
function quickStartFiles(): Map<string, string> {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('\n## ', readme.indexOf('## Quick start') + 5));
  const files = new Map<string, string>();
  for (const [, body] of section.matchAll(/```ts\n([\s\S]*?)```/g)) {
    const first = /^\/\/ (src\/[\w.-]+\.ts)\n/.exec(body!);
    if (first) files.set(first[1]!, body!.slice(first[0].length));
  }
  return files;
}

/** Exact versions the workspace runs, so the consumer installs what we test with. */
function version(name: string): string {
  return (JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(url: string, child: ChildProcess, output: () => string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`the consumer app exited (${child.exitCode}):\n${output()}`);
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the consumer app did not answer ${url}:\n${output()}`);
}

const work = mkdtempSync(join(tmpdir(), 'nestjs-obo-consumer-'));
const children: ChildProcess[] = [];
let tarball: string;
let installed: string;

beforeAll(() => {
  // The library as users get it: its own package, packed.
  const packed = JSON.parse(execFileSync(npm, ['pack', './libs/obo', '--pack-destination', work, '--json'], { cwd: root, encoding: 'utf8' })) as Array<{ filename: string }>;
  tarball = join(work, packed[0]!.filename);
  // One install (the registry, then npm's cache) shared by both apps through a node_modules link.
  installed = join(work, 'deps');
  mkdirSync(installed);
  writeFileSync(join(installed, 'package.json'), JSON.stringify({ name: 'deps', private: true }));
  const dependencies = ['@nestjs/common', '@nestjs/core', '@nestjs/platform-express', '@nestjs/passport', 'passport', 'reflect-metadata', 'rxjs', 'typescript', '@types/node'].map(
    (name) => `${name}@${version(name)}`,
  );
  execFileSync(npm, ['install', '--no-audit', '--no-fund', '--loglevel=error', tarball, ...dependencies], { cwd: installed, stdio: 'pipe', timeout: 240_000 });
}, 300_000);

afterAll(() => {
  for (const child of children) child.kill();
  rmSync(work, { recursive: true, force: true });
});

describe.each([
  ['ESM', { type: 'module' }, { module: 'nodenext', moduleResolution: 'nodenext' }],
  ['CommonJS', { type: 'commonjs' }, { module: 'commonjs', moduleResolution: 'node10', esModuleInterop: true }],
])('a new %s Nest app made of the README quick start', (kind, packageType, moduleOptions) => {
  let authority: LocalAuthority;
  let app: string;
  const originalId = randomUUID();
  const downstreamId = randomUUID();
  const secret = `secret-${randomUUID()}`;
  let originalUrl: string;

  beforeAll(async () => {
    app = join(work, kind.toLowerCase());
    mkdirSync(app);
    symlinkSync(join(installed, 'node_modules'), join(app, 'node_modules'), 'dir');
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: `consumer-${kind.toLowerCase()}`, private: true, ...packageType }));
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { ...moduleOptions, target: 'es2022', outDir: 'dist', rootDir: 'src', strict: true, experimentalDecorators: true, emitDecoratorMetadata: true, skipLibCheck: false, types: ['node'] },
        include: ['src'],
      }),
    );
    const files = quickStartFiles();
    expect([...files.keys()].sort()).toEqual(['src/app.module.ts', 'src/main.ts', 'src/todo.controller.ts']);
    for (const [file, text] of files) {
      mkdirSync(dirname(join(app, file)), { recursive: true });
      writeFileSync(join(app, file), text);
    }
    try {
      execFileSync(process.execPath, [join(app, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: app, encoding: 'utf8' });
    } catch (error) {
      throw new Error(`tsc failed for the ${kind} app:\n${(error as { stdout?: string }).stdout ?? ''}`);
    }
    expect(readdirSync(join(app, 'dist')).sort()).toEqual(['app.module.js', 'main.js', 'todo.controller.js']);

    authority = await LocalAuthority.start({ clientId: originalId });
    authority.registerApp({ clientId: originalId, clientSecret: secret, scopes: ['Todo.Read'] });
    authority.registerApp({ clientId: downstreamId, clientSecret: secret, scopes: ['Todo.Read'] });
    const start = async (clientId: string, todoUrl: string, todoScope: string): Promise<string> => {
      const port = await freePort();
      let output = '';
      const child = spawn(process.execPath, [join(app, 'dist', 'main.js')], {
        cwd: app,
        env: {
          ...process.env,
          PORT: String(port),
          AZURE_AD_INSTANCE: authority.instance,
          AZURE_AD_TENANT_ID: authority.tenantId,
          AZURE_AD_CLIENT_ID: clientId,
          AZURE_AD_CLIENT_SECRET: secret,
          TODO_API_URL: todoUrl,
          TODO_API_SCOPE: todoScope,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
      const url = `http://127.0.0.1:${port}`;
      await waitFor(`${url}/api/status`, child, () => output);
      return url;
    };
    const downstreamUrl = await start(downstreamId, 'http://127.0.0.1:9', `api://${downstreamId}/Todo.Read`);
    originalUrl = await start(originalId, downstreamUrl, `api://${downstreamId}/Todo.Read`);
  }, 120_000);

  afterAll(async () => {
    await authority?.close();
  });

  it('answers 200 with the right user, 403 insufficient_scope for a missing scope, 401 without a token', async () => {
    const token = authority.mintUserToken({ audience: originalId, claims: { scp: 'Todo.Read', oid: 'a1b2c3d4-0000-4000-8000-000000000001' } });
    const me = await get(`${originalUrl}/api/me`, token);
    expect(me.status).toBe(200);
    expect(JSON.parse(me.body)).toMatchObject({ objectId: 'a1b2c3d4-0000-4000-8000-000000000001', tenantId: authority.tenantId });
    const denied = await get(`${originalUrl}/api/me`, authority.mintUserToken({ audience: originalId, claims: { scp: 'Other.Read' } }));
    expectRejection(denied, 'H403');
    expect((denied.headers as Headers).get('www-authenticate')).toMatch(/scope="Todo\.Read[ "]/);
    expectRejection(await get(`${originalUrl}/api/me`), 'H0');
  });

  it('calls the second app On-Behalf-Of the same user', async () => {
    const oid = 'a1b2c3d4-0000-4000-8000-000000000002';
    const res = await get(`${originalUrl}/api/downstream`, authority.mintUserToken({ audience: originalId, claims: { scp: 'Todo.Read', oid } }));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ objectId: oid, tenantId: authority.tenantId, clientAppId: originalId });
    expect(authority.tokenRequests.onBehalfOf).toBe(1);
  });
});
