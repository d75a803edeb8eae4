import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { OboError, ProviderUnavailableError } from '../../errors/obo.error.js';
import { WebAppContext, type WebAppRequestStore } from '../context/web-app-context.service.js';
import { RESOLVED_WEB_APP_OPTIONS } from '../options/web-app-options.constants.js';
import type { ResolvedWebAppOptions } from '../options/resolve-web-app-options.js';
import { isLocalReturnUrl } from '../session/return-url.js';
import { SessionService } from '../session/session.service.js';
import type { WebSession } from '../session/web-session.js';
import { SignInClient, type PendingAuthorization } from '../sign-in/sign-in-client.js';
import { checkAuthTime } from '../sign-in/step-up-parameters.js';
import { submittedCsrfToken } from './csrf-token.js';
import { sendErrorPage, sendRedirect } from './error-page.js';
import { SignInChallenge } from './sign-in-challenge.service.js';

const OAUTH_ERROR = /^[a-z_]{1,64}$/;

type Request = IncomingMessage & { body?: unknown };

/**
 * The web app's own routes and the session of every request, ahead of Nest's router: the sign-in
 * start, the authority's callback (the redirect URI), sign-out and OpenID Connect back-channel
 * logout. Every other request gets its session loaded and runs inside a {@link WebAppContext}.
 * Internal.
 */
@Injectable()
export class WebAppRequestHandler {
  private readonly logger = new Logger('OboWebApp');

  constructor(
    @Inject(RESOLVED_WEB_APP_OPTIONS) private readonly options: ResolvedWebAppOptions,
    private readonly sessions: SessionService,
    @Inject(SignInClient) private readonly client: SignInClient,
    private readonly challenge: SignInChallenge,
    private readonly context: WebAppContext,
  ) {}

  /** Express-style middleware: answers the module's routes, passes everything else on. */
  handle(req: Request, res: ServerResponse, next: (error?: unknown) => void): void {
    this.serve(req, res, next).catch((error: unknown) => this.fail(res, error));
  }

  private async serve(req: Request, res: ServerResponse, next: (error?: unknown) => void): Promise<void> {
    const url = new URL(req.url ?? '/', this.options.redirectUri.origin);
    const { paths } = this.options;
    const method = req.method ?? 'GET';
    if (url.pathname === paths.backchannelLogout) return method === 'POST' ? this.backchannelLogout(req, res) : sendErrorPage(res, 405, 'Method not allowed', 'Use POST.', { allow: 'POST' });
    const store: WebAppRequestStore = { session: await this.sessions.load(req), request: req, response: res };
    if (url.pathname === paths.redirect) return method === 'GET' ? this.context.run(store, () => this.callback(store, url)) : sendErrorPage(res, 405, 'Method not allowed', 'Use GET.', { allow: 'GET' });
    if (url.pathname === paths.signIn) return method === 'GET' ? this.context.run(store, () => this.signIn(url)) : sendErrorPage(res, 405, 'Method not allowed', 'Use GET.', { allow: 'GET' });
    if (url.pathname === paths.signOut) return method === 'POST' ? this.signOut(store, req, res) : sendErrorPage(res, 405, 'Method not allowed', 'Sign out with the sign-out button (POST).', { allow: 'POST' });
    this.context.run(store, () => next());
  }

  /** `GET <signInPath>?returnUrl=/path`: to the authority with the sign-in scopes. */
  private async signIn(url: URL): Promise<void> {
    const redirect = await this.challenge.redirectToAuthority({ scopes: this.options.scopes, returnUrl: url.searchParams.get('returnUrl') ?? '/' });
    sendRedirect(this.context.current!.response, redirect.location);
  }

  /** `GET <redirect URI>?code&state` (or `?error&state`): redeem the code, rotate the session, go back. */
  private async callback(store: WebAppRequestStore, url: URL): Promise<void> {
    const res = store.response;
    const state = url.searchParams.get('state');
    const session = store.session;
    const pending = session && state ? await this.takePending(session, state) : undefined;
    if (!session || !pending) {
      return sendErrorPage(res, 400, 'Sign-in could not be completed', 'This sign-in was not started in this browser, was already completed, or took too long. Start again.');
    }
    const error = url.searchParams.get('error');
    if (error !== null) {
      const code = OAUTH_ERROR.test(error) ? error : 'invalid_response';
      this.logger.warn(`ERR_OBO_SIGN_IN_FAILED: the authority answered ${code}.`);
      if (code === 'access_denied') return sendErrorPage(res, 403, 'Sign-in cancelled', 'You declined the request. Nothing was changed.');
      return sendErrorPage(res, 400, 'Sign-in failed', `The identity provider refused the sign-in (${code}). Start again.`);
    }
    const result = await this.client.redeemCode(url, pending);
    checkAuthTime(result.account, pending, Math.floor(Date.now() / 1000));
    const previous = session.account;
    // A different user signing in on this browser starts clean: the previous user's tokens go too.
    if (previous && previous.accountKey !== result.account.accountKey) await this.client.removeAccount(previous);
    session.account = result.account;
    session.pending = [];
    await this.sessions.rotate(session, res);
    sendRedirect(res, isLocalReturnUrl(pending.returnUrl) ?? '/');
  }

  /** `POST <signOutPath>` with the CSRF token: purge the user's tokens, end the session, then the authority's session. */
  private async signOut(store: WebAppRequestStore, req: Request, res: ServerResponse): Promise<void> {
    const session = store.session;
    const submitted = submittedCsrfToken(req);
    if (!session || !this.sessions.verifyCsrf(req, session, submitted)) {
      return sendErrorPage(res, 403, 'Sign-out refused', 'The request did not come from this site. Use the sign-out button.');
    }
    const account = session.account;
    if (account) await this.client.removeAccount(account);
    await this.sessions.destroy(session, res);
    const endSession = account ? await this.client.endSessionUrl(account) : undefined;
    sendRedirect(res, endSession ?? this.options.postLogoutRedirectUri ?? '/', 303);
  }

  /** `POST <backchannelLogoutPath>` (OpenID Connect Back-Channel Logout 1.0, section 2.5-2.8). */
  private async backchannelLogout(req: Request, res: ServerResponse): Promise<void> {
    const logoutToken = formField(req.body, 'logout_token');
    const reply = (status: number, body?: object) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    if (logoutToken === undefined) return reply(400, { error: 'invalid_request', error_description: 'logout_token is required.' });
    let subject;
    try {
      subject = await this.client.validateLogoutToken(logoutToken);
    } catch (error) {
      if (error instanceof OboError && error.code === 'ERR_OBO_LOGOUT_TOKEN_INVALID') {
        this.logger.warn(`${error.code}: ${error.message}`);
        return reply(400, { error: 'invalid_request', error_description: 'The logout token is invalid.' });
      }
      throw error;
    }
    const ended = subject.sessionId !== undefined
      ? await this.sessions.destroyForSessionId(subject.issuer, subject.sessionId)
      : await this.sessions.destroyForSubject(subject.issuer, subject.subject!);
    this.logger.log(`Back-channel logout ended ${ended} session(s).`);
    reply(200);
  }

  /** The pending authorization of `state`, removed from the session for good (single use); none when unknown or stale. */
  private async takePending(session: WebSession, state: string): Promise<PendingAuthorization | undefined> {
    const found = this.sessions.takePending(session, state);
    if (found) await this.sessions.save(session);
    return found;
  }

  private fail(res: ServerResponse, error: unknown): void {
    if (error instanceof ProviderUnavailableError) {
      return sendErrorPage(res, error.code === 'ERR_OBO_PROVIDER_TIMEOUT' ? 504 : 503, 'Try again shortly', 'The identity provider is not answering right now.', { 'retry-after': String(Math.ceil(error.retryAfterSeconds)) });
    }
    if (error instanceof OboError && error.code === 'ERR_OBO_SIGN_IN_FAILED') {
      this.logger.warn(`${error.code}: ${error.message}`);
      return sendErrorPage(res, 400, 'Sign-in failed', 'The sign-in could not be completed. Start again.');
    }
    if (error instanceof OboError && error.code === 'ERR_OBO_SESSION_STORE_UNAVAILABLE') {
      return sendErrorPage(res, 503, 'Try again shortly', 'Your session cannot be read right now.', { 'retry-after': '5' });
    }
    const code = error instanceof OboError ? error.code : 'unexpected error';
    this.logger.error(`ERR_OBO_INTERNAL: a web-app sign-in route failed (${code}).`);
    sendErrorPage(res, 500, 'Something went wrong', 'The request could not be completed. Try again.');
  }
}

function formField(body: unknown, name: string): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const value = (body as Record<string, unknown>)[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
