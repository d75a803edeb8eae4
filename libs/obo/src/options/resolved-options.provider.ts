import type { FactoryProvider } from '@nestjs/common';
import { MODULE_OPTIONS_TOKEN } from '../obo.module-definition.js';
import type { OboModuleOptions } from './obo-module-options.interface.js';
import { RESOLVED_OBO_OPTIONS } from './obo-options.constants.js';
import { resolveOboOptions, type ResolvedOboOptions } from './resolve-obo-options.js';

/** Resolves and validates the options once, when the module is built. */
export const resolvedOptionsProvider: FactoryProvider<ResolvedOboOptions> = {
  provide: RESOLVED_OBO_OPTIONS,
  inject: [MODULE_OPTIONS_TOKEN],
  useFactory: (options: OboModuleOptions) => resolveOboOptions(options),
};
