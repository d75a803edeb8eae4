import { randomBytes, randomUUID } from 'node:crypto';
import { LocalAuthority, type DevCertificate } from 'nestjs-obo/testing';
import { claimsOf, type DemoChain } from './demo-chain.js';
import { startMcpServer, startSampleApps, startWebApp } from './sample-apps.js';

/**
 * The chain on a local Entra-like authority: the Original API (scope `access_as_user`, a client
 * secret, the app role `Downstream.Read.All` on the Downstream API) and the Downstream API (scope
 * `Downstream.Read`) registered as Entra apps; both samples run with `AUTH_PROVIDER=entra`.
 */
export async function startEntraChain(root: string, tls: DevCertificate): Promise<DemoChain> {
  const originalId = randomUUID();
  const downstreamId = randomUUID();
  const clientSecret = randomBytes(24).toString('base64url');
  const authority = await LocalAuthority.start({ tls, clientId: originalId });
  authority.registerApp({ clientId: originalId, clientSecret, scopes: ['access_as_user'], appRoles: { [downstreamId]: ['Downstream.Read.All'] } });
  authority.registerApp({ clientId: downstreamId, scopes: ['Downstream.Read'] });
  console.log(`Local authority: ${authority.instance} (tenant ${authority.tenantId})`);

  const samples = await startSampleApps(root, {
    common: { NODE_EXTRA_CA_CERTS: tls.certPath, AUTH_PROVIDER: 'entra', AZURE_AD_INSTANCE: authority.instance, AZURE_AD_TENANT_ID: authority.tenantId },
    downstream: { AZURE_AD_CLIENT_ID: downstreamId },
    original: (downstreamUrl) => ({
      AZURE_AD_CLIENT_ID: originalId,
      AZURE_AD_CLIENT_SECRET: clientSecret,
      DOWNSTREAM_API_BASE_URL: downstreamUrl,
      DOWNSTREAM_API_SCOPES: `api://${downstreamId}/Downstream.Read`,
    }),
  }).catch(async (error: unknown) => {
    await authority.close();
    throw error;
  });
  const webApp = await startWebApp(root, authority, tls, { originalId, downstreamId, originalUrl: samples.original.url, downstreamUrl: samples.downstream.url }).catch(async (error: unknown) => {
    await samples.stop();
    await authority.close();
    throw error;
  });
  const mcp = await startMcpServer(root, authority, tls, { downstreamId, downstreamUrl: samples.downstream.url }).catch(async (error: unknown) => {
    await webApp.stop();
    await samples.stop();
    await authority.close();
    throw error;
  });
  return {
    originalUrl: samples.original.url,
    originalClientId: originalId,
    userClaimNames: ['aud', 'scp', 'oid', 'tid'],
    exchangeLabel: 'OBO requests',
    exchanges: () => authority.tokenRequests.onBehalfOf,
    mintUserToken: () => authority.mintUserToken({ audience: originalId }),
    mintTokenWithoutScope: () => authority.mintUserToken({ audience: originalId, claims: { scp: 'Files.Read' } }),
    mintAppToken: () => authority.mintAppToken({ audience: originalId, claims: { roles: ['Profile.Read.All'] } }),
    stepUp: {
      title: 'Conditional Access asks this user for MFA',
      error: 'insufficient_claims',
      inject: (userToken) => {
        const claims = '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}';
        return authority.injectTokenFault({ kind: 'claims-challenge', claims }, { oid: claimsOf(userToken).oid as string, times: 1 });
      },
    },
    webApp: { url: webApp.url, users: authority.users.map((user) => user.username), password: authority.users[0]!.password, authorityCa: authority.certificate },
    mcp: { endpoint: mcp.endpoint, serverClientId: mcp.clientId, mintUserToken: () => authority.mintUserToken({ audience: mcp.clientId }) },
    stop: async () => {
      await mcp.stop();
      await webApp.stop();
      await samples.stop();
      await authority.close();
    },
  };
}
