import { downstreamConfig } from './downstream-config.js';

const OIDC: NodeJS.ProcessEnv = {
  AUTH_PROVIDER: 'oidc',
  OIDC_ISSUER: 'https://tenant.example.test/',
  OIDC_AUDIENCE: 'https://downstream.example.test/',
  OIDC_PROFILE: 'auth0',
};

describe('downstreamConfig with AUTH_PROVIDER=oidc', () => {
  it('trusts the issuer for the audience under the profile, and nothing else (no client: it calls no API)', () => {
    expect(downstreamConfig({ ...OIDC, HOST: '127.0.0.2', PORT: '5102' })).toEqual({
      host: '127.0.0.2',
      port: 5102,
      obo: { issuer: 'https://tenant.example.test/', audience: 'https://downstream.example.test/', tokenProfile: 'auth0' },
    });
  });

  it('leaves tokenProfile to the library default when OIDC_PROFILE is empty or unset', () => {
    expect(downstreamConfig({ ...OIDC, OIDC_PROFILE: '' }).obo.tokenProfile).toBeUndefined();
    expect(downstreamConfig({ ...OIDC, OIDC_PROFILE: undefined }).obo.tokenProfile).toBeUndefined();
  });

  it.each(['OIDC_ISSUER', 'OIDC_AUDIENCE'])('refuses to start without %s and says which variable to set and where it is documented', (name) => {
    expect(() => downstreamConfig({ ...OIDC, [name]: undefined })).toThrow(`Set ${name} (see "Sample: apps/downstream-api" in the README).`);
    expect(() => downstreamConfig({ ...OIDC, [name]: '' })).toThrow(`Set ${name} `);
  });

  it('refuses an unknown AUTH_PROVIDER, naming the two it knows', () => {
    expect(() => downstreamConfig({ ...OIDC, AUTH_PROVIDER: 'keycloak' })).toThrow('AUTH_PROVIDER must be "entra" or "oidc" (got "keycloak").');
  });

  it('refuses a PORT that is not a port number', () => {
    expect(() => downstreamConfig({ ...OIDC, PORT: '70000' })).toThrow('PORT must be a port number (got "70000").');
  });

  it('stays on Entra ID when AUTH_PROVIDER is unset, ignoring the OIDC variables', () => {
    const { obo } = downstreamConfig({ ...OIDC, AUTH_PROVIDER: undefined, AZURE_AD_TENANT_ID: '72f988bf-86f1-41af-91ab-2d7cd011db47', AZURE_AD_CLIENT_ID: 'entra-client' });
    expect(obo).toEqual({
      instance: undefined,
      tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
      clientId: 'entra-client',
      protectedResource: { resource: 'http://127.0.0.1:5002', resourceName: 'Downstream API (nestjs-obo sample)' },
    });
  });
});

describe('downstreamConfig: RFC 9728 metadata', () => {
  const entra = { AZURE_AD_TENANT_ID: '72f988bf-86f1-41af-91ab-2d7cd011db47', AZURE_AD_CLIENT_ID: 'entra-client' };
  it('publishes PUBLIC_URL when set, else the fixed loopback URL it listens on, else nothing', () => {
    expect(downstreamConfig({ ...entra, PUBLIC_URL: 'https://downstream.contoso.test' }).obo.protectedResource?.resource).toBe('https://downstream.contoso.test');
    expect(downstreamConfig({ ...entra, PORT: '7002' }).obo.protectedResource?.resource).toBe('http://127.0.0.1:7002');
    expect(downstreamConfig({ ...entra, PORT: '0' }).obo.protectedResource).toBeUndefined();
    expect(downstreamConfig({ ...entra, HOST: '0.0.0.0' }).obo.protectedResource).toBeUndefined();
  });
});
