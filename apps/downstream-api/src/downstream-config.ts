import type { OboModuleOptions } from 'nestjs-obo';

/** Where the sample listens and which authority it trusts, from the environment. */
export interface DownstreamConfig {
  readonly host: string;
  readonly port: number;
  readonly obo: OboModuleOptions;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`Set ${name} (see apps/downstream-api/README section in the root README).`);
  return value;
}

/** Reads HOST, PORT, AZURE_AD_INSTANCE, AZURE_AD_TENANT_ID and AZURE_AD_CLIENT_ID. */
export function downstreamConfig(env: NodeJS.ProcessEnv = process.env): DownstreamConfig {
  const port = Number(env.PORT ?? 5002);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number (got "${env.PORT}").`);
  return {
    host: env.HOST ?? '127.0.0.1',
    port,
    obo: {
      instance: env.AZURE_AD_INSTANCE || undefined,
      tenantId: required(env, 'AZURE_AD_TENANT_ID'),
      clientId: required(env, 'AZURE_AD_CLIENT_ID'),
    },
  };
}
