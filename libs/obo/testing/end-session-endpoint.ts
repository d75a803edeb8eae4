import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppRegistry } from './app-registrations.js';
import type { AuthoritySessions } from './authority-sessions.js';
import type { BackchannelLogout } from './backchannel-logout.js';
import { redirect } from './client-redirect.js';
import { peekClaims } from './form-body.js';
import { sendPage, signedOutPage } from './sign-in-pages.js';

/**
 * `GET /{tenant}/oauth2/v2.0/logout` (OpenID Connect RP-Initiated Logout): ends the authority
 * session of the browser (cookie cleared, record dropped, its refresh tokens revoked), sends a
 * back-channel logout token to EVERY client the session signed into, the requesting one included
 * (the spec allows it, and a web app must treat it idempotently), then redirects to
 * `post_logout_redirect_uri` (with `state`) only when it is registered for the client named by
 * `client_id` or the `id_token_hint`'s `aud`, exactly; otherwise shows "You have signed out".
 */
export class EndSessionEndpoint {
  constructor(
    private readonly registry: AppRegistry,
    private readonly sessions: AuthoritySessions,
    private readonly backchannel: BackchannelLogout,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const query = new URL(req.url ?? '/', 'https://local.invalid').searchParams;
    const session = this.sessions.of(req);
    if (session) await this.backchannel.logout({ sid: session.sid });
    this.sessions.clearCookie(res);
    const hintAudience = peekClaims(query.get('id_token_hint') ?? undefined)?.aud;
    const clientId = query.get('client_id') ?? (typeof hintAudience === 'string' ? hintAudience : undefined);
    const client = clientId === undefined ? undefined : this.registry.get(clientId);
    const target = query.get('post_logout_redirect_uri');
    if (client && target !== null && (client.postLogoutRedirectUris ?? []).includes(target)) {
      const url = new URL(target);
      const state = query.get('state');
      if (state !== null) url.searchParams.set('state', state);
      return redirect(res, url.toString());
    }
    sendPage(res, 200, signedOutPage());
  }
}
