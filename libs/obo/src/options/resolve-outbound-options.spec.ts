import { OboConfigurationError } from '../errors/obo.error.js';
import type { DownstreamApiOptions, OboModuleOptions } from './obo-module-options.interface.js';
import { resolveOboOptions } from './resolve-obo-options.js';

const tenantId = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const clientId = '6e74172b-be56-4843-9ff4-e66a39bb12e3';
const baseUrl = 'https://downstream.example';

function withApi(api: Partial<DownstreamApiOptions>, options: Partial<OboModuleOptions> = {}) {
  return resolveOboOptions({ tenantId, clientId, clientSecret: 'secret', downstreamApis: { orders: { baseUrl, scopes: [], ...api } }, ...options } as OboModuleOptions);
}

function failure(api: Partial<DownstreamApiOptions>, options: Partial<OboModuleOptions> = {}): OboConfigurationError {
  try {
    withApi(api, options);
  } catch (error) {
    expect(error).toBeInstanceOf(OboConfigurationError);
    return error as OboConfigurationError;
  }
  throw new Error('expected a configuration error');
}

describe('#113 downstream scope rules at startup', () => {
  it.each<[string, Partial<DownstreamApiOptions>, RegExp]>([
    ['an OBO API mixing .default with a Graph permission', { scopes: ['api://B/.default', 'User.Read'] }, /2 resources .*"api:\/\/B".*"https:\/\/graph\.microsoft\.com".*one downstream API per resource/],
    ['an OBO API naming two resources', { scopes: ['https://graph.microsoft.com/User.Read', 'api://B/access'] }, /2 resources .*one downstream API per resource/],
    ['an OBO API mixing .default with a named scope of the same resource', { scopes: ['api://B/.default', 'api://B/access'] }, /"\.default" stands alone .*keep only \["api:\/\/B\/\.default"\]/],
    ['an OBO API with OpenID Connect scopes only', { scopes: ['openid', 'offline_access'] }, /names no scope of a downstream API/],
    ['an app-only API naming a permission', { scopes: ['https://graph.microsoft.com/User.Read.All'], tokenKind: 'app' }, /exactly one "<resource>\/\.default".*\["https:\/\/graph\.microsoft\.com\/\.default"\]/],
    ['an app-only API naming two resources', { scopes: ['api://A/.default', 'api://B/.default'], tokenKind: 'app' }, /2 resources .*one downstream API per resource, each with one "<resource>\/\.default"/],
    ['a scope without a resource', { scopes: ['api://B'] }, /names no resource in "api:\/\/B"/],
  ])('refuses %s, naming downstreamApis.<name>.scopes and the fix', (_name, api, fix) => {
    const error = failure(api);
    expect(error.option).toBe('downstreamApis.orders.scopes');
    expect(error.code).toBe('ERR_OBO_CONFIG_INVALID');
    expect(error.message).toContain('"downstreamApis.orders.scopes"');
    expect(error.message).toMatch(fix);
  });

  it.each<[string, Partial<DownstreamApiOptions>]>([
    ['named scopes of one resource', { scopes: ['api://B/read', 'api://B/write'] }],
    ['Graph permissions with and without the Graph prefix, plus OpenID Connect scopes', { scopes: ['User.Read', 'https://graph.microsoft.com/Mail.Read', 'openid', 'offline_access'] }],
    ['one resource written as api://<guid> and as <guid>', { scopes: [`api://${clientId}/read`, `${clientId}/write`] }],
    ['.default alone', { scopes: ['api://B/.default'] }],
    ['an app-only .default', { scopes: ['https://graph.microsoft.com/.default'], tokenKind: 'app' }],
  ])('accepts %s', (_name, api) => {
    expect(withApi(api).downstreamApis.get('orders')?.scopes).toEqual(api.scopes);
  });
});

describe('#111 the tenant of app-only downstream APIs', () => {
  const multiTenant = { tenantId: 'organizations', allowedTenants: [tenantId] };

  it('refuses an app-only API without a tenant on a multi-tenant configuration, naming downstreamApis.<name>.tenantId', () => {
    const error = failure({ scopes: ['api://B/.default'], tokenKind: 'app' }, multiTenant);
    expect(error.option).toBe('downstreamApis.orders.tenantId');
    expect(error.message).toMatch(/required for an app-only API when tenantId is "organizations".*GUID/);
  });

  it('takes the app-only tenant as a lower-case GUID, and the configured tenant by default', () => {
    const given = withApi({ scopes: ['api://B/.default'], tokenKind: 'app', tenantId: tenantId.toUpperCase() }, multiTenant);
    expect(given.downstreamApis.get('orders')?.tenantId).toBe(tenantId);
    const fallback = withApi({ scopes: ['api://B/.default'], tokenKind: 'app' }, { tenantId: tenantId.toUpperCase() });
    expect(fallback.downstreamApis.get('orders')?.tenantId).toBe(tenantId);
  });

  it.each(['contoso.onmicrosoft.com', 'common', 'organizations'])('refuses the app-only tenant %s: a GUID is needed', (tenant) => {
    expect(failure({ scopes: ['api://B/.default'], tokenKind: 'app', tenantId: tenant }).option).toBe('downstreamApis.orders.tenantId');
  });

  it('refuses a tenant on a user (On-Behalf-Of) API: OBO asks the user\u2019s tenant', () => {
    expect(failure({ scopes: ['api://B/read'], tenantId }).message).toMatch(/only applies to app-only APIs/);
  });
});

describe('#114 the clientAssertion option', () => {
  const resolve = (clientAssertion: unknown) => resolveOboOptions({ tenantId, clientId, clientAssertion } as OboModuleOptions);

  it('takes a callback, or { federatedTokenFile } with an absolute path', () => {
    const callback = () => Promise.resolve('assertion');
    expect(resolve(callback).credential).toEqual({ kind: 'assertion', clientAssertion: callback });
    expect(resolve({ federatedTokenFile: '/var/run/secrets/azure/tokens/azure-identity-token' }).credential).toEqual({
      kind: 'assertion',
      federatedTokenFile: '/var/run/secrets/azure/tokens/azure-identity-token',
    });
  });

  it.each([['an unset environment variable', { federatedTokenFile: undefined }], ['a relative path', { federatedTokenFile: 'token' }], ['a string', 'eyJ...']])(
    'refuses %s, naming AZURE_FEDERATED_TOKEN_FILE',
    (_name, value) => {
      expect(() => resolve(value)).toThrow(/"clientAssertion" must be a function .* \{ federatedTokenFile: <absolute path> \}.*AZURE_FEDERATED_TOKEN_FILE/);
    },
  );
});

describe('#102 the knownAuthorities option', () => {
  const resolve = (knownAuthorities: unknown, instance?: string) => resolveOboOptions({ tenantId, clientId, instance, knownAuthorities } as OboModuleOptions);

  it('is the instance host, then the configured hosts (lower case, each once)', () => {
    expect(resolve(undefined).knownAuthorities).toEqual(['login.microsoftonline.com']);
    expect(resolve([`${tenantId}.CIAMLOGIN.com`, 'contoso.ciamlogin.com', `${tenantId}.ciamlogin.com`], 'https://contoso.ciamlogin.com/').knownAuthorities).toEqual([
      'contoso.ciamlogin.com',
      `${tenantId}.ciamlogin.com`,
    ]);
    expect(resolve(['127.0.0.1:8443']).knownAuthorities).toEqual(['login.microsoftonline.com', '127.0.0.1:8443']);
  });

  it.each([['a URL', 'https://contoso.ciamlogin.com/'], ['a path', 'contoso.ciamlogin.com/tenant'], ['an empty string', ''], ['a port out of range', 'host:70000']])(
    'refuses %s, naming the entry and the form it needs',
    (_name, host) => {
      expect(() => resolve([host])).toThrow(/"knownAuthorities\[0\]" must be a host name with an optional port, without scheme or path/);
    },
  );
});
