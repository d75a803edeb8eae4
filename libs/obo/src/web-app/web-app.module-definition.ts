import { ConfigurableModuleBuilder, type Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { OboWebAppModuleOptions } from './options/web-app-module-options.interface.js';
import { SignedInGuard } from './routes/signed-in.guard.js';

/** Module-level switches of `OboWebAppModule`. */
export interface OboWebAppModuleExtras {
  /** Register the module globally (`@Global()`). Default `false`. */
  isGlobal?: boolean;
  /** Require a signed-in user on every route (opt out per route with `@Public()`). Default `true`. */
  globalGuard?: boolean;
}

const globalGuards: Provider[] = [{ provide: APP_GUARD, useExisting: SignedInGuard }];

export const {
  ConfigurableModuleClass: WebAppConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: WEB_APP_MODULE_OPTIONS,
} = new ConfigurableModuleBuilder<OboWebAppModuleOptions>({ moduleName: 'OboWebApp' })
  .setClassMethodName('forRoot')
  .setExtras<OboWebAppModuleExtras>({ isGlobal: false, globalGuard: true }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
    providers: [...(definition.providers ?? []), ...(extras.globalGuard === false ? [] : globalGuards)],
  }))
  .build();
