import type { Reflector } from '@nestjs/core';
import { PublicMetadata } from './public.decorator.js';
import { RequiredAuthenticationMetadata, type AuthenticationRequirement } from './required-authentication.decorator.js';
import { RequiredAppPermissionsMetadata, RequiredScopesMetadata } from './required-scopes.decorator.js';

/**
 * What one route asks of its caller's token, from `@Public`, `@RequiredScopes`,
 * `@RequiredAppPermissions` and `@RequiredAuthentication` (handler metadata replaces the controller's,
 * decorator by decorator).
 */
export interface RouteRequirement {
  /** `@Public()`: no token is read; every other field is empty. */
  readonly isPublic: boolean;
  /** Delegated scopes (`scp`), any one of which a user token must hold; empty: none asked. */
  readonly scopes: readonly string[];
  /** App permissions (`roles`), any one of which an app-only token must hold; empty: none asked. */
  readonly appPermissions: readonly string[];
  /** Step-up (RFC 9470) for user tokens, when asked. */
  readonly authentication?: AuthenticationRequirement;
}

const NONE: readonly string[] = Object.freeze([]);
const PUBLIC: RouteRequirement = Object.freeze({ isPublic: true, scopes: NONE, appPermissions: NONE });

/** Reads the route's requirement from its decorators; `target`s are the handler and its controller class. */
export function readRouteRequirement(reflector: Reflector, controller: object, handler: object): RouteRequirement {
  const targets = [handler, controller] as never[];
  if (reflector.getAllAndOverride(PublicMetadata, targets)) return PUBLIC;
  // Scopes and app permissions travel together (either one satisfies), so the pair comes from the handler
  // when it names either, else from the controller.
  const own = pairOf(reflector, handler) ?? pairOf(reflector, controller);
  const authentication = reflector.getAllAndOverride(RequiredAuthenticationMetadata, targets);
  return { isPublic: false, scopes: own?.scopes ?? NONE, appPermissions: own?.appPermissions ?? NONE, ...(authentication ? { authentication } : {}) };
}

function pairOf(reflector: Reflector, target: object): { scopes: readonly string[]; appPermissions: readonly string[] } | undefined {
  const scopes = reflector.get(RequiredScopesMetadata, target as never);
  const appPermissions = reflector.get(RequiredAppPermissionsMetadata, target as never);
  if (!scopes && !appPermissions) return undefined;
  return { scopes: scopes ?? NONE, appPermissions: appPermissions ?? NONE };
}
