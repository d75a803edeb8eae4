import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { PublicMetadata } from '../../inbound/scopes/public.decorator.js';
import { WebAppRedirect } from '../authorize-for-scopes/web-app-redirect.js';
import { WebAppContext } from '../context/web-app-context.service.js';
import { InteractionRequiredError } from '../errors/interaction-required.error.js';
import { RESOLVED_WEB_APP_OPTIONS } from '../options/web-app-options.constants.js';
import type { ResolvedWebAppOptions } from '../options/resolve-web-app-options.js';

/**
 * Lets a web-app route run only for a signed-in user (`@Public()` opts a route or controller out).
 * A browser asking for a page (GET/HEAD) without a session is sent to the sign-in route and back
 * to the page afterwards; any other request answers 401.
 */
@Injectable()
export class SignedInGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly context: WebAppContext,
    @Inject(RESOLVED_WEB_APP_OPTIONS) private readonly options: ResolvedWebAppOptions,
  ) {}

  canActivate(execution: ExecutionContext): boolean {
    if (execution.getType() !== 'http') return true;
    if (this.reflector.getAllAndOverride(PublicMetadata, [execution.getHandler(), execution.getClass()])) return true;
    if (this.context.account !== undefined) return true;
    const request = execution.switchToHttp().getRequest<{ method: string; originalUrl?: string; url: string }>();
    if (request.method === 'GET' || request.method === 'HEAD') {
      throw new WebAppRedirect(`${this.options.paths.signIn}?returnUrl=${encodeURIComponent(request.originalUrl ?? request.url)}`);
    }
    throw new InteractionRequiredError('login', []);
  }
}
