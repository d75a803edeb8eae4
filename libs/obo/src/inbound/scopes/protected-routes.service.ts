import { Inject, Injectable, type OnApplicationBootstrap, type Type } from '@nestjs/common';
import { GUARDS_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { OBO_GLOBAL_GUARD, RESOLVED_OBO_OPTIONS } from '../../options/obo-options.constants.js';
import type { ResolvedOboOptions } from '../../options/resolve-obo-options.js';
import { checkEnforcement } from './check-enforcement.js';
import { routeName } from './scopes.guard.js';
import { checkAuthenticationRequirement } from './user-authentication.js';
import { JwtAuthGuard } from '../jwt/jwt-auth.guard.js';
import { readRouteRequirement, type RouteRequirement } from './route-requirement.js';

/** One controller method and what it asks of a token. */
export interface ProtectedRoute extends RouteRequirement {
  readonly controller: Type;
  /** The handler function (the key Nest's own metadata, and `@nestjs/swagger`'s, hang on). */
  readonly handler: (...args: never[]) => unknown;
  readonly methodName: string;
  /**
   * True when {@link JwtAuthGuard} runs for it: the module's global guard (`globalGuard`, default on) or
   * `@UseGuards(JwtAuthGuard)` / `@Authorize()` on the route or its controller. A `@Public()` route is
   * never guarded.
   */
  readonly guarded: boolean;
}

/**
 * Every controller route of the application (and every GraphQL query, mutation and subscription
 * resolver) with its token requirement, read once from the decorators, so what is published
 * (protected-resource metadata, OpenAPI) is what the guards enforce. At startup it refuses a
 * requirement no guard enforces and a step-up the authority cannot prove.
 */
@Injectable()
export class ProtectedRoutes implements OnApplicationBootstrap {
  private routes?: readonly ProtectedRoute[];
  private operations?: readonly ProtectedRoute[];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    @Inject(OBO_GLOBAL_GUARD) private readonly globalGuard: boolean,
    @Inject(RESOLVED_OBO_OPTIONS) private readonly options: ResolvedOboOptions,
  ) {}

  /**
   * Checks every route and resolver once the app is assembled.
   * @throws {OboConfigurationError} `ERR_OBO_CONFIG_INVALID` for `@RequiredScopes`, `@RequiredAppPermissions`
   *   or `@RequiredAuthentication` that no guard enforces (`globalGuard: false` without `ScopesGuard`), and
   *   for `maxAge` at an Entra ID authority.
   */
  onApplicationBootstrap(): void {
    for (const route of [...this.list(), ...this.resolvers()]) {
      checkEnforcement(route, this.globalGuard);
      if (route.authentication) checkAuthenticationRequirement(route.authentication, this.options.provider, routeName(route.controller, route.handler));
    }
  }

  /** The HTTP routes, in controller and method order. Call it after the application is initialised. */
  list(): readonly ProtectedRoute[] {
    return (this.routes ??= Object.freeze(this.collect(this.discovery.getControllers(), PATH_METADATA)));
  }

  /** The GraphQL resolver methods (`@Query`, `@Mutation`, `@Subscription`, `@ResolveField`), as {@link list} gives routes. */
  resolvers(): readonly ProtectedRoute[] {
    return (this.operations ??= Object.freeze(this.collect(this.discovery.getProviders(), GRAPHQL_RESOLVER_TYPE)));
  }

  /** Every delegated scope a guarded route or resolver asks for, sorted and without repeats. */
  scopes(): readonly string[] {
    const scopes = new Set<string>();
    for (const route of [...this.list(), ...this.resolvers()]) if (route.guarded) for (const scope of route.scopes) scopes.add(scope);
    return [...scopes].sort();
  }

  /** Methods of `wrappers`' classes that carry `marker` metadata (a route path, a GraphQL resolver type). */
  private collect(wrappers: readonly { metatype?: unknown }[], marker: string): ProtectedRoute[] {
    const routes: ProtectedRoute[] = [];
    for (const wrapper of wrappers) {
      const controller = wrapper.metatype as Type | undefined;
      if (typeof controller !== 'function' || !controller.prototype) continue;
      const prototype = controller.prototype as Record<string, unknown>;
      for (const methodName of this.scanner.getAllMethodNames(prototype)) {
        const handler = prototype[methodName] as (...args: never[]) => unknown;
        if (this.reflector.get<unknown>(marker, handler as never) === undefined) continue; // not a route or a resolver
        const requirement = readRouteRequirement(this.reflector, controller, handler);
        const guarded = !requirement.isPublic && (this.globalGuard || namesJwtGuard(this.reflector.get<unknown>(GUARDS_METADATA, handler as never)) || namesJwtGuard(this.reflector.get<unknown>(GUARDS_METADATA, controller as never)));
        routes.push({ ...requirement, controller, handler, methodName, guarded });
      }
    }
    return routes;
  }
}

/** `@nestjs/graphql`'s metadata key on resolver methods (its RESOLVER_TYPE_METADATA; the package stays optional). */
const GRAPHQL_RESOLVER_TYPE = 'graphql:resolver_type';

function namesJwtGuard(guards: unknown): boolean {
  return Array.isArray(guards) && guards.some((guard) => guard === JwtAuthGuard || guard instanceof JwtAuthGuard);
}
