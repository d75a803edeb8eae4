import { Module, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { RequestContextMiddleware } from './context/request-context.middleware.js';
import { RequestContext } from './context/request-context.service.js';
import { JwtAuthGuard } from './jwt/jwt-auth.guard.js';
import { JwtBearerStrategy } from './jwt/jwt-bearer.strategy.js';
import { SigningKeyStore } from './jwt/signing-key.store.js';
import { ConfigurableModuleClass } from './obo.module-definition.js';
import { RESOLVED_OBO_OPTIONS } from './options/obo-options.constants.js';
import { resolvedOptionsProvider } from './options/resolved-options.provider.js';
import { ScopesGuard } from './scopes/scopes.guard.js';


/**
 * Protects a Nest API with Microsoft Entra ID bearer tokens: `forRoot(options)` or
 * `forRootAsync({ imports, inject, useFactory })`. Options are validated at startup.
 * @example OboModule.forRoot({ tenantId, clientId })
 */
@Module({
  providers: [resolvedOptionsProvider, SigningKeyStore, JwtBearerStrategy, JwtAuthGuard, ScopesGuard, RequestContext],
  // The guards' own dependencies are exported too: `@UseGuards(JwtAuthGuard)` in an importing
  // module instantiates the guard there.
  exports: [JwtAuthGuard, ScopesGuard, RequestContext, SigningKeyStore, JwtBearerStrategy, RESOLVED_OBO_OPTIONS],
})
export class OboModule extends ConfigurableModuleClass implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(RequestContextMiddleware).forRoutes('*');
  }
}
