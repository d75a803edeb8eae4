import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LocalAuthority } from 'nestjs-obo/testing';
import { spawnApp, type RunningApp } from '../apps/demo/src/spawn-app.js';
import { expectRejection, get } from './support/expect-rejection.js';

const root = join(import.meta.dirname, '..');
const entry = join(root, 'dist/apps/downstream-api/src/main.js');
const demo = join(root, 'dist/apps/demo/src/main.js');
if (!existsSync(entry) || !existsSync(demo)) throw new Error('Build first: `npm test` runs `npm run build` before jest.');

/** Starts the built apps/downstream-api as a child process on a free port, configured for `authority`. */
function spawnDownstreamApi(name: string, authority: LocalAuthority): Promise<RunningApp> {
  return spawnApp(name, entry, {
    ...process.env,
    PORT: '0',
    AZURE_AD_INSTANCE: authority.instance,
    AZURE_AD_TENANT_ID: authority.tenantId,
    AZURE_AD_CLIENT_ID: authority.clientId,
  }, 30_000);
}

describe('apps/downstream-api as a real process', () => {
  let authority: LocalAuthority;
  let api: RunningApp;
  beforeAll(async () => {
    authority = await LocalAuthority.start();
    api = await spawnDownstreamApi('downstream-api', authority);
  });
  afterAll(async () => {
    await api?.stop();
    await authority?.close();
  });

  it('GET /api/whoami answers a user with scope Downstream.Read from the validated token', async () => {
    const oid = '0a1b2c3d-0000-4000-8000-00000000000a';
    const res = await get(`${api.url}/api/whoami`, authority.mintUserToken({ claims: { scp: 'Downstream.Read', oid } }));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({
      objectId: oid,
      subject: expect.any(String),
      tenantId: authority.tenantId,
      clientAppId: expect.any(String),
      scopes: ['Downstream.Read'],
      roles: [],
      tokenKind: 'user',
    });
  });

  it('GET /api/whoami answers an app-only caller with permission Downstream.Read.All', async () => {
    const res = await get(`${api.url}/api/whoami`, authority.mintAppToken({ claims: { roles: ['Downstream.Read.All'] } }));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ tokenKind: 'app', scopes: [], roles: ['Downstream.Read.All'] });
  });

  it('GET /api/whoami refuses a user who holds the app permission as a role but not the scope (403)', async () => {
    const token = authority.mintUserToken({ claims: { scp: 'Other.Scope', roles: ['Downstream.Read.All'] } });
    const body = expectRejection(await get(`${api.url}/api/whoami`, token), 'H403');
    expect(body.code).toBe('ERR_OBO_INSUFFICIENT_SCOPE');
  });

  it('GET /api/whoami without a token is 401 with a bare Bearer challenge', async () => {
    expectRejection(await get(`${api.url}/api/whoami`), 'H0');
  });

  it('GET /health answers 200 without a token, even while the authority JWKS is down', async () => {
    authority.jwksFault = 'status-500';
    authority.discoveryFault = 'status-500';
    try {
      const res = await get(`${api.url}/health`);
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toEqual({ status: 'ok' });
    } finally {
      authority.jwksFault = 'none';
      authority.discoveryFault = 'none';
    }
  });

  it('shuts down on SIGTERM through Nest shutdown hooks (exits by the re-raised signal, not a crash)', async () => {
    const extra = await spawnDownstreamApi('downstream-api-2', authority);
    const exited = new Promise<[number | null, string | null]>((resolve) => extra.child.once('exit', (code, signal) => resolve([code, signal])));
    await extra.stop();
    expect(await exited).toEqual([null, 'SIGTERM']);
  });

  it('refuses to start with a bad AZURE_AD_TENANT_ID and says which option to fix', () => {
    const result = spawnSync(process.execPath, [entry], {
      env: { ...process.env, PORT: '0', AZURE_AD_TENANT_ID: 'contoso', AZURE_AD_CLIENT_ID: authority.clientId },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).not.toBe(0);
    expect(`${result.stdout}${result.stderr}`).toContain('OboModule option "tenantId" must be the directory (tenant) GUID');
  });
});

describe('npm start (the demo)', () => {
  it('runs the authority and both sample APIs, walks the On-Behalf-Of chain, and its self-check passes', () => {
    const result = spawnSync(process.execPath, [demo, '--once'], { encoding: 'utf8', timeout: 90_000, cwd: root });
    expect(result.stdout).toMatch(/GET \/api\/profile -> 200/);
    expect(result.stdout).toMatch(/OBO requests still 1 \(served from our token cache\)/);
    expect(result.stdout).toContain('error="insufficient_claims"');
    expect(result.stdout).toContain('Demo self-check passed.');
    expect(result.status).toBe(0);
    // The walkthrough prints claims, never a whole token.
    expect(result.stdout).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\./);
  });
});
