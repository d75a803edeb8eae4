import { GUARDS_METADATA } from '@nestjs/common/constants.js';
import { OboConfigurationError } from '../../errors/obo.error.js';
import type { ProtectedRoute } from './protected-routes.service.js';
import { routeName, ScopesGuard } from './scopes.guard.js';

/**
 * Refuses a route whose decorators ask for something no guard enforces, rather than publish a
 * requirement the API does not keep: with `globalGuard: false`, a route needs `JwtAuthGuard` (to
 * have a token at all) and `ScopesGuard` (to check it) for its `@RequiredScopes`,
 * `@RequiredAppPermissions` or `@RequiredAuthentication` to mean anything.
 * @param globalGuard the module's `globalGuard` extra (both guards on every route).
 * @throws {OboConfigurationError} `ERR_OBO_CONFIG_INVALID` naming the route and the fix.
 */
export function checkEnforcement(route: ProtectedRoute, globalGuard: boolean): void {
  const declared = [
    ...(route.scopes.length > 0 ? ['@RequiredScopes'] : []),
    ...(route.appPermissions.length > 0 ? ['@RequiredAppPermissions'] : []),
    ...(route.authentication ? ['@RequiredAuthentication'] : []),
  ];
  if (route.isPublic || declared.length === 0) return;
  const where = `${declared.join(', ')} on ${routeName(route.controller, route.handler)}`;
  if (!route.guarded) {
    throw new OboConfigurationError(where, 'is enforced by no guard: JwtAuthGuard does not run for this route (globalGuard is off). Add @UseGuards(JwtAuthGuard, ScopesGuard) or @Authorize(...), or remove the decorator.');
  }
  const scopesGuard = globalGuard || namesScopesGuard(Reflect.getMetadata(GUARDS_METADATA, route.handler)) || namesScopesGuard(Reflect.getMetadata(GUARDS_METADATA, route.controller));
  if (!scopesGuard) {
    throw new OboConfigurationError(where, 'is enforced by no guard: JwtAuthGuard runs but ScopesGuard does not, so any valid token passes. Use @UseGuards(JwtAuthGuard, ScopesGuard) or @Authorize(...).');
  }
}

function namesScopesGuard(guards: unknown): boolean {
  return Array.isArray(guards) && guards.some((guard) => guard === ScopesGuard || guard instanceof ScopesGuard);
}
