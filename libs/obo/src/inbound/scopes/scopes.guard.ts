import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { httpRequestOf } from '../../context/http-request-of.js';
import { Principal } from '../../context/principal.js';
import { insufficientScope, tokenMissing } from '../../errors/obo-http.exception.js';
import { withRejectionHeaders } from '../../errors/reject.js';
import { RESOLVED_OBO_OPTIONS } from '../../options/obo-options.constants.js';
import type { ResolvedOboOptions } from '../../options/resolve-obo-options.js';
import { hasAny } from './has-any-scope.js';
import { PublicMetadata } from './public.decorator.js';
import { RequiredAppPermissionsMetadata, RequiredScopesMetadata } from './required-scopes.decorator.js';

interface Requirement {
  readonly scopes: readonly string[];
  readonly permissions: readonly string[];
}

/**
 * Enforces `@RequiredScopes` (user tokens) and `@RequiredAppPermissions` (app-only tokens) after
 * {@link JwtAuthGuard}. Either one satisfies a route that has both. Handler metadata replaces
 * controller metadata. A route with neither accepts any valid token.
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
    if (!(user instanceof Principal)) throw withRejectionHeaders(context, this.adapterHost, tokenMissing(this.options.realm));
    const granted = user.isAppOnly ? hasAny(user.roles, requirement.permissions) : hasAny(user.scopes, requirement.scopes);
    if (granted) return true;
    const accepted = [...requirement.scopes, ...requirement.permissions];
    throw withRejectionHeaders(context, this.adapterHost, insufficientScope(accepted, this.options.realm));
  }

  // Metadata never changes after startup: read it once per route, not once per request.
  private readonly routes = new WeakMap<object, WeakMap<object, Requirement | null>>();

  /** The route's requirement; `null` for `@Public()` routes and routes without one. */
  private requirementFor(controller: object, handler: object): Requirement | null {
    let byHandler = this.routes.get(controller);
    if (!byHandler) this.routes.set(controller, (byHandler = new WeakMap()));
    let requirement = byHandler.get(handler);
    if (requirement === undefined) {
      const isPublic = this.reflector.getAllAndOverride(PublicMetadata, [handler as never, controller as never]);
      requirement = isPublic ? null : (this.requirementOf(handler) ?? this.requirementOf(controller) ?? null);
      byHandler.set(handler, requirement);
    }
    return requirement;
  }

  private requirementOf(target: object): Requirement | undefined {
    const scopes = this.reflector.get(RequiredScopesMetadata, target as never);
    const permissions = this.reflector.get(RequiredAppPermissionsMetadata, target as never);
    if (!scopes && !permissions) return undefined;
    return { scopes: scopes ?? [], permissions: permissions ?? [] };
  }
}
