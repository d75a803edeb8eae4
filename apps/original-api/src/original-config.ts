import type { OboModuleOptions } from 'nestjs-obo';

/** Where the Original API listens, its identity and its downstream API, from the environment. */
export interface OriginalConfig {
  readonly host: string;
  readonly port: number;
  readonly obo: OboModuleOptions;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`Set ${name} (see "Sample: apps/original-api" in the README).`);
  return value;
}

/** `api://<id>/Scope` → `api://<id>/.default`: the resource of a delegated scope, for app tokens. */
export function defaultScopeOf(scope: string): string {
  const slash = scope.lastIndexOf('/');
  if (slash <= 0) throw new Error(`DOWNSTREAM_API_SCOPES must hold full scopes such as api://<id>/Downstream.Read (got "${scope}").`);
  return `${scope.slice(0, slash)}/.default`;
}

/**
 * Reads HOST, PORT, PUBLIC_URL (RFC 9728 metadata), DOWNSTREAM_API_BASE_URL, DOWNSTREAM_API_SCOPES, for the shared token cache
 * REDIS_URL with TOKEN_CACHE_ENCRYPTION_KEY, and the authority: `AUTH_PROVIDER=entra` (the default)
 * with AZURE_AD_INSTANCE, AZURE_AD_TENANT_ID, AZURE_AD_CLIENT_ID, AZURE_AD_CLIENT_SECRET (scopes
 * such as `api://<id>/Downstream.Read`); `AUTH_PROVIDER=oidc` with OIDC_ISSUER, OIDC_AUDIENCE,
 * OIDC_PROFILE, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET and DOWNSTREAM_API_AUDIENCE (plain scopes such as
 * `Downstream.Read`; the app-only call asks for `Downstream.Read.All`).
 */
export function originalConfig(env: NodeJS.ProcessEnv = process.env): OriginalConfig {
  const port = Number(env.PORT ?? 5001);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number (got "${env.PORT}").`);
  const baseUrl = required(env, 'DOWNSTREAM_API_BASE_URL');
  const scopes = required(env, 'DOWNSTREAM_API_SCOPES').split(' ').filter(Boolean);
  const distributedCache = env.REDIS_URL ? { redis: env.REDIS_URL, encryptionKeys: encryptionKeys(env) } : undefined;
  const provider = env.AUTH_PROVIDER ?? 'entra';
  const host = env.HOST ?? '127.0.0.1';
  const protectedResource = publishedAs(env, host, port, 'Original API (nestjs-obo sample)');
  if (provider === 'oidc') {
    const audience = required(env, 'DOWNSTREAM_API_AUDIENCE');
    return {
      host,
      port,
      obo: {
        issuer: required(env, 'OIDC_ISSUER'),
        audience: required(env, 'OIDC_AUDIENCE'),
        tokenProfile: (env.OIDC_PROFILE || undefined) as OboModuleOptions['tokenProfile'],
        clientId: required(env, 'OIDC_CLIENT_ID'),
        clientSecret: required(env, 'OIDC_CLIENT_SECRET'),
        downstreamApis: {
          downstream: { baseUrl, audience, scopes },
          downstreamAsApp: { baseUrl, audience, scopes: scopes.map((scope) => `${scope}.All`), tokenKind: 'app' },
        },
        distributedCache,
        protectedResource,
      },
    };
  }
  if (provider !== 'entra') throw new Error(`AUTH_PROVIDER must be "entra" or "oidc" (got "${provider}").`);
  return {
    host,
    port,
    obo: {
      instance: env.AZURE_AD_INSTANCE || undefined,
      tenantId: required(env, 'AZURE_AD_TENANT_ID'),
      clientId: required(env, 'AZURE_AD_CLIENT_ID'),
      clientSecret: required(env, 'AZURE_AD_CLIENT_SECRET'),
      downstreamApis: {
        downstream: { baseUrl, scopes },
        downstreamAsApp: { baseUrl, scopes: [defaultScopeOf(scopes[0]!)], tokenKind: 'app' },
      },
      distributedCache,
      protectedResource,
    },
  };
}

/**
 * RFC 9728 metadata for the sample: the resource identifier is PUBLIC_URL (the URL clients call it
 * at), else `http://<host>:<port>` when it listens on a fixed loopback port; otherwise nothing is published.
 */
function publishedAs(env: NodeJS.ProcessEnv, host: string, port: number, resourceName: string): OboModuleOptions['protectedResource'] {
  const resource = env.PUBLIC_URL || (port !== 0 && ['127.0.0.1', 'localhost'].includes(host) ? `http://${host}:${port}` : undefined);
  return resource === undefined ? undefined : { resource, resourceName };
}

/** TOKEN_CACHE_ENCRYPTION_KEY: base64 of 32 random bytes; a comma-separated list for rotation (the first encrypts). */
function encryptionKeys(env: NodeJS.ProcessEnv): string[] {
  return required(env, 'TOKEN_CACHE_ENCRYPTION_KEY')
    .split(',')
    .map((key) => key.trim())
    .filter(Boolean);
}
