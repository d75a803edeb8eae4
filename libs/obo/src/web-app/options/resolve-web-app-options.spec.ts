import { OboConfigurationError } from '../../errors/obo.error.js';
import type { OboWebAppModuleOptions } from './web-app-module-options.interface.js';
import { resolveWebAppOptions } from './resolve-web-app-options.js';

const TENANT = '11111111-1111-1111-1111-111111111111';
const CLIENT = '22222222-2222-2222-2222-222222222222';
const valid: OboWebAppModuleOptions = { tenantId: TENANT, clientId: CLIENT, clientSecret: 'secret', redirectUri: 'https://app.contoso.com/auth/redirect' };

function refusal(options: Partial<OboWebAppModuleOptions>): OboConfigurationError {
  try {
    resolveWebAppOptions({ ...valid, ...options } as OboWebAppModuleOptions);
  } catch (error) {
    if (error instanceof OboConfigurationError) return error;
    throw error;
  }
  throw new Error('expected a configuration error');
}

describe('resolveWebAppOptions', () => {
  it('applies the defaults: the sign-in routes, the callback at the redirect URI\u2019s path, no sign-in scopes, sessions in memory', () => {
    const resolved = resolveWebAppOptions(valid);
    expect(resolved.paths).toEqual({ signIn: '/auth/sign-in', signOut: '/auth/sign-out', backchannelLogout: '/auth/backchannel-logout', redirect: '/auth/redirect' });
    expect(resolved.scopes).toEqual([]);
    expect(resolved.session).toMatchObject({ store: 'memory', idleTimeoutSeconds: 1_800, absoluteTimeoutSeconds: 28_800, cookieName: '__Host-obo-session' });
    expect(resolved.shared.provider).toBe('entra');
  });

  it('drops the OpenID Connect scopes from the sign-in scopes (they are always asked)', () => {
    expect(resolveWebAppOptions({ ...valid, scopes: ['openid', 'api://x/access_as_user', 'offline_access'] }).scopes).toEqual(['api://x/access_as_user']);
  });

  it.each<[string, Partial<OboWebAppModuleOptions>, RegExp]>([
    ['a missing client credential', { clientSecret: undefined }, /webApp\.clientSecret.*confidential client/],
    ['a relative redirect URI', { redirectUri: '/auth/redirect' }, /webApp\.redirectUri.*absolute https URL/],
    ['plain http on a public host', { redirectUri: 'http://app.contoso.com/auth/redirect' }, /webApp\.redirectUri.*https/],
    ['a redirect URI with a query', { redirectUri: 'https://app.contoso.com/auth/redirect?x=1' }, /webApp\.redirectUri.*query/],
    ['a redirect URI with a fragment', { redirectUri: 'https://app.contoso.com/auth/redirect#x' }, /webApp\.redirectUri.*fragment/],
    ['a sign-in path equal to the callback path', { signInPath: '/auth/redirect' }, /must differ/],
    ['a path with two leading slashes', { signOutPath: '//evil' }, /webApp\.signOutPath/],
    ['a scope with a space', { scopes: ['a b'] }, /webApp\.scopes/],
    ['a multi-tenant authority', { tenantId: 'organizations', allowedTenants: [TENANT] } as Partial<OboWebAppModuleOptions>, /webApp\.tenantId.*multi-tenant/],
  ])('refuses %s at startup, naming the option', (_case, options, message) => {
    expect(refusal(options).message).toMatch(message);
  });

  it('accepts plain http on a loopback redirect URI (development) and names the cookie without the __Host- prefix', () => {
    const resolved = resolveWebAppOptions({ ...valid, redirectUri: 'http://127.0.0.1:3000/auth/redirect' });
    expect(resolved.session.cookieName).toBe('obo-session');
  });
});
