import type { FactoryProvider } from '@nestjs/common';
import { ClientAssertionSource } from '../outbound/token-acquisition/client-assertion-source.js';
import { resolveWebAppOptions, type ResolvedWebAppOptions } from './options/resolve-web-app-options.js';
import { RESOLVED_WEB_APP_OPTIONS } from './options/web-app-options.constants.js';
import type { OboWebAppModuleOptions } from './options/web-app-module-options.interface.js';
import { createWebAppStore } from './session/create-web-app-store.js';
import { RedisWebAppStore } from './session/redis-web-app-store.js';
import { SessionService } from './session/session.service.js';
import { WebAppStore } from './session/web-app-store.js';
import { MsalSignInClient } from './sign-in/msal-sign-in-client.js';
import { OpenIdSignInClient } from './sign-in/openid-sign-in-client.js';
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
    const { shared } = options;
    if (shared.provider === 'entra') {
      return new MsalSignInClient({
        options: shared,
        store,
        redirectUri: options.redirectUri.href,
        postLogoutRedirectUri: options.postLogoutRedirectUri,
        partitionTtlSeconds: options.session.absoluteTimeoutSeconds,
      });
    }
    const credential = shared.credential!;
    const assertions = credential.kind === 'assertion' ? new ClientAssertionSource(credential) : undefined;
    const resources = [...shared.downstreamApis.values()].flatMap((api) => (api.resource === undefined ? [] : [{ resource: api.resource, scopes: api.scopes }]));
    return new OpenIdSignInClient({
      issuer: new URL(shared.authority.kind === 'oidc' ? shared.authority.issuer : shared.instance),
      clientId: shared.clientId,
      ...(credential.kind === 'secret' ? { clientSecret: credential.clientSecret } : {}),
      ...(credential.kind === 'private-key' ? { clientPrivateKey: credential.privateKey } : {}),
      ...(assertions ? { clientAssertion: () => assertions.get() } : {}),
      ...(shared.clientAuthentication === undefined ? {} : { clientAuthentication: shared.clientAuthentication }),
      redirectUri: options.redirectUri,
      ...(options.postLogoutRedirectUri === undefined ? {} : { postLogoutRedirectUri: new URL(options.postLogoutRedirectUri) }),
      store,
      resources,
      dispatcher: shared.egress.dispatcher,
      timeoutMs: shared.tokenAcquisition.timeoutMs,
      tokensTtlSeconds: options.session.absoluteTimeoutSeconds,
    });
  },
};
