import type { OboModuleOptions } from 'nestjs-obo';

/** Where the sample listens and which authority it trusts, from the environment. */
export interface DownstreamConfig {
  readonly host: string;
  readonly port: number;
  readonly obo: OboModuleOptions;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`Set ${name} (see "Sample: apps/downstream-api" in the README).`);
  return value;
}

/**
 * Reads HOST, PORT, PUBLIC_URL (RFC 9728 metadata) and the authority: `AUTH_PROVIDER=entra` (the default) with AZURE_AD_INSTANCE,
 * AZURE_AD_TENANT_ID and AZURE_AD_CLIENT_ID; `AUTH_PROVIDER=oidc` with OIDC_ISSUER, OIDC_AUDIENCE
 * and OIDC_PROFILE (`rfc9068`, `auth0`, `okta`, `keycloak`).
 */
export function downstreamConfig(env: NodeJS.ProcessEnv = process.env): DownstreamConfig {
  const port = Number(env.PORT ?? 5002);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number (got "${env.PORT}").`);
  const host = env.HOST ?? '127.0.0.1';
  return { host, port, obo: { ...authorityOptions(env), protectedResource: publishedAs(env, host, port, 'Downstream API (nestjs-obo sample)') } };
}

/**
 * RFC 9728 metadata for the sample: the resource identifier is PUBLIC_URL (the URL clients call it
 * at), else `http://<host>:<port>` when it listens on a fixed loopback port; otherwise nothing is published.
 */
function publishedAs(env: NodeJS.ProcessEnv, host: string, port: number, resourceName: string): OboModuleOptions['protectedResource'] {
  const resource = env.PUBLIC_URL || (port !== 0 && ['127.0.0.1', 'localhost'].includes(host) ? `http://${host}:${port}` : undefined);
  return resource === undefined ? undefined : { resource, resourceName };
}

function authorityOptions(env: NodeJS.ProcessEnv): OboModuleOptions {
  const provider = env.AUTH_PROVIDER ?? 'entra';
  if (provider === 'oidc') {
    return { issuer: required(env, 'OIDC_ISSUER'), audience: required(env, 'OIDC_AUDIENCE'), tokenProfile: (env.OIDC_PROFILE || undefined) as OboModuleOptions['tokenProfile'] };
  }
  if (provider !== 'entra') throw new Error(`AUTH_PROVIDER must be "entra" or "oidc" (got "${provider}").`);
  return { instance: env.AZURE_AD_INSTANCE || undefined, tenantId: required(env, 'AZURE_AD_TENANT_ID'), clientId: required(env, 'AZURE_AD_CLIENT_ID') };
}
