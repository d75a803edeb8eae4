import type { FactoryProvider } from '@nestjs/common';
import { OboConfigurationError } from '../errors/obo.error.js';
import { resolveWebAppOptions, type ResolvedWebAppOptions } from './options/resolve-web-app-options.js';
import { RESOLVED_WEB_APP_OPTIONS } from './options/web-app-options.constants.js';
import type { OboWebAppModuleOptions } from './options/web-app-module-options.interface.js';
import { createWebAppStore } from './session/create-web-app-store.js';
import { RedisWebAppStore } from './session/redis-web-app-store.js';
import { SessionService } from './session/session.service.js';
import { WebAppStore } from './session/web-app-store.js';
import { MsalSignInClient } from './sign-in/msal-sign-in-client.js';
import { SignInClient } from './sign-in/sign-in-client.js';
import { WEB_APP_MODULE_OPTIONS } from './web-app.module-definition.js';

/** The options, resolved and checked once at startup. */
export const resolvedWebAppOptionsProvider: FactoryProvider<ResolvedWebAppOptions> = {
  provide: RESOLVED_WEB_APP_OPTIONS,
  inject: [WEB_APP_MODULE_OPTIONS],
  useFactory: (options: OboWebAppModuleOptions) => resolveWebAppOptions(options),
};

/** Sessions and token partitions: in memory, or sealed in Redis. */
export const webAppStoreProvider: FactoryProvider<WebAppStore> = {
  provide: WebAppStore,
  inject: [RESOLVED_WEB_APP_OPTIONS],
  useFactory: async ({ session }: ResolvedWebAppOptions) => {
    const store = createWebAppStore(session);
    if (store instanceof RedisWebAppStore) await store.start();
    return store;
  },
};

export const sessionServiceProvider: FactoryProvider<SessionService> = {
  provide: SessionService,
  inject: [RESOLVED_WEB_APP_OPTIONS, WebAppStore],
  useFactory: ({ session }: ResolvedWebAppOptions, store: WebAppStore) => new SessionService(session, store),
};

/** msal-node for Entra ID; openid-client for any other OpenID Connect authority. */
export const signInClientProvider: FactoryProvider<SignInClient> = {
  provide: SignInClient,
  inject: [RESOLVED_WEB_APP_OPTIONS, WebAppStore],
  useFactory: (options: ResolvedWebAppOptions, store: WebAppStore) => {
    if (options.shared.provider !== 'entra') throw new OboConfigurationError('webApp.issuer', 'is not supported yet for web-app sign-in: use tenantId (Entra ID).');
    return new MsalSignInClient({
      options: options.shared,
      store,
      redirectUri: options.redirectUri.href,
      postLogoutRedirectUri: options.postLogoutRedirectUri,
      partitionTtlSeconds: options.session.absoluteTimeoutSeconds,
    });
  },
};
