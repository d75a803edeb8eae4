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
 * Reads HOST, PORT, AZURE_AD_*, AZURE_AD_CLIENT_SECRET, DOWNSTREAM_API_BASE_URL, DOWNSTREAM_API_SCOPES
 * and, for the shared token cache, REDIS_URL with TOKEN_CACHE_ENCRYPTION_KEY.
 */
export function originalConfig(env: NodeJS.ProcessEnv = process.env): OriginalConfig {
  const port = Number(env.PORT ?? 5001);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number (got "${env.PORT}").`);
  const baseUrl = required(env, 'DOWNSTREAM_API_BASE_URL');
  const scopes = required(env, 'DOWNSTREAM_API_SCOPES').split(' ').filter(Boolean);
  return {
    host: env.HOST ?? '127.0.0.1',
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
      distributedCache: env.REDIS_URL ? { redis: env.REDIS_URL, encryptionKeys: encryptionKeys(env) } : undefined,
    },
  };
}

/** TOKEN_CACHE_ENCRYPTION_KEY: base64 of 32 random bytes; a comma-separated list for rotation (the first encrypts). */
function encryptionKeys(env: NodeJS.ProcessEnv): string[] {
  return required(env, 'TOKEN_CACHE_ENCRYPTION_KEY')
    .split(',')
    .map((key) => key.trim())
    .filter(Boolean);
}
