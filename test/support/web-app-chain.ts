// The whole web-app scenario on loopback, in this process: the local authority, the sample
// Downstream and Original APIs (startOboChain), and the sample web app's pages under
// OboWebAppModule, registered at the authority as a web app with a redirect URI, a post-logout
// redirect URI and a back-channel logout URI.
import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { Module, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { INestApplication, LoggerService, LogLevel } from '@nestjs/common';
import { OboWebAppModule, type OboWebAppModuleOptions } from 'nestjs-obo';
import { PagesController } from '../../apps/web-app/src/pages.controller.js';
import { startOboChain, type OboChain } from './obo-chain.js';

export interface WebAppChain {
  readonly chain: OboChain;
  readonly webAppId: string;
  readonly webAppSecret: string;
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly app: INestApplication;
  /** The Original API's delegated scope (asked at sign-in). */
  readonly originalScope: string;
  close(): Promise<void>;
}

/** A free loopback port (bound and released; the web app's redirect URI must name its port before it listens). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Starts the chain and the web app; `overrides` (or a function of the started chain returning them,
 * e.g. after starting more APIs on its authority) change the web app's module options; `logger` gets
 * the web app's logs.
 */
export async function startWebAppChain(
  overrides: Partial<OboWebAppModuleOptions> | ((chain: OboChain) => Promise<Partial<OboWebAppModuleOptions>>) = {},
  logger?: LoggerService,
  controllers: Type[] = [],
): Promise<WebAppChain> {
  const chain = await startOboChain();
  const { authority } = chain;
  const webAppId = randomUUID();
  const webAppSecret = `secret-${randomUUID()}`;
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  authority.registerApp({
    clientId: webAppId,
    clientSecret: webAppSecret,
    displayName: 'Contoso web app',
    redirectUris: [`${url}/auth/redirect`],
    postLogoutRedirectUris: [`${url}/`],
    backchannelLogoutUri: `${url}/auth/backchannel-logout`,
  });
  // The Downstream API's /api/secure-whoami asks for the authentication context c1; the tenant's
  // admin mapped it to "require MFA".
  authority.requireMfaForAuthenticationContext('c1');
  const originalScope = `api://${chain.originalId}/access_as_user`;
  const extra = typeof overrides === 'function' ? await overrides(chain) : overrides;
  @Module({
    imports: [
      OboWebAppModule.forRoot({
        instance: authority.instance,
        tenantId: authority.tenantId,
        clientId: webAppId,
        clientSecret: webAppSecret,
        redirectUri: `${url}/auth/redirect`,
        postLogoutRedirectUri: `${url}/`,
        scopes: [originalScope],
        downstreamApis: {
          original: { baseUrl: chain.original.url, scopes: [originalScope] },
          downstream: { baseUrl: chain.downstream!.url, scopes: [chain.downstreamScope] },
        },
        ...extra,
      }),
    ],
    controllers: [PagesController, ...controllers],
  })
  class WebAppModule {}
  const levels: LogLevel[] | false = process.env.OBO_TEST_LOG ? ['debug', 'log', 'warn', 'error'] : false;
  const app = await NestFactory.create(WebAppModule, { logger: logger ?? levels });
  await app.listen(port, '127.0.0.1');
  return {
    chain,
    webAppId,
    webAppSecret,
    url,
    app,
    originalScope,
    close: async () => {
      await app.close();
      await chain.close();
    },
  };
}
