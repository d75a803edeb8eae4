import { originalConfig } from './original-config.js';

const ISSUER = 'https://tenant.example.test/';
const OIDC: NodeJS.ProcessEnv = {
  AUTH_PROVIDER: 'oidc',
  OIDC_ISSUER: ISSUER,
  OIDC_AUDIENCE: 'https://original.example.test/',
  OIDC_PROFILE: 'auth0',
  OIDC_CLIENT_ID: 'original-client',
  OIDC_CLIENT_SECRET: 'original-secret',
  DOWNSTREAM_API_BASE_URL: 'http://127.0.0.1:5002',
  DOWNSTREAM_API_AUDIENCE: 'https://downstream.example.test/',
  DOWNSTREAM_API_SCOPES: 'Downstream.Read',
};

describe('originalConfig with AUTH_PROVIDER=oidc', () => {
  it('names the issuer, audience, profile and client, and reaches the Downstream API by audience: delegated scopes as given, app scopes with .All', () => {
    expect(originalConfig({ ...OIDC, PORT: '0' })).toEqual({
      host: '127.0.0.1',
      port: 0,
      obo: {
        issuer: ISSUER,
        audience: 'https://original.example.test/',
        tokenProfile: 'auth0',
        clientId: 'original-client',
        clientSecret: 'original-secret',
        downstreamApis: {
          downstream: { baseUrl: 'http://127.0.0.1:5002', audience: 'https://downstream.example.test/', scopes: ['Downstream.Read'] },
          downstreamAsApp: { baseUrl: 'http://127.0.0.1:5002', audience: 'https://downstream.example.test/', scopes: ['Downstream.Read.All'], tokenKind: 'app' },
        },
        distributedCache: undefined,
      },
    });
  });

  it('splits DOWNSTREAM_API_SCOPES on spaces and asks app tokens for each scope with .All', () => {
    const { downstreamApis } = originalConfig({ ...OIDC, DOWNSTREAM_API_SCOPES: ' Orders.Read  Orders.Write ' }).obo;
    expect(downstreamApis?.downstream?.scopes).toEqual(['Orders.Read', 'Orders.Write']);
    expect(downstreamApis?.downstreamAsApp?.scopes).toEqual(['Orders.Read.All', 'Orders.Write.All']);
  });

  it('leaves tokenProfile to the library default when OIDC_PROFILE is empty or unset', () => {
    expect(originalConfig({ ...OIDC, OIDC_PROFILE: '' }).obo.tokenProfile).toBeUndefined();
    expect(originalConfig({ ...OIDC, OIDC_PROFILE: undefined }).obo.tokenProfile).toBeUndefined();
  });

  it('adds the shared Redis cache with its encryption keys when REDIS_URL is set', () => {
    const { obo } = originalConfig({ ...OIDC, REDIS_URL: 'redis://127.0.0.1:6379', TOKEN_CACHE_ENCRYPTION_KEY: 'a2V5LW9uZQ==, a2V5LXR3bw==' });
    expect(obo.distributedCache).toEqual({ redis: 'redis://127.0.0.1:6379', encryptionKeys: ['a2V5LW9uZQ==', 'a2V5LXR3bw=='] });
  });

  it.each(['OIDC_ISSUER', 'OIDC_AUDIENCE', 'OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET', 'DOWNSTREAM_API_AUDIENCE', 'DOWNSTREAM_API_BASE_URL', 'DOWNSTREAM_API_SCOPES'])(
    'refuses to start without %s and says which variable to set and where it is documented',
    (name) => {
      expect(() => originalConfig({ ...OIDC, [name]: undefined })).toThrow(`Set ${name} (see "Sample: apps/original-api" in the README).`);
      expect(() => originalConfig({ ...OIDC, [name]: '' })).toThrow(`Set ${name} `);
    },
  );

  it('does not read the Entra variables (AZURE_AD_*) under oidc', () => {
    const { obo } = originalConfig({ ...OIDC, AZURE_AD_TENANT_ID: '72f988bf-86f1-41af-91ab-2d7cd011db47', AZURE_AD_CLIENT_SECRET: 'entra-secret' });
    expect(obo).not.toHaveProperty('tenantId');
    expect(obo.clientSecret).toBe('original-secret');
  });

  it('refuses an unknown AUTH_PROVIDER, naming the two it knows', () => {
    expect(() => originalConfig({ ...OIDC, AUTH_PROVIDER: 'auth0' })).toThrow('AUTH_PROVIDER must be "entra" or "oidc" (got "auth0").');
  });

  it('stays on Entra ID when AUTH_PROVIDER is unset, ignoring the OIDC variables', () => {
    const { obo } = originalConfig({
      ...OIDC,
      AUTH_PROVIDER: undefined,
      AZURE_AD_TENANT_ID: '72f988bf-86f1-41af-91ab-2d7cd011db47',
      AZURE_AD_CLIENT_ID: 'entra-client',
      AZURE_AD_CLIENT_SECRET: 'entra-secret',
      DOWNSTREAM_API_SCOPES: 'api://downstream-id/Downstream.Read',
    });
    expect(obo).toMatchObject({ tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47', clientId: 'entra-client', clientSecret: 'entra-secret' });
    expect(obo).not.toHaveProperty('issuer');
    expect(obo.downstreamApis?.downstreamAsApp?.scopes).toEqual(['api://downstream-id/.default']);
  });
});
