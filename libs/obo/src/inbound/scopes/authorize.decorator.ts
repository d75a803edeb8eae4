import { applyDecorators, UseGuards } from '@nestjs/common';
import { JwtAuthGuard } from '../jwt/jwt-auth.guard.js';
import { RequiredScopes } from './required-scopes.decorator.js';
import { ScopesGuard } from './scopes.guard.js';

/**
 * For apps that turned the global guard off: validates the token, then requires one of `scopes`.
 * @example @Authorize('access_as_user')
 */
export const Authorize = (...scopes: [string, ...string[]]): ClassDecorator & MethodDecorator =>
  applyDecorators(UseGuards(JwtAuthGuard, ScopesGuard), RequiredScopes(...scopes));
