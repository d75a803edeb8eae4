import { Reflector } from '@nestjs/core';
import { OboConfigurationError } from '../../errors/obo.error.js';

/** @internal Read by ScopesGuard; a handler's metadata overrides its controller's. */
export const RequiredScopesMetadata = Reflector.createDecorator<readonly string[]>({ key: 'obo:required-scopes' });
/** @internal Read by ScopesGuard. */
export const RequiredAppPermissionsMetadata = Reflector.createDecorator<readonly string[]>({ key: 'obo:required-app-permissions' });

// RFC 6749 §3.3 scope-token: printable ASCII without space, `"` and `\`.
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

function checked(decorator: string, values: readonly string[]): readonly string[] {
  if (values.length === 0) throw new OboConfigurationError(decorator, 'needs at least one value.');
  for (const value of values) {
    if (typeof value !== 'string' || !SCOPE_TOKEN.test(value)) {
      throw new OboConfigurationError(decorator, `values must be scope tokens (printable ASCII, no spaces or quotes); got ${JSON.stringify(value)}.`);
    }
  }
  return Object.freeze([...values]);
}

/**
 * Requires a **user** token whose `scp` holds at least one of `scopes` (exact, case-sensitive).
 * Combined with {@link RequiredAppPermissions} on the same route, either one satisfies.
 * @example @RequiredScopes('Downstream.Read')
 */
export const RequiredScopes = (...scopes: [string, ...string[]]): ClassDecorator & MethodDecorator =>
  RequiredScopesMetadata(checked('@RequiredScopes', scopes));

/**
 * Requires an **app-only** token whose `roles` holds at least one of `permissions`. A user token
 * carrying a role of the same name does not pass.
 * @example @RequiredAppPermissions('Downstream.Read.All')
 */
export const RequiredAppPermissions = (...permissions: [string, ...string[]]): ClassDecorator & MethodDecorator =>
  RequiredAppPermissionsMetadata(checked('@RequiredAppPermissions', permissions));
