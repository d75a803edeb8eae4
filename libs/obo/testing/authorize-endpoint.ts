import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppRegistry } from './app-registrations.js';
import { AuthorizePageError, AuthorizeRedirectError, parseAuthorizeRequest } from './authorize-request.js';
import type { AuthoritySession, AuthoritySessions } from './authority-sessions.js';
import { sameText } from './client-authentication.js';
import { authorizeErrorParams, redirectToClient } from './client-redirect.js';
import type { ConditionalAccess } from './conditional-access.js';
import type { ConsentStore } from './consent-store.js';
import { readForm } from './form-body.js';
import { Interactions, MAX_SIGN_IN_FAILURES, type Interaction, type InteractionStep } from './interactions.js';
import type { LocalUserDirectory } from './local-users.js';
import { consentPage, errorPage, mfaPage, sendPage, signInPage } from './sign-in-pages.js';
import type { SignInGrants } from './sign-in-grants.js';

/** What the authorization endpoint reads and writes. */
export interface AuthorizeHost {
  readonly tenantId: string;
  readonly registry: AppRegistry;
  readonly users: LocalUserDirectory;
  readonly consents: ConsentStore;
  readonly policies: ConditionalAccess;
  readonly sessions: AuthoritySessions;
  readonly grants: SignInGrants;
}

/**
 * `GET /{tenant}/oauth2/v2.0/authorize` (authorization code flow with PKCE S256) and the POSTs of
 * its pages: sign-in (no page with a live authority session: SSO), consent for scopes not yet
 * consented, an MFA step when a claims request or a Conditional Access policy needs it, then a
 * single-use code to the exact registered redirect URI.
 */
export class AuthorizeEndpoint {
  private readonly interactions = new Interactions();

  constructor(private readonly host: AuthorizeHost) {}

  /** Serves a GET (a new authorization request) or a POST (a page's form). */
  async handle(req: IncomingMessage, res: ServerResponse, tenant: string): Promise<void> {
    if (![this.host.tenantId.toLowerCase(), 'organizations', 'common'].includes(tenant.toLowerCase())) {
      return sendPage(res, 400, errorPage(90002, `Tenant '${tenant}' not found.`));
    }
    if (req.method === 'POST') return this.answer(req, res, tenant);
    if (req.method !== 'GET') return sendPage(res, 405, errorPage(900561, 'The endpoint only accepts GET and POST requests.'));
    try {
      const request = parseAuthorizeRequest(new URL(req.url ?? '/', 'https://local.invalid').searchParams, tenant, this.host.registry);
      this.proceed(res, this.interactions.start(request, 'sign-in'), this.host.sessions.of(req));
    } catch (error) {
      if (error instanceof AuthorizePageError) return sendPage(res, 400, errorPage(error.code, error.text));
      if (error instanceof AuthorizeRedirectError) return redirectToClient(res, error.target, authorizeErrorParams(error.error, error.code, error.text));
      throw error;
    }
  }

  /** A form of one of the pages: found by its interaction id, CSRF value and step, or an error page. */
  private async answer(req: IncomingMessage, res: ServerResponse, tenant: string): Promise<void> {
    let form: Record<string, string>;
    try {
      form = await readForm(req);
    } catch {
      return sendPage(res, 400, errorPage(900144, 'The form could not be read.'));
    }
    const interaction = this.interactions.find(form);
    if (!interaction || interaction.request.tenant !== tenant) {
      return sendPage(res, 400, errorPage(9002313, 'The sign-in request is unknown or has expired. Go back to the application and sign in again.'));
    }
    const session = this.host.sessions.of(req);
    if (interaction.awaiting === 'sign-in') return this.signIn(res, interaction, form, session);
    if (!session) return this.proceed(res, interaction, undefined);
    if (interaction.awaiting === 'consent') {
      if (form.action !== 'accept') return this.fail(res, interaction, 'access_denied', 65004, 'User declined to consent to access the app.');
      this.host.consents.grant(session.oid, interaction.request.client.clientId, interaction.request.resourceScopes);
      interaction.consented = true;
    } else {
      session.mfa = true;
    }
    this.proceed(res, interaction, session);
  }

  private signIn(res: ServerResponse, interaction: Interaction, form: Record<string, string>, previous: AuthoritySession | undefined): void {
    const user = this.host.users.byUsername(form.username ?? '');
    if (!user || !sameText(form.password ?? '', user.password)) {
      interaction.failures++;
      if (interaction.failures >= MAX_SIGN_IN_FAILURES) {
        this.interactions.end(interaction);
        return sendPage(res, 400, errorPage(50053, 'Your account is locked because you tried to sign in too many times with an incorrect password.'));
      }
      return this.show(res, interaction, 'sign-in', { username: form.username ?? '', error: 'Your account or password is incorrect.' });
    }
    if (previous) this.host.sessions.end(previous);
    const session = this.host.sessions.start(user.oid);
    this.host.sessions.setCookie(res, session);
    interaction.signedIn = true;
    this.proceed(res, interaction, session);
  }

  /** Shows the next page the request needs, or issues the code. */
  private proceed(res: ServerResponse, interaction: Interaction, session: AuthoritySession | undefined): void {
    const { request } = interaction;
    const silent = request.prompt === 'none';
    const user = session ? this.host.users.byOid(session.oid) : undefined;
    const freshLogin = request.prompt === 'login' || request.prompt === 'select_account';
    const otherUser = request.loginHint !== undefined && user !== undefined && user.username.toLowerCase() !== request.loginHint.toLowerCase();
    // OpenID Connect Core 3.1.2.1 `max_age`: a session authenticated longer ago signs the user in again
    // (`max_age=0` is `prompt=login`).
    const tooOld = request.maxAge !== undefined && session !== undefined && (request.maxAge === 0 || Math.floor(Date.now() / 1000) - session.authTime > request.maxAge);
    if (!session || !user || (!interaction.signedIn && (freshLogin || otherUser || tooOld))) {
      if (silent) return this.fail(res, interaction, 'login_required', 50058, 'A silent sign-in request was sent but no user is signed in.');
      return this.show(res, interaction, 'sign-in', { username: request.loginHint ?? '' });
    }
    const missing = this.host.consents.missing(user.oid, request.client.clientId, request.resourceScopes);
    if (missing.length > 0 || (request.prompt === 'consent' && !interaction.consented)) {
      if (silent) return this.fail(res, interaction, 'consent_required', 65001, 'The user or administrator has not consented to use the application.');
      return this.show(res, interaction, 'consent', { username: user.username, scopes: request.prompt === 'consent' ? request.resourceScopes : missing });
    }
    const policyNeedsMfa = request.resources.some((resource) => this.host.policies.mfaPolicyOf(resource.clientId) !== undefined);
    if ((request.demand.needsMfa || policyNeedsMfa) && !session.mfa) {
      if (silent) return this.fail(res, interaction, 'interaction_required', 50076, 'Multi-factor authentication is required.');
      return this.show(res, interaction, 'mfa', { username: user.username });
    }
    this.interactions.end(interaction);
    session.clients.add(request.client.clientId);
    const code = this.host.grants.issueCode({
      oid: user.oid,
      clientId: request.client.clientId,
      sid: session.sid,
      authTime: session.authTime,
      mfa: session.mfa,
      redirectUri: request.redirectUri,
      codeChallenge: request.codeChallenge,
      scopes: request.scopes,
      ...(request.nonce === undefined ? {} : { nonce: request.nonce }),
      ...(request.claims === undefined ? {} : { claims: request.claims }),
    });
    redirectToClient(res, request, { code, session_state: session.sid });
  }

  private show(res: ServerResponse, interaction: Interaction, step: InteractionStep, page: { username?: string; error?: string; scopes?: readonly string[] }): void {
    interaction.awaiting = step;
    const { request } = interaction;
    const form = { action: `/${encodeURIComponent(request.tenant)}/oauth2/v2.0/authorize`, interaction: interaction.id, csrf: interaction.csrf };
    const appName = request.client.displayName ?? request.client.clientId;
    const html =
      step === 'sign-in'
        ? signInPage(form, appName, page.username, page.error)
        : step === 'consent'
          ? consentPage(form, appName, page.username ?? '', page.scopes ?? [])
          : mfaPage(form, page.username ?? '');
    // form-action covers the redirect to the client that answers the form (browsers check redirects too)
    sendPage(res, 200, html, { formTargets: [request.redirectUri] });
  }

  private fail(res: ServerResponse, interaction: Interaction, error: string, code: number, text: string): void {
    this.interactions.end(interaction);
    redirectToClient(res, interaction.request, authorizeErrorParams(error, code, text));
  }
}
