import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Principal } from './principal.js';

/**
 * Injects the validated {@link Principal} of the request (`undefined` on `@Public()` routes).
 * @example whoami(@CurrentUser() user: Principal) { return user.objectId; }
 */
export const CurrentUser = createParamDecorator((_data: unknown, context: ExecutionContext): Principal | undefined => {
  return context.switchToHttp().getRequest<{ user?: Principal }>().user;
});
