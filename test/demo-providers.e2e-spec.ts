// `npm start -- --provider <name>`: the demo walks the same On-Behalf-Of chain against a local
// authority of each provider's shape, with both sample APIs as real processes, and checks itself.
// The Entra walkthrough (the default) is covered in downstream-api.e2e-spec.ts.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const demo = join(root, 'dist/apps/demo/src/main.js');
if (!existsSync(demo)) throw new Error('Build first: `npm test` runs `npm run build` before jest.');

/** Runs the built demo with `args`; its output without colour codes. */
function runDemo(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [demo, ...args], { encoding: 'utf8', timeout: 90_000, cwd: root, env: { ...process.env, NO_COLOR: '1' } });
  const plain = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '');
  return { status: result.status, stdout: plain(result.stdout), stderr: plain(result.stderr) };
}

describe('npm start -- --provider auth0 (the demo on an Auth0-shaped authority)', () => {
  let run: ReturnType<typeof runDemo>;
  beforeAll(() => {
    run = runDemo('--provider', 'auth0', '--once');
  });

  it('walks the chain and its self-check passes', () => {
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('Demo self-check passed.');
    expect(run.status).toBe(0);
  });

  it('runs both sample APIs with AUTH_PROVIDER=oidc against the Auth0-shaped issuer (trailing slash, /oauth/token)', () => {
    const issuer = /Local authority \(Auth0 shape\): issuer (https:\/\/127\.0\.0\.1:\d+\/), token endpoint \1oauth\/token/.exec(run.stdout)?.[1];
    expect(issuer).toBeDefined();
    for (const app of ['downstream-api', 'original-api']) {
      expect(run.stdout).toContain(`[${app}] `);
      expect(run.stdout).toMatch(new RegExp(`\\[${app}\\] .*Authority ${issuer!.replace(/[.]/g, '\\.')} \\(auth0 profile\\): issuer ${issuer!.replace(/[.]/g, '\\.')};`));
    }
  });

  it('prints the user token claims of the Auth0 dialect (aud, scope, sub, azp), never a whole token', () => {
    expect(run.stdout).toMatch(/aud="https:\/\/original\.example\.test\/" scope="access_as_user" sub="auth0\|[0-9a-f]{24}" azp="[^"]+"/);
    expect(run.stdout).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\./);
  });

  it('reaches the same user downstream by one RFC 8693 token exchange, then serves the repeat call from the cache', () => {
    expect(run.stdout).toMatch(/GET \/api\/profile -> 200/);
    const caller = /caller\.objectId {5}= (auth0\|[0-9a-f]{24})/.exec(run.stdout)?.[1];
    expect(caller).toBeDefined();
    expect(run.stdout).toContain(`downstream.objectId = ${caller}   (the same user)`);
    expect(run.stdout).toMatch(/downstream\.clientAppId = [0-9a-f]{32} {3}\(the Original API, acting for the user\)/);
    expect(run.stdout).toContain('identity provider token exchange requests so far: 1');
    expect(run.stdout).toContain('token exchange requests still 1 (served from our token cache)');
  });

  it('answers a token without access_as_user with 403 insufficient_scope', () => {
    expect(run.stdout).toMatch(/A token without the access_as_user scope -> 403\n {3}WWW-Authenticate: Bearer error="insufficient_scope"/);
  });

  it('relays the authority\'s RFC 9470 step-up to the client as a 401 with acr_values and max_age', () => {
    expect(run.stdout).toMatch(/\(RFC 9470 step-up\) -> 401; the challenge reaches the client:\n {3}WWW-Authenticate: Bearer error="insufficient_user_authentication", /);
    expect(run.stdout).toContain('acr_values="http://schemas.openid.net/pape/policies/2007/06/multi-factor", max_age="300"');
  });

  it('serves an Auth0 machine token with permission Profile.Read.All, calling downstream with the Original API\'s own machine token', () => {
    expect(run.stdout).toContain('GET /api/app-profile 200; downstream sees tokenKind=app, roles=["Downstream.Read.All"]');
  });
});

describe('npm start -- --provider <unknown>', () => {
  it('refuses before starting anything, naming the providers it knows', () => {
    const run = runDemo('--provider', 'okta', '--once');
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toBe('Unknown provider "okta": --provider must be one of entra, auth0.');
    expect(run.stdout).toBe('');
  });
});
