import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { DevCertificate, LocalAuthority } from 'nestjs-obo/testing';
import { spawnApp, type RunningApp } from './spawn-app.js';

/** The two sample APIs running as child processes. */
export interface SampleApps {
  readonly downstream: RunningApp;
  readonly original: RunningApp;
  /** Stops both (SIGTERM, graceful shutdown). */
  stop(): Promise<void>;
}

/** How to configure the sample APIs: environment for both, then each one's own. */
export interface SampleAppsEnvironment {
  /** For both (the authority's trust, HOST, AUTH_PROVIDER, ...); laid over this process's environment. */
  readonly common: NodeJS.ProcessEnv;
  /** The Downstream API's own variables. */
  readonly downstream: NodeJS.ProcessEnv;
  /** The Original API's own variables, given the Downstream API's URL. */
  readonly original: (downstreamUrl: string) => NodeJS.ProcessEnv;
}

/**
 * Starts the built Downstream API, then the Original API pointed at it (ports from DOWNSTREAM_PORT
 * and ORIGINAL_PORT, else free ones, fixed before they start so each publishes its RFC 9728 metadata). If the Original API fails to start, the Downstream API is stopped.
 * @throws Error when an app exits or does not report its URL in time.
 */
export async function startSampleApps(root: string, env: SampleAppsEnvironment): Promise<SampleApps> {
  const common = { ...process.env, HOST: '127.0.0.1', ...env.common };
  const downstream = await spawnApp('downstream-api', join(root, 'dist/apps/downstream-api/src/main.js'), {
    ...common,
    PORT: process.env.DOWNSTREAM_PORT ?? String(await freePort()),
    ...env.downstream,
  });
  let original: RunningApp;
  try {
    original = await spawnApp('original-api', join(root, 'dist/apps/original-api/src/main.js'), {
      ...common,
      PORT: process.env.ORIGINAL_PORT ?? String(await freePort()),
      ...env.original(downstream.url),
    });
  } catch (error) {
    await downstream.stop();
    throw error;
  }
  return { downstream, original, stop: async () => void (await Promise.all([original.stop(), downstream.stop()])) };
}

/** The APIs the web app calls, as the chain registered and started them. */
export interface WebAppTargets {
  readonly originalId: string;
  readonly downstreamId: string;
  readonly originalUrl: string;
  readonly downstreamUrl: string;
}

/**
 * Registers the sample web app at `authority` (a client secret, its redirect, post-logout and
 * back-channel logout URIs on a fixed loopback port: WEB_APP_PORT, else a free one) and starts it.
 */
export async function startWebApp(root: string, authority: LocalAuthority, tls: DevCertificate, targets: WebAppTargets): Promise<RunningApp> {
  const port = Number(process.env.WEB_APP_PORT ?? (await freePort()));
  const origin = `http://127.0.0.1:${port}`;
  const clientId = randomUUID();
  const clientSecret = randomBytes(24).toString('base64url');
  // The Downstream API's /api/secure-whoami asks for the authentication context c1: mapped to "require MFA".
  authority.requireMfaForAuthenticationContext('c1');
  authority.registerApp({
    clientId,
    clientSecret,
    displayName: 'nestjs-obo sample web app',
    redirectUris: [`${origin}/auth/redirect`],
    postLogoutRedirectUris: [`${origin}/`],
    backchannelLogoutUri: `${origin}/auth/backchannel-logout`,
  });
  return spawnApp('web-app', join(root, 'dist/apps/web-app/src/main.js'), {
    ...process.env,
    HOST: '127.0.0.1',
    PORT: String(port),
    NODE_EXTRA_CA_CERTS: tls.certPath,
    AZURE_AD_INSTANCE: authority.instance,
    AZURE_AD_TENANT_ID: authority.tenantId,
    AZURE_AD_CLIENT_ID: clientId,
    AZURE_AD_CLIENT_SECRET: clientSecret,
    ORIGINAL_API_BASE_URL: targets.originalUrl,
    ORIGINAL_API_SCOPE: `api://${targets.originalId}/access_as_user`,
    DOWNSTREAM_API_BASE_URL: targets.downstreamUrl,
    DOWNSTREAM_API_SCOPE: `api://${targets.downstreamId}/Downstream.Read`,
  });
}

/** What the sample MCP server calls, as the chain registered and started it. */
export interface McpServerTargets {
  readonly downstreamId: string;
  readonly downstreamUrl: string;
}

/** The running sample MCP server, its endpoint (the RFC 9728 resource) and its client id. */
export interface RunningMcpServer extends RunningApp {
  readonly endpoint: string;
  readonly clientId: string;
}

/**
 * Registers the sample MCP server at `authority` (a confidential client exposing `access_as_user`)
 * and starts it on MCP_PORT, else a free port (its resource identifier names the port before it listens).
 */
export async function startMcpServer(root: string, authority: LocalAuthority, tls: DevCertificate, targets: McpServerTargets): Promise<RunningMcpServer> {
  const port = Number(process.env.MCP_PORT ?? (await freePort()));
  const clientId = randomUUID();
  const clientSecret = randomBytes(24).toString('base64url');
  authority.registerApp({ clientId, clientSecret, scopes: ['access_as_user'], displayName: 'nestjs-obo sample MCP server' });
  const endpoint = `http://127.0.0.1:${port}/mcp`;
  const app = await spawnApp('mcp-server', join(root, 'dist/apps/mcp-server/src/main.js'), {
    ...process.env,
    HOST: '127.0.0.1',
    PORT: String(port),
    MCP_RESOURCE: endpoint,
    NODE_EXTRA_CA_CERTS: tls.certPath,
    AUTH_PROVIDER: 'entra',
    AZURE_AD_INSTANCE: authority.instance,
    AZURE_AD_TENANT_ID: authority.tenantId,
    AZURE_AD_CLIENT_ID: clientId,
    AZURE_AD_CLIENT_SECRET: clientSecret,
    DOWNSTREAM_API_BASE_URL: targets.downstreamUrl,
    DOWNSTREAM_API_SCOPES: `api://${targets.downstreamId}/Downstream.Read`,
  });
  return { ...app, endpoint, clientId };
}

/** A free loopback port (bound, then released: the web app's redirect URI names its port before it listens). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
