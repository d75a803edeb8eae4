import { mcpConfig } from './mcp-config.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const ENTRA: NodeJS.ProcessEnv = {
  AZURE_AD_INSTANCE: 'https://login.microsoftonline.com/',
  AZURE_AD_TENANT_ID: TENANT,
  AZURE_AD_CLIENT_ID: 'mcp-server-client',
  AZURE_AD_CLIENT_SECRET: 'mcp-secret',
  DOWNSTREAM_API_BASE_URL: 'http://127.0.0.1:5002',
  DOWNSTREAM_API_SCOPES: 'api://downstream-id/Downstream.Read',
};
const OIDC: NodeJS.ProcessEnv = {
  AUTH_PROVIDER: 'oidc',
  OIDC_ISSUER: 'https://tenant.example.test/',
  OIDC_AUDIENCE: 'https://mcp.example.test/mcp',
  OIDC_PROFILE: 'auth0',
  OIDC_CLIENT_ID: 'mcp-client',
  OIDC_CLIENT_SECRET: 'mcp-secret',
  DOWNSTREAM_API_BASE_URL: 'http://127.0.0.1:5002',
  DOWNSTREAM_API_AUDIENCE: 'https://downstream.example.test/',
  DOWNSTREAM_API_SCOPES: 'Downstream.Read',
};

describe('mcpConfig', () => {
  it('on Entra ID (the default): publishes http://<HOST>:<PORT>/mcp as the protected resource and calls the Downstream API On-Behalf-Of the user only', () => {
    expect(mcpConfig(ENTRA)).toEqual({
      host: '127.0.0.1',
      port: 5003,
      resource: 'http://127.0.0.1:5003/mcp',
      obo: {
        instance: 'https://login.microsoftonline.com/',
        tenantId: TENANT,
        clientId: 'mcp-server-client',
        clientSecret: 'mcp-secret',
        downstreamApis: { downstream: { baseUrl: 'http://127.0.0.1:5002', scopes: ['api://downstream-id/Downstream.Read'] } },
        protectedResource: { resource: 'http://127.0.0.1:5003/mcp', resourceName: 'nestjs-obo sample MCP server' },
      },
    });
  });

  it('takes MCP_RESOURCE as the resource identifier when the server sits behind a proxy or a public name', () => {
    const config = mcpConfig({ ...ENTRA, MCP_RESOURCE: 'https://mcp.contoso.com/mcp', HOST: '0.0.0.0', PORT: '8080' });
    expect(config).toMatchObject({ host: '0.0.0.0', port: 8080, resource: 'https://mcp.contoso.com/mcp' });
    expect(config.obo.protectedResource?.resource).toBe('https://mcp.contoso.com/mcp');
  });

  it('refuses PORT=0 without MCP_RESOURCE (the port, hence the resource, is unknown until it listens)', () => {
    expect(() => mcpConfig({ ...ENTRA, PORT: '0' })).toThrow('Set MCP_RESOURCE to the MCP endpoint URL clients use (with PORT=0 the port is not known in advance).');
    expect(mcpConfig({ ...ENTRA, PORT: '0', MCP_RESOURCE: 'http://127.0.0.1:4000/mcp' }).resource).toBe('http://127.0.0.1:4000/mcp');
  });

  it('with AUTH_PROVIDER=oidc: the issuer, audience, profile and client, and the Downstream API by audience', () => {
    expect(mcpConfig(OIDC).obo).toEqual({
      issuer: 'https://tenant.example.test/',
      audience: 'https://mcp.example.test/mcp',
      tokenProfile: 'auth0',
      clientId: 'mcp-client',
      clientSecret: 'mcp-secret',
      downstreamApis: { downstream: { baseUrl: 'http://127.0.0.1:5002', audience: 'https://downstream.example.test/', scopes: ['Downstream.Read'] } },
      protectedResource: { resource: 'http://127.0.0.1:5003/mcp', resourceName: 'nestjs-obo sample MCP server' },
    });
  });

  it.each([
    ['entra', ENTRA, ['AZURE_AD_TENANT_ID', 'AZURE_AD_CLIENT_ID', 'AZURE_AD_CLIENT_SECRET', 'DOWNSTREAM_API_BASE_URL', 'DOWNSTREAM_API_SCOPES']],
    ['oidc', OIDC, ['OIDC_ISSUER', 'OIDC_AUDIENCE', 'OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET', 'DOWNSTREAM_API_AUDIENCE', 'DOWNSTREAM_API_BASE_URL', 'DOWNSTREAM_API_SCOPES']],
  ] as const)('on %s refuses to start without each required variable, naming it and where it is documented', (_provider, env, names) => {
    for (const name of names) {
      expect(() => mcpConfig({ ...env, [name]: undefined })).toThrow(`Set ${name} (see "Sample: apps/mcp-server" in the README).`);
      expect(() => mcpConfig({ ...env, [name]: '' })).toThrow(`Set ${name} `);
    }
  });

  it('refuses an unknown AUTH_PROVIDER and a PORT that is not a port number', () => {
    expect(() => mcpConfig({ ...ENTRA, AUTH_PROVIDER: 'okta' })).toThrow('AUTH_PROVIDER must be "entra" or "oidc" (got "okta").');
    expect(() => mcpConfig({ ...ENTRA, PORT: '70000' })).toThrow('PORT must be a port number (got "70000").');
  });
});
