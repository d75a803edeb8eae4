import { Inject, Module, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { APP_FILTER, DiscoveryModule, HttpAdapterHost, type AbstractHttpAdapter } from '@nestjs/core';
import { AuthorityWarmUp } from './authority/authority-warm-up.service.js';
import { DownstreamApi } from './outbound/downstream-api/downstream-api.service.js';
import { OboExceptionFilter } from './errors/obo-exception.filter.js';
import { confidentialClientProvider } from './outbound/token-acquisition/confidential-client.provider.js';
import { MsalTokenExchanger } from './outbound/token-acquisition/msal-token-exchanger.js';
import { Rfc8693TokenExchanger } from './outbound/token-acquisition/rfc8693-token-exchanger.js';
import { tokenExchangerProvider } from './outbound/token-acquisition/token-exchanger.provider.js';
import { TokenAcquisition } from './outbound/token-acquisition/token-acquisition.service.js';
import { TokenCache } from './outbound/token-cache/token-cache.js';
import { tokenCacheStoreProvider } from './outbound/token-cache/token-cache-store.provider.js';
import { RequestContextMiddleware } from './context/request-context.middleware.js';
import { RequestContext } from './context/request-context.service.js';
import { AccessTokenValidator } from './inbound/access-token-validator.service.js';
import { JwtAuthGuard } from './inbound/jwt/jwt-auth.guard.js';
import { JwtBearerStrategy } from './inbound/jwt/jwt-bearer.strategy.js';
import { ValidatedTokenCache } from './inbound/jwt/validated-token.cache.js';
import { SigningKeyStore } from './inbound/jwt/signing-key.store.js';
import { ConfigurableModuleClass } from './obo.module-definition.js';
import { RESOLVED_OBO_OPTIONS } from './options/obo-options.constants.js';
import { resolvedOptionsProvider } from './options/resolved-options.provider.js';
import { ScopesGuard } from './inbound/scopes/scopes.guard.js';
import { ProtectedRoutes } from './inbound/scopes/protected-routes.service.js';
import { ProtectedResourceMetadata } from './inbound/protected-resource/protected-resource-metadata.service.js';
import { serveProtectedResourceMetadata } from './inbound/protected-resource/protected-resource-metadata.route.js';
import type { ResolvedOboOptions } from './options/resolve-obo-options.js';
import { AuthorityHealthIndicator } from './observability/authority-health.indicator.js';
import { RedisTokenCacheHealthIndicator } from './observability/redis-token-cache-health.indicator.js';

/** The one Fastify instance method the module uses (`@nestjs/platform-fastify` stays optional). */
interface FastifyHooks {
  addHook(name: 'preHandler', hook: (request: unknown, reply: unknown, done: () => void) => void): unknown;
}

/**
 * Protects a Nest API with Microsoft Entra ID bearer tokens and calls downstream APIs On-Behalf-Of
 * the user (TokenAcquisition, DownstreamApi): `forRoot(options)` or
 * `forRootAsync({ imports, inject, useFactory })`. Options are validated at startup.
 * @example OboModule.forRoot({ tenantId, clientId })
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    resolvedOptionsProvider,
    SigningKeyStore,
    AuthorityWarmUp,
    AccessTokenValidator,
    JwtBearerStrategy,
    ValidatedTokenCache,
    JwtAuthGuard,
    ScopesGuard,
    RequestContext,
    confidentialClientProvider,
    MsalTokenExchanger,
    Rfc8693TokenExchanger,
    tokenExchangerProvider,
    tokenCacheStoreProvider,
    TokenCache,
    TokenAcquisition,
    DownstreamApi,
    ProtectedRoutes,
    ProtectedResourceMetadata,
    // @nestjs/terminus indicators (structural results: terminus itself is an optional peer).
    AuthorityHealthIndicator,
    RedisTokenCacheHealthIndicator,
    // Catches only OboError (thrown by TokenAcquisition and DownstreamApi); other errors are the app's.
    { provide: APP_FILTER, useClass: OboExceptionFilter },
  ],
  // The guards' own dependencies are exported too: `@UseGuards(JwtAuthGuard)` in an importing
  // module instantiates the guard there.
  exports: [AccessTokenValidator, JwtAuthGuard, ScopesGuard, RequestContext, TokenAcquisition, DownstreamApi, SigningKeyStore, JwtBearerStrategy, ValidatedTokenCache, ProtectedRoutes, RESOLVED_OBO_OPTIONS, AuthorityHealthIndicator, RedisTokenCacheHealthIndicator],
})
export class OboModule extends ConfigurableModuleClass implements NestModule {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly context: RequestContext,
    @Inject(RESOLVED_OBO_OPTIONS) private readonly options: ResolvedOboOptions,
    private readonly resourceMetadata: ProtectedResourceMetadata,
  ) {
    super();
  }

  /**
   * Opens a fresh {@link RequestContext} around every request, before any guard runs, and serves the
   * RFC 9728 metadata when `protectedResource` is set.
   */
  configure(consumer: MiddlewareConsumer): void {
    const published = this.options.protectedResource;
    if (published && this.adapterHost.httpAdapter) serveProtectedResourceMetadata(this.adapterHost.httpAdapter as AbstractHttpAdapter, published.metadataPaths, this.resourceMetadata);
    const adapter = this.adapterHost.httpAdapter as { getType(): string; use(handler: unknown): unknown } | undefined;
    if (adapter?.getType() === 'express') {
      // Express: one path-less `app.use()`, registered here, before Nest mounts the routes. Nest's
      // `forRoutes('*')` would match a wildcard path and run a proxy on every request (measured:
      // ~3 µs of CPU per request more).
      const context = this.context;
      adapter.use((_request: unknown, _response: unknown, next: () => void) => context.run(next));
      return;
    }
    if (adapter?.getType() === 'fastify') {
      // Fastify: a `preHandler` hook, the last step before the route handler that runs Nest's guards,
      // so the context opens after body parsing and no body parser can lose it.
      const context = this.context;
      const fastify = (adapter as unknown as { getInstance(): FastifyHooks }).getInstance();
      fastify.addHook('preHandler', (_request, _reply, done) => context.run(done));
      return;
    }
    consumer.apply(RequestContextMiddleware).forRoutes('*');
  }
}
