import { join, resolve } from 'node:path';
import { ensureDevCertificate } from 'nestjs-obo/testing';
import { DEMO_PROVIDERS, parseDemoArgs } from './demo-options.js';
import { walkthrough } from './walkthrough.js';

// The whole chain on loopback, no cloud account: a local authority over https shaped like the chosen
// provider (`--provider entra`, the default, or `auth0`), and the two sample APIs as real processes
// that trust its certificate through NODE_EXTRA_CA_CERTS.
const root = resolve(import.meta.dirname, '../../../..');

async function main(): Promise<void> {
  const { provider, once } = parseDemoArgs(process.argv.slice(2));
  const tlsDir = join(root, '.local-authority');
  const chain = await DEMO_PROVIDERS[provider]!(root, ensureDevCertificate(tlsDir));
  const shutdown = () => chain.stop();
  process.once('SIGINT', () => void shutdown().then(() => process.exit(0)));
  process.once('SIGTERM', () => void shutdown().then(() => process.exit(0)));

  const tokenFile = join(tlsDir, 'user-token.txt');
  try {
    await walkthrough(chain, tokenFile);
  } catch (error) {
    await shutdown();
    throw error;
  }
  console.log('\nDemo self-check passed.');
  if (once) {
    await shutdown();
    return;
  }
  const { originalUrl, webApp, mcp } = chain;
  if (webApp) {
    console.log(`\nThe web app that calls web APIs: open ${webApp.url}/ in a browser and sign in as ${webApp.users.join(', ')} (password ${webApp.password}).`);
    console.log('  Profile: the three hops side by side; Reports: the consent page for a new scope; Secure: Conditional Access asks for MFA.');
  }
  if (mcp) {
    console.log(`\nThe MCP server (Streamable HTTP): ${mcp.endpoint}; an MCP client finds the authority and the scope through the resource_metadata of its 401.`);
  }
  console.log(`\nTry it yourself (a user token for the Original API is in ${tokenFile}, valid for one hour):`);
  console.log(`  curl -i -H "Authorization: Bearer $(cat ${tokenFile})" ${originalUrl}/api/profile`);
  console.log(`  curl -i ${originalUrl}/api/profile                 # no token: 401`);
  console.log(`  curl -i ${originalUrl}/health                      # public`);
  console.log(`  curl -s ${originalUrl}/.well-known/oauth-protected-resource   # RFC 9728: where to get a token, which scopes`);
  console.log('\nPress Ctrl+C to stop.');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
