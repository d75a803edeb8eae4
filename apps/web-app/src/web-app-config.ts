import type { OboWebAppModuleOptions } from 'nestjs-obo';

/** Where the web app listens, its identity, and the two APIs it calls for the signed-in user. */
export interface WebAppConfig {
  readonly host: string;
  readonly port: number;
  readonly webApp: OboWebAppModuleOptions;
  /** The Original API's delegated scope, asked at sign-in (e.g. `api://<id>/access_as_user`). */
  readonly originalScope: string;
  /** The Downstream API's delegated scope, NOT asked at sign-in: the consent page shows it on first use. */
  readonly downstreamScope: string;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`Set ${name} (see "The web app that calls web APIs" in the README).`);
  return value;
}

/**
 * Reads HOST, PORT (a fixed port: the redirect URI names it), AZURE_AD_INSTANCE, AZURE_AD_TENANT_ID,
 * AZURE_AD_CLIENT_ID, AZURE_AD_CLIENT_SECRET (the web app's registration), ORIGINAL_API_BASE_URL,
 * ORIGINAL_API_SCOPE, DOWNSTREAM_API_BASE_URL, DOWNSTREAM_API_SCOPE and, for sessions in Redis,
 * REDIS_URL with SESSION_ENCRYPTION_KEY (base64 of 32 random bytes).
 */
export function webAppConfig(env: NodeJS.ProcessEnv = process.env): WebAppConfig {
  const host = env.HOST ?? '127.0.0.1';
  const port = Number(env.PORT ?? 5003);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`PORT must be a fixed port number: the redirect URI names it (got "${env.PORT}").`);
  const origin = `http://${host}:${port}`;
  const originalScope = required(env, 'ORIGINAL_API_SCOPE');
  const downstreamScope = required(env, 'DOWNSTREAM_API_SCOPE');
  const store = env.REDIS_URL ? { redis: env.REDIS_URL, encryptionKeys: [required(env, 'SESSION_ENCRYPTION_KEY')] } : 'memory';
  return {
    host,
    port,
    originalScope,
    downstreamScope,
    webApp: {
      instance: env.AZURE_AD_INSTANCE || undefined,
      tenantId: required(env, 'AZURE_AD_TENANT_ID'),
      clientId: required(env, 'AZURE_AD_CLIENT_ID'),
      clientSecret: required(env, 'AZURE_AD_CLIENT_SECRET'),
      redirectUri: `${origin}/auth/redirect`,
      postLogoutRedirectUri: `${origin}/`,
      scopes: [originalScope],
      session: { store },
      downstreamApis: {
        original: { baseUrl: required(env, 'ORIGINAL_API_BASE_URL'), scopes: [originalScope] },
        downstream: { baseUrl: required(env, 'DOWNSTREAM_API_BASE_URL'), scopes: [downstreamScope] },
      },
    },
  };
}
