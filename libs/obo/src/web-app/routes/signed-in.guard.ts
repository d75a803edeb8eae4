import type { IncomingMessage } from 'node:http';
import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { OboError } from '../../errors/obo.error.js';
import { SessionService } from '../session/session.service.js';
import { submittedCsrfToken } from './csrf-token.js';
import { Reflector } from '@nestjs/core';
import { PublicMetadata } from '../../inbound/scopes/public.decorator.js';
import { WebAppRedirect } from '../authorize-for-scopes/web-app-redirect.js';
import { WebAppContext } from '../context/web-app-context.service.js';
import { InteractionRequiredError } from '../errors/interaction-required.error.js';
import { RESOLVED_WEB_APP_OPTIONS } from '../options/web-app-options.constants.js';
import type { ResolvedWebAppOptions } from '../options/resolve-web-app-options.js';

/** Methods that change nothing (RFC 9110 9.2.1): no CSRF token needed. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Lets a web-app route run only for a signed-in user (`@Public()` opts a route or controller out).
 * A browser asking for a page (GET/HEAD) without a session is sent to the sign-in route and back
 * to the page afterwards; any other request answers 401. A state-changing request (POST, PUT,
 * PATCH, DELETE) of a signed-in user must carry the session's CSRF token (`x-csrf-token` header or
 * `_csrf` form field, see `WebAppContext.csrfToken`) and must not come from another site
 * (`Sec-Fetch-Site: cross-site` or a foreign `Origin`): else 403 `ERR_OBO_CSRF_REJECTED`.
 */
@Injectable()
export class SignedInGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly context: WebAppContext,
    @Inject(RESOLVED_WEB_APP_OPTIONS) private readonly options: ResolvedWebAppOptions,
    private readonly sessions: SessionService,
  ) {}

  canActivate(execution: ExecutionContext): boolean {
    if (execution.getType() !== 'http') return true;
    if (this.reflector.getAllAndOverride(PublicMetadata, [execution.getHandler(), execution.getClass()])) return true;
    const request = execution.switchToHttp().getRequest<IncomingMessage & { method: string; originalUrl?: string; url: string; body?: unknown }>();
    const session = this.context.current?.session;
    if (session?.account !== undefined) {
      if (SAFE_METHODS.has(request.method)) return true;
      if (this.sessions.verifyCsrf(request, session, submittedCsrfToken(request))) return true;
      throw new OboError('ERR_OBO_CSRF_REJECTED', 'A state-changing request without the session\u2019s CSRF token, or from another site, was refused.');
    }
    if (request.method === 'GET' || request.method === 'HEAD') {
      throw new WebAppRedirect(`${this.options.paths.signIn}?returnUrl=${encodeURIComponent(request.originalUrl ?? request.url)}`);
    }
    throw new InteractionRequiredError('login', []);
  }
}
