import { Module, type NestModule, type OnApplicationShutdown } from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR, HttpAdapterHost } from '@nestjs/core';
import { OboConfigurationError } from '../errors/obo.error.js';
import { AuthorizeForScopesInterceptor } from './authorize-for-scopes/authorize-for-scopes.interceptor.js';
import { WebAppContext } from './context/web-app-context.service.js';
import { WebAppDownstreamApi } from './downstream-api/web-app-downstream-api.service.js';
import { WebAppExceptionFilter } from './errors/web-app-exception.filter.js';
import { SignInChallenge } from './routes/sign-in-challenge.service.js';
import { SignedInGuard } from './routes/signed-in.guard.js';
import { WebAppRequestHandler } from './routes/web-app-request.handler.js';
import { WebAppTokenAcquisition } from './token-acquisition/web-app-token-acquisition.service.js';
import { RedisWebAppStore } from './session/redis-web-app-store.js';
import { WebAppStore } from './session/web-app-store.js';
import { WebAppConfigurableModuleClass } from './web-app.module-definition.js';
import { resolvedWebAppOptionsProvider, sessionServiceProvider, signInClientProvider, webAppStoreProvider } from './web-app.providers.js';

/**
 * A web app that signs users in (authorization code flow with PKCE, state and nonce; msal-node for
 * Entra ID) and calls web APIs for them with tokens acquired silently from a per-user cache:
 * sessions (memory or Redis), sign-in, sign-out and back-channel logout routes, a guard that sends
 * signed-out browsers to sign in, `@AuthorizeForScopes()` for incremental consent and claims
 * challenges, {@link WebAppTokenAcquisition} and {@link WebAppDownstreamApi}. Express only for now.
 * @example OboWebAppModule.forRoot({ tenantId, clientId, clientSecret, redirectUri: 'https://app.contoso.com/auth/redirect' })
 */
@Module({
  providers: [
    resolvedWebAppOptionsProvider,
    webAppStoreProvider,
    sessionServiceProvider,
    signInClientProvider,
    WebAppContext,
    SignInChallenge,
    WebAppRequestHandler,
    SignedInGuard,
    WebAppTokenAcquisition,
    WebAppDownstreamApi,
    { provide: APP_INTERCEPTOR, useClass: AuthorizeForScopesInterceptor },
    { provide: APP_FILTER, useClass: WebAppExceptionFilter },
  ],
  exports: [WebAppTokenAcquisition, WebAppDownstreamApi, WebAppContext, SignedInGuard],
})
export class OboWebAppModule extends WebAppConfigurableModuleClass implements NestModule, OnApplicationShutdown {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly handler: WebAppRequestHandler,
    private readonly store: WebAppStore,
  ) {
    super();
  }

  /** Closes the Redis session store's own connection (never a client the app passed in). */
  async onApplicationShutdown(): Promise<void> {
    if (this.store instanceof RedisWebAppStore) await this.store.stop();
  }

  /** Mounts the sign-in routes and the session of every request, ahead of Nest's router (Express). */
  configure(): void {
    const adapter = this.adapterHost.httpAdapter as { getType(): string; use(handler: unknown): unknown } | undefined;
    if (adapter?.getType() !== 'express') {
      throw new OboConfigurationError('webApp', 'needs the Express adapter (@nestjs/platform-express) for now; Fastify web apps are not supported yet.');
    }
    const handler = this.handler;
    adapter.use((req: Parameters<WebAppRequestHandler['handle']>[0], res: Parameters<WebAppRequestHandler['handle']>[1], next: () => void) => handler.handle(req, res, next));
  }
}
