import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { authorizeEndpoint } from '../../authority/entra-authority.js';
import { httpRequestOf } from '../../context/http-request-of.js';
import { Principal } from '../../context/principal.js';
import { insufficientScope, insufficientUserAuthentication, tokenMissing, type OboHttpException } from '../../errors/obo-http.exception.js';
import { withRejectionHeaders } from '../../errors/reject.js';
import { RESOLVED_OBO_OPTIONS } from '../../options/obo-options.constants.js';
import type { ResolvedOboOptions } from '../../options/resolve-obo-options.js';
import { hasAny } from './has-any-scope.js';
import { readRouteRequirement, type RouteRequirement } from './route-requirement.js';
import { checkAuthenticationRequirement, meetsAuthentication } from './user-authentication.js';

/** A route's requirement with what a refusal says, worked out once. */
interface Enforced extends RouteRequirement {
  /** The scopes (as a client requests them) and app permissions a 403 names. */
  readonly accepted: readonly string[];
}

/**
 * Enforces `@RequiredScopes` (user tokens) and `@RequiredAppPermissions` (app-only tokens) after
 * {@link JwtAuthGuard}, then `@RequiredAuthentication` (RFC 9470 step-up, user tokens). Either of
 * scopes and permissions satisfies a route that has both. Handler metadata replaces controller
 * metadata. A route with none of them accepts any valid token.
 */
@Injectable()
export class ScopesGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly adapterHost: HttpAdapterHost,
    @Inject(RESOLVED_OBO_OPTIONS) private readonly options: ResolvedOboOptions,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const requirement = this.requirementFor(context.getClass(), context.getHandler());
    if (!requirement) return true;
    const user = httpRequestOf<{ user?: unknown }>(context)?.user;
    // Without a principal the authentication guard did not run: fail closed.
    if (!(user instanceof Principal)) throw withRejectionHeaders(context, this.adapterHost, tokenMissing(this.options));
    const refusal = this.refusalFor(user, requirement);
    if (refusal) throw withRejectionHeaders(context, this.adapterHost, refusal);
    return true;
  }

  private refusalFor(user: Principal, requirement: Enforced): OboHttpException | undefined {
    const { scopes, appPermissions, authentication } = requirement;
    if (user.isAppOnly) {
      // An app authenticates no user: a step-up route takes it only through an app permission it names.
      const allowed = appPermissions.length > 0 ? hasAny(user.roles, appPermissions) : scopes.length === 0 && !authentication;
      return allowed ? undefined : insufficientScope(requirement.accepted, this.options);
    }
    if ((scopes.length > 0 || appPermissions.length > 0) && !hasAny(user.scopes, scopes)) return insufficientScope(requirement.accepted, this.options);
    if (authentication && !meetsAuthentication(user, authentication, this.options.provider, Math.floor(Date.now() / 1000), this.options.clockToleranceSeconds)) {
      const entra = this.options.provider === 'entra' && authentication.acrValues
        ? { authorizationUri: authorizeEndpoint(this.options.instance, this.options.tenantId, this.options.multiTenant), clientId: this.options.clientId }
        : undefined;
      return insufficientUserAuthentication(authentication, this.options, entra);
    }
    return undefined;
  }

  // Metadata never changes after startup: read it once per route, not once per request.
  private readonly routes = new WeakMap<object, WeakMap<object, Enforced | null>>();

  /** The route's requirement; `null` for `@Public()` routes and routes without one. */
  private requirementFor(controller: object, handler: object): Enforced | null {
    let byHandler = this.routes.get(controller);
    if (!byHandler) this.routes.set(controller, (byHandler = new WeakMap()));
    let enforced = byHandler.get(handler);
    if (enforced === undefined) {
      const requirement = readRouteRequirement(this.reflector, controller, handler);
      const asked = requirement.scopes.length > 0 || requirement.appPermissions.length > 0 || requirement.authentication !== undefined;
      if (requirement.authentication) checkAuthenticationRequirement(requirement.authentication, this.options.provider, routeName(controller, handler));
      const prefix = this.options.protectedResource?.scopePrefix ?? '';
      enforced = requirement.isPublic || !asked ? null : { ...requirement, accepted: [...requirement.scopes.map((scope) => prefix + scope), ...requirement.appPermissions] };
      byHandler.set(handler, enforced);
    }
    return enforced;
  }
}

/** `Controller.method`, for startup errors. */
export function routeName(controller: object, handler: object): string {
  return `${(controller as { name?: string }).name ?? 'controller'}.${(handler as { name?: string }).name ?? 'handler'}`;
}
