import { audienceNamesResource, checkIssuedToken } from './issued-token-check.js';

const guid = '3f1c3b8e-6a8e-4b9e-9a51-8d1f0c2a7b10';
const other = 'c0ffee00-6a8e-4b9e-9a51-8d1f0c2a7b10';
const tenant = '72f988bf-86f1-41af-91ab-2d7cd011db47';

function jwt(claims: Record<string, unknown>): string {
  return `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;
}

describe('#111 the audience rule for issued tokens', () => {
  it.each<[string, string, boolean]>([
    [guid, `api://${guid}`, true], // v2 token for api://<guid>/X
    [`api://${guid}`, `api://${guid}`, true], // v1 token
    [guid.toUpperCase(), `api://${guid}`, true],
    [guid, guid, true], // scope written <guid>/X
    [other, `api://${guid}`, false],
    [`api://${other}`, `api://${guid}`, false],
    ['https://graph.microsoft.com', 'https://graph.microsoft.com', true],
    ['https://graph.microsoft.com/', 'https://graph.microsoft.com', true],
    ['00000003-0000-0000-c000-000000000000', 'https://graph.microsoft.com', true],
    ['https://graph.microsoft.us', 'https://graph.microsoft.com', true], // same app, another cloud
    [guid, 'https://graph.microsoft.com', false],
    ['https://contoso.com/api', 'https://contoso.com/api', true],
    [guid, 'https://contoso.com/api', true], // v2 token: the app's client id, which the scope does not tell
    ['https://fabrikam.com/api', 'https://contoso.com/api', false],
  ])('aud %s for resource %s: %s', (aud, resource, expected) => {
    expect(audienceNamesResource(aud, resource)).toBe(expected);
  });

  it('reads nothing from an opaque token and refuses a JWT with no audience', () => {
    expect(checkIssuedToken('opaque-token', { tenantId: tenant, scopes: [`api://${guid}/read`] })).toBeUndefined();
    expect(() => checkIssuedToken(jwt({ tid: tenant }), { tenantId: tenant, scopes: [`api://${guid}/read`] })).toThrow(/audience "", but resource "api:\/\/.*" was asked/);
  });

  it('compares tid only when a tenant GUID was asked, and returns exp in ms', () => {
    const exp = Math.floor(Date.now() / 1000) + 600;
    expect(checkIssuedToken(jwt({ tid: tenant.toUpperCase(), aud: guid, exp }), { tenantId: tenant, scopes: [`api://${guid}/read`] })).toBe(exp * 1000);
    expect(() => checkIssuedToken(jwt({ tid: other, aud: guid, exp }), { tenantId: tenant, scopes: [`api://${guid}/read`] })).toThrow(/for tenant "c0ffee00/);
  });

  it('refuses a JWT without a string tid when a tenant GUID was asked (fails closed)', () => {
    const exp = Math.floor(Date.now() / 1000) + 600;
    for (const tid of [undefined, 42, ['x']]) {
      expect(() => checkIssuedToken(jwt({ tid, aud: guid, exp }), { tenantId: tenant, scopes: [`api://${guid}/read`] })).toThrow(/for tenant "(undefined|42|x)", but tenant/);
    }
  });
});
