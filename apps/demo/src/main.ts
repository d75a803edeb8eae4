import { randomBytes, randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { ensureDevCertificate, LocalAuthority } from 'nestjs-obo/testing';
import { spawnApp, type RunningApp } from './spawn-app.js';
import { walkthrough } from './walkthrough.js';

// The whole chain on loopback, no cloud account: a local Entra-like authority over https, and the
// two sample APIs as real processes that trust its certificate through NODE_EXTRA_CA_CERTS.
const root = resolve(import.meta.dirname, '../../../..');
const once = process.argv.includes('--once');

async function main(): Promise<void> {
  const tlsDir = join(root, '.local-authority');
  const tls = ensureDevCertificate(tlsDir);
  const originalId = randomUUID();
  const downstreamId = randomUUID();
  const clientSecret = randomBytes(24).toString('base64url');
  const authority = await LocalAuthority.start({ tls, clientId: originalId });
  authority.registerApp({ clientId: originalId, clientSecret, scopes: ['access_as_user'], appRoles: { [downstreamId]: ['Downstream.Read.All'] } });
  authority.registerApp({ clientId: downstreamId, scopes: ['Downstream.Read'] });
  console.log(`Local authority: ${authority.instance} (tenant ${authority.tenantId})`);

  const apps: RunningApp[] = [];
  const shutdown = async () => {
    await Promise.all(apps.map((app) => app.stop()));
    await authority.close();
  };
  process.once('SIGINT', () => void shutdown().then(() => process.exit(0)));
  process.once('SIGTERM', () => void shutdown().then(() => process.exit(0)));

  const common = { ...process.env, NODE_EXTRA_CA_CERTS: tls.certPath, HOST: '127.0.0.1', AZURE_AD_INSTANCE: authority.instance, AZURE_AD_TENANT_ID: authority.tenantId };
  const downstream = await spawnApp('downstream-api', join(root, 'dist/apps/downstream-api/src/main.js'), {
    ...common,
    PORT: process.env.DOWNSTREAM_PORT ?? '0',
    AZURE_AD_CLIENT_ID: downstreamId,
  });
  apps.push(downstream);
  const original = await spawnApp('original-api', join(root, 'dist/apps/original-api/src/main.js'), {
    ...common,
    PORT: process.env.ORIGINAL_PORT ?? '0',
    AZURE_AD_CLIENT_ID: originalId,
    AZURE_AD_CLIENT_SECRET: clientSecret,
    DOWNSTREAM_API_BASE_URL: downstream.url,
    DOWNSTREAM_API_SCOPES: `api://${downstreamId}/Downstream.Read`,
  });
  apps.push(original);

  const tokenFile = join(tlsDir, 'user-token.txt');
  await walkthrough({ authority, originalUrl: original.url, originalId, tokenFile });
  console.log('\nDemo self-check passed.');
  if (once) {
    await shutdown();
    return;
  }
  console.log(`\nTry it yourself (a user token for the Original API is in ${tokenFile}, valid for one hour):`);
  console.log(`  curl -i -H "Authorization: Bearer $(cat ${tokenFile})" ${original.url}/api/profile`);
  console.log(`  curl -i ${original.url}/api/profile                 # no token: 401`);
  console.log(`  curl -i ${original.url}/health                      # public`);
  console.log('\nPress Ctrl+C to stop.');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
