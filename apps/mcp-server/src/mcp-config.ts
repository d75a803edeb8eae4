import type { OboModuleOptions } from 'nestjs-obo';

/** Where the MCP server listens, the resource identifier it publishes, its identity and its downstream API. */
export interface McpConfig {
  readonly host: string;
  readonly port: number;
  /** The MCP endpoint's URL: RFC 9728 `resource`, what MCP clients connect to and name as RFC 8707 `resource`. */
  readonly resource: string;
  readonly obo: OboModuleOptions;
}

/** The delegated scope every MCP request needs (Entra ID: `api://<client id>/access_as_user`). */
export const MCP_SCOPE = 'access_as_user';

/** The name the tools use for the Downstream API in `downstreamApis`. */
export const DOWNSTREAM = 'downstream';

/** The path the MCP endpoint is served at. */
export const MCP_PATH = '/mcp';

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`Set ${name} (see "Sample: apps/mcp-server" in the README).`);
  return value;
}

/**
 * Reads HOST, PORT, MCP_RESOURCE (default `http://<HOST>:<PORT>/mcp`; required with PORT=0, whose
 * port is unknown until the server listens), DOWNSTREAM_API_BASE_URL, DOWNSTREAM_API_SCOPES and the
 * authority: `AUTH_PROVIDER=entra` (the default) with AZURE_AD_INSTANCE, AZURE_AD_TENANT_ID,
 * AZURE_AD_CLIENT_ID, AZURE_AD_CLIENT_SECRET (scopes such as `api://<id>/Downstream.Read`);
 * `AUTH_PROVIDER=oidc` with OIDC_ISSUER, OIDC_AUDIENCE, OIDC_PROFILE, OIDC_CLIENT_ID,
 * OIDC_CLIENT_SECRET and DOWNSTREAM_API_AUDIENCE (plain scopes such as `Downstream.Read`).
 * The tools call the Downstream API only On-Behalf-Of the user: no app-only API is configured.
 * @throws Error naming the variable to set or fix.
 */
export function mcpConfig(env: NodeJS.ProcessEnv = process.env): McpConfig {
  const host = env.HOST ?? '127.0.0.1';
  const port = Number(env.PORT ?? 5003);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number (got "${env.PORT}").`);
  if (!env.MCP_RESOURCE && port === 0) throw new Error('Set MCP_RESOURCE to the MCP endpoint URL clients use (with PORT=0 the port is not known in advance).');
  const resource = env.MCP_RESOURCE || `http://${host}:${port}${MCP_PATH}`;
  const baseUrl = required(env, 'DOWNSTREAM_API_BASE_URL');
  const scopes = required(env, 'DOWNSTREAM_API_SCOPES').split(' ').filter(Boolean);
  const protectedResource = { resource, resourceName: 'nestjs-obo sample MCP server' };
  const provider = env.AUTH_PROVIDER ?? 'entra';
  if (provider === 'oidc') {
    return {
      host,
      port,
      resource,
      obo: {
        issuer: required(env, 'OIDC_ISSUER'),
        audience: required(env, 'OIDC_AUDIENCE'),
        tokenProfile: (env.OIDC_PROFILE || undefined) as OboModuleOptions['tokenProfile'],
        clientId: required(env, 'OIDC_CLIENT_ID'),
        clientSecret: required(env, 'OIDC_CLIENT_SECRET'),
        downstreamApis: { [DOWNSTREAM]: { baseUrl, audience: required(env, 'DOWNSTREAM_API_AUDIENCE'), scopes } },
        protectedResource,
      },
    };
  }
  if (provider !== 'entra') throw new Error(`AUTH_PROVIDER must be "entra" or "oidc" (got "${provider}").`);
  return {
    host,
    port,
    resource,
    obo: {
      instance: env.AZURE_AD_INSTANCE || undefined,
      tenantId: required(env, 'AZURE_AD_TENANT_ID'),
      clientId: required(env, 'AZURE_AD_CLIENT_ID'),
      clientSecret: required(env, 'AZURE_AD_CLIENT_SECRET'),
      downstreamApis: { [DOWNSTREAM]: { baseUrl, scopes } },
      protectedResource,
    },
  };
}
