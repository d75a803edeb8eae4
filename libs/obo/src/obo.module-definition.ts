import { ConfigurableModuleBuilder, type Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { OboModuleOptions } from './options/obo-module-options.interface.js';
import { JwtAuthGuard } from './inbound/jwt/jwt-auth.guard.js';
import { ScopesGuard } from './inbound/scopes/scopes.guard.js';
import { OBO_GLOBAL_GUARD } from './options/obo-options.constants.js';

/** Module-level switches that are not part of the (possibly async) options object. */
export interface OboModuleExtras {
  /** Register the module globally (`@Global()`). Default `false`. */
  isGlobal?: boolean;
  /** Protect every route of the app with the JWT and scopes guards (opt out per route with `@Public()`). Default `true`. */
  globalGuard?: boolean;
}

const globalGuards: Provider[] = [
  { provide: APP_GUARD, useExisting: JwtAuthGuard },
  { provide: APP_GUARD, useExisting: ScopesGuard },
];

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN, OPTIONS_TYPE, ASYNC_OPTIONS_TYPE } = new ConfigurableModuleBuilder<OboModuleOptions>({
  moduleName: 'Obo',
})
  .setClassMethodName('forRoot')
  .setExtras<OboModuleExtras>({ isGlobal: false, globalGuard: true }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
    providers: [...(definition.providers ?? []), { provide: OBO_GLOBAL_GUARD, useValue: extras.globalGuard !== false }, ...(extras.globalGuard === false ? [] : globalGuards)],
  }))
  .build();
