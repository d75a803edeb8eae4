import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { ensureDevCertificate, LocalAuthority } from 'nestjs-obo/testing';
import { spawnApp, type RunningApp } from './spawn-app.js';

// The whole chain on loopback, no cloud account: a local Entra-like authority over https, and
// the sample APIs as real processes that trust its certificate through NODE_EXTRA_CA_CERTS.
const root = resolve(import.meta.dirname, '../../../..');
const once = process.argv.includes('--once');

async function main(): Promise<void> {
  const tlsDir = join(root, '.local-authority');
  const tls = ensureDevCertificate(tlsDir);
  const downstreamClientId = randomUUID();
  const authority = await LocalAuthority.start({ tls, clientId: downstreamClientId });
  console.log(`Local authority: ${authority.instance} (tenant ${authority.tenantId})`);
  const apps: RunningApp[] = [];
  const shutdown = async () => {
    await Promise.all(apps.map((app) => app.stop()));
    await authority.close();
  };
  process.once('SIGINT', () => void shutdown().then(() => process.exit(0)));
  process.once('SIGTERM', () => void shutdown().then(() => process.exit(0)));

  const env = {
    ...process.env,
    NODE_EXTRA_CA_CERTS: tls.certPath,
    HOST: '127.0.0.1',
    PORT: process.env.DOWNSTREAM_PORT ?? '0',
    AZURE_AD_INSTANCE: authority.instance,
    AZURE_AD_TENANT_ID: authority.tenantId,
    AZURE_AD_CLIENT_ID: downstreamClientId,
  };
  const downstream = await spawnApp('downstream-api', join(root, 'dist/apps/downstream-api/src/main.js'), env);
  apps.push(downstream);

  const token = authority.mintUserToken({ claims: { scp: 'Downstream.Read' } });
  const response = await fetch(`${downstream.url}/api/whoami`, { headers: { authorization: `Bearer ${token}` } });
  console.log(`\nSelf-check: GET ${downstream.url}/api/whoami -> ${response.status}`);
  console.log(JSON.stringify(await response.json(), null, 2));
  const denied = await fetch(`${downstream.url}/api/whoami`);
  console.log(`Without a token -> ${denied.status}, WWW-Authenticate: ${denied.headers.get('www-authenticate')}`);
  if (response.status !== 200 || denied.status !== 401) throw new Error('the demo self-check failed');

  if (once) {
    await shutdown();
    return;
  }
  console.log('\nTry it yourself (the token is valid for one hour):');
  console.log(`  curl -i -H "Authorization: Bearer ${token}" ${downstream.url}/api/whoami\n`);
  console.log('Press Ctrl+C to stop.');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
