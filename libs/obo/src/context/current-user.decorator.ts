import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { httpRequestOf } from './http-request-of.js';
import type { Principal } from './principal.js';

/**
 * Injects the validated {@link Principal} of the request (`undefined` on `@Public()` routes), in a
 * controller or a GraphQL resolver.
 * @example whoami(@CurrentUser() user: Principal) { return user.objectId; }
 */
export const CurrentUser = createParamDecorator((_data: unknown, context: ExecutionContext): Principal | undefined => {
  return httpRequestOf<{ user?: Principal }>(context)?.user;
});
