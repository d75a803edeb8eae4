import { OboConfigurationError } from '../errors/obo.error.js';
import type { OboModuleOptions } from './obo-module-options.interface.js';
import { resolveOboOptions } from './resolve-obo-options.js';
import type { ResolvedEntraAuthority } from '../authority/resolve-authority.js';

const tenantId = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const clientId = '6e74172b-be56-4843-9ff4-e66a39bb12e3';

function failure(options: Partial<OboModuleOptions>): OboConfigurationError {
  try {
    resolveOboOptions({ tenantId, clientId, ...options } as OboModuleOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(OboConfigurationError);
    return error as OboConfigurationError;
  }
  throw new Error('expected a configuration error');
}

describe('resolveOboOptions', () => {
  it('applies secure defaults: public cloud, both token versions, RS256, 60 s skew, client id and api:// audiences', () => {
    const resolved = resolveOboOptions({ tenantId, clientId });
    expect(resolved.instance).toBe('https://login.microsoftonline.com/');
    expect([...resolved.acceptedTokenVersions]).toEqual(['1.0', '2.0']);
    expect(resolved.algorithms).toEqual(['RS256']);
    expect(resolved.clockToleranceSeconds).toBe(60);
    expect(resolved.maxTokenLength).toBe(16_384); // #110: Node's default header limit, so every token Node delivers fits
    expect(resolved.audience).toEqual([clientId, `api://${clientId}`]);
    // #100: the public cloud's v1.0 issuer comes from the cloud table; only the v2.0 document is fetched.
    expect(resolved.authority).toEqual({
      kind: 'entra',
      flavour: 'workforce',
      cloud: 'AzurePublic',
      discoveryUrlV2: `https://login.microsoftonline.com/${tenantId}/v2.0/.well-known/openid-configuration`,
      discoveryUrlV1: undefined,
      issuerV1: 'https://sts.windows.net/{tenantid}/',
    });
    expect(resolved.jwks).toEqual({ cacheMaxAgeSeconds: 600, cooldownSeconds: 30, failureBackoffSeconds: 5, timeoutMs: 5000, maxResponseBytes: 524288, appSpecificKeys: false });
  });

  it('derives discovery URLs from the instance alone, so a sovereign cloud or local authority needs one option', () => {
    const resolved = resolveOboOptions({ tenantId, clientId, instance: 'https://login.microsoftonline.us', acceptedTokenVersions: ['2.0'] });
    expect((resolved.authority as ResolvedEntraAuthority).discoveryUrlV2).toBe(`https://login.microsoftonline.us/${tenantId}/v2.0/.well-known/openid-configuration`);
    expect((resolved.authority as ResolvedEntraAuthority).discoveryUrlV1).toBeUndefined();
  });

  describe('#100 the v1.0 issuer without the v1.0 document', () => {
    it.each([
      ['https://login.microsoftonline.com/', 'AzurePublic', 'https://sts.windows.net/{tenantid}/'],
      ['https://login.microsoftonline.us/', 'AzureUsGovernment', 'https://sts.windows.net/{tenantid}/'],
      ['https://login.chinacloudapi.cn/', 'AzureChina', 'https://sts.chinacloudapi.cn/{tenantid}/'],
      ['https://login.partner.microsoftonline.cn/', 'AzureChina', 'https://sts.chinacloudapi.cn/{tenantid}/'],
    ])('knows the v1.0 issuer of %s from the cloud table (%s) and fetches no v1.0 document', (instance, cloud, issuerV1) => {
      const { authority } = resolveOboOptions({ tenantId, clientId, instance });
      expect(authority).toMatchObject({ flavour: 'workforce', cloud, issuerV1, discoveryUrlV1: undefined });
    });

    it('takes azureCloudInstance over the host, for a proxy or a host the table does not list', () => {
      const { authority } = resolveOboOptions({ tenantId, clientId, instance: 'https://login.proxy.contoso.test/', azureCloudInstance: 'AzureChina' });
      expect(authority).toMatchObject({ cloud: 'AzureChina', issuerV1: 'https://sts.chinacloudapi.cn/{tenantid}/', discoveryUrlV1: undefined });
    });

    it('falls back to the v1.0 document only for a host no table names (a local authority)', () => {
      const { authority } = resolveOboOptions({ tenantId, clientId, instance: 'https://127.0.0.1:8443/' });
      expect(authority).toMatchObject({ cloud: undefined, issuerV1: undefined, discoveryUrlV1: `https://127.0.0.1:8443/${tenantId}/.well-known/openid-configuration` });
    });

    it('refuses an unknown azureCloudInstance, naming the choices', () => {
      expect(failure({ azureCloudInstance: 'AzureGermany' as never }).message).toBe(
        'OboModule option "azureCloudInstance" must be one of AzurePublic, AzureUsGovernment, AzureChina (or msal-node\'s AzureCloudInstance value for one of them) (got "AzureGermany").',
      );
    });

    it('takes msal-node\'s AzureCloudInstance values (authority URLs) for the clouds they name', () => {
      const { authority } = resolveOboOptions({ tenantId, clientId, instance: 'https://login.proxy.contoso.test/', azureCloudInstance: 'https://login.chinacloudapi.cn' as never });
      expect(authority).toMatchObject({ cloud: 'AzureChina', issuerV1: 'https://sts.chinacloudapi.cn/{tenantid}/' });
    });

    it('refuses an azureCloudInstance that contradicts the instance host, or one set for External ID', () => {
      expect(failure({ instance: 'https://login.chinacloudapi.cn/', azureCloudInstance: 'AzurePublic' }).message).toBe(
        'OboModule option "azureCloudInstance" says AzurePublic, but the instance host login.chinacloudapi.cn belongs to AzureChina; remove azureCloudInstance (the host is enough) or fix instance.',
      );
      expect(failure({ instance: 'https://contoso.ciamlogin.com/', azureCloudInstance: 'AzurePublic' }).message).toContain('does not apply to External ID');
    });

    it('accepts only v2.0 tokens by default on External ID (ciamlogin.com), fetching nothing for v1.0', () => {
      const resolved = resolveOboOptions({ tenantId, clientId, instance: 'https://contoso.ciamlogin.com/' });
      expect([...resolved.acceptedTokenVersions]).toEqual(['2.0']);
      expect(resolved.authority).toMatchObject({ flavour: 'external-id', cloud: undefined, issuerV1: undefined, discoveryUrlV1: undefined });
      expect((resolved.authority as ResolvedEntraAuthority).discoveryUrlV2).toBe(`https://contoso.ciamlogin.com/${tenantId}/v2.0/.well-known/openid-configuration`);
    });
  });

  describe('#105 Azure AD B2C', () => {
    it.each(['https://contoso.b2clogin.com/', 'https://CONTOSO.B2CLOGIN.COM/'])('refuses the B2C instance %s at startup, saying why and what to use', (instance) => {
      const error = failure({ instance });
      expect(error.option).toBe('instance');
      expect(error.message).toContain('Azure AD B2C');
      expect(error.message).toContain('no On-Behalf-Of');
      expect(error.message).toContain('ciamlogin.com');
    });
  });

  it('lower-cases configured GUIDs so they compare exactly with Entra tid claims', () => {
    const resolved = resolveOboOptions({ tenantId: tenantId.toUpperCase(), clientId: clientId.toUpperCase() });
    expect(resolved.tenantId).toBe(tenantId);
    expect(resolved.clientId).toBe(clientId);
  });

  it('accepts a multi-tenant API only together with an allow-list of tenant GUIDs', () => {
    const resolved = resolveOboOptions({ tenantId: 'organizations', clientId, allowedTenants: [tenantId] });
    expect(resolved.multiTenant).toBe(true);
    expect([...resolved.allowedTenants]).toEqual([tenantId]);
    expect(failure({ tenantId: 'organizations' }).option).toBe('allowedTenants');
    expect(failure({ tenantId: 'common', allowedTenants: ['contoso.com'] }).option).toBe('allowedTenants[0]');
    expect(failure({ allowedTenants: [tenantId] }).message).toContain('only applies to a multi-tenant API');
  });

  it.each<[string, Partial<OboModuleOptions>, string]>([
    ['tenantId', { tenantId: 'consumers' }, 'directory (tenant) GUID'],
    ['tenantId', { tenantId: undefined }, 'directory (tenant) GUID'],
    ['clientId', { clientId: 'my-api' }, 'must be a GUID'],
    ['instance', { instance: 'http://login.microsoftonline.com/' }, 'https origin'],
    ['instance', { instance: 'https://login.microsoftonline.com/contoso' }, 'https origin'],
    ['instance', { instance: 'not a url' }, 'absolute https URL'],
    ['clockToleranceSeconds', { clockToleranceSeconds: 301 }, 'from 0 to 300'],
    ['clockToleranceSeconds', { clockToleranceSeconds: 1.5 }, 'whole number'],
    ['algorithms', { algorithms: ['HS256'] }, 'asymmetric'],
    ['algorithms', { algorithms: ['none'] }, 'asymmetric'],
    ['algorithms', { algorithms: [] }, 'non-empty list'],
    ['acceptedTokenVersions', { acceptedTokenVersions: ['3.0' as never] }, '"1.0" and "2.0"'],
    ['audience', { audience: [] }, 'non-empty list'],
    ['audience', { audience: [' api://x'] }, 'surrounding spaces'],
    ['maxTokenLength', { maxTokenLength: 10 }, 'from 256'],
    ['scopeClaim', { scopeClaim: 'has space' }, 'claim name'],
    ['realm', { realm: 'a"b' }, 'without quotes'],
    ['jwks.timeoutMs', { jwks: { timeoutMs: 0 } }, 'from 100'],
    ['jwks.appSpecificKeys', { jwks: { appSpecificKeys: 'yes' as never } }, 'true or false'],
  ])('refuses a bad %s at startup with a message that says how to fix it (%j)', (option, options, fix) => {
    const error = failure(options);
    expect(error.code).toBe('ERR_OBO_CONFIG_INVALID');
    expect(error.option).toBe(option);
    expect(error.message).toContain(`OboModule option "${option}"`);
    expect(error.message).toContain(fix);
  });
});
