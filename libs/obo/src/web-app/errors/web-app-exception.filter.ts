import type { ServerResponse } from 'node:http';
import { Catch, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { OboError, ProviderUnavailableError } from '../../errors/obo.error.js';
import { WebAppRedirect } from '../authorize-for-scopes/web-app-redirect.js';
import { sendErrorPage, sendRedirect } from '../routes/error-page.js';

/**
 * Answers a web app's redirects (302 to the authority or the sign-in route) and nestjs-obo's errors
 * as small HTML pages with the right status: 401 when the user must sign in (no `@AuthorizeForScopes()`
 * on the route), 503/504 with `Retry-After` when the authority is unavailable, 502/504 for a failed
 * web API, 500 (logged with its code) for the rest. Nothing from a token, the authority or an API
 * reaches the page.
 */
@Catch(WebAppRedirect, OboError)
export class WebAppExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('OboWebApp');

  catch(error: WebAppRedirect | OboError, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw error;
    const res = host.switchToHttp().getResponse<ServerResponse>();
    if (error instanceof WebAppRedirect) return sendRedirect(res, error.location);
    if (error instanceof ProviderUnavailableError) {
      return sendErrorPage(res, error.code === 'ERR_OBO_PROVIDER_TIMEOUT' ? 504 : 503, 'Try again shortly', 'The identity provider is not answering right now.', { 'retry-after': String(Math.ceil(error.retryAfterSeconds)) });
    }
    switch (error.code) {
      case 'ERR_OBO_SESSION_STORE_UNAVAILABLE':
        return sendErrorPage(res, 503, 'Try again shortly', 'Your session cannot be read right now.', { 'retry-after': '5' });
      case 'ERR_OBO_CSRF_REJECTED':
        return sendErrorPage(res, 403, 'Request refused', 'The request did not come from this site\u2019s own page. Go back and try again.');
      case 'ERR_OBO_INTERACTION_REQUIRED':
        return sendErrorPage(res, 401, 'Sign in again', 'This action needs you to sign in again.');
      case 'ERR_OBO_DOWNSTREAM_FAILED':
        this.logger.warn(`${error.code}: ${error.message}`);
        return sendErrorPage(res, 502, 'A service failed', 'A service this page needs did not answer as expected.');
      case 'ERR_OBO_DOWNSTREAM_TIMEOUT':
        return sendErrorPage(res, 504, 'A service is slow', 'A service this page needs did not answer in time.');
      default:
        this.logger.error(`${error.code}: ${error.message}`);
        return sendErrorPage(res, 500, 'Something went wrong', 'The request could not be completed.');
    }
  }
}
