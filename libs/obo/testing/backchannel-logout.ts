import { randomUUID } from 'node:crypto';
import { pairwiseSubject, type AppRegistry } from './app-registrations.js';
import type { AuthorityKey } from './authority-keys.js';
import type { AuthoritySessions } from './authority-sessions.js';
import { assertLoopbackUrl } from './loopback.js';
import { applyOverrides } from './mint-token.js';
import type { SignInGrants } from './sign-in-grants.js';
import { signCompact } from './sign-jwt.js';

/** The back-channel logout event member (OpenID Connect Back-Channel Logout 1.0, 2.4). */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** Lifetime of a logout token (2 minutes). */
const LOGOUT_TOKEN_LIFETIME_SECONDS = 120;
/** How long one delivery may take (5 seconds). */
const DELIVERY_TIMEOUT_MS = 5000;

/** Who to sign out: one authority session, or every session of a user. */
export type LogoutSubject = { sid: string } | { oid: string };

/** The outcome of one back-channel logout POST. */
export interface BackchannelDelivery {
  readonly clientId: string;
  readonly uri: string;
  /** HTTP status of the client's answer; absent when there was none (`error` says why). */
  readonly status?: number;
  readonly error?: string;
}

/** Claims of {@link LocalAuthority.mintLogoutToken}: `sub`, `sid`, and any override (`undefined` removes a claim). */
export type LogoutTokenClaims = { sub?: string; sid?: string } & Record<string, unknown>;

/** What minting and delivering logout tokens needs from the authority. */
export interface BackchannelHost {
  readonly registry: AppRegistry;
  readonly sessions: AuthoritySessions;
  readonly grants: SignInGrants;
  /** The v2.0 issuer of the home tenant. */
  issuer(): string;
  /** The active signing key. */
  activeKey(): AuthorityKey;
}

/** Mints and delivers OpenID Connect back-channel logout tokens; ends sessions and revokes their refresh tokens. */
export class BackchannelLogout {
  constructor(private readonly host: BackchannelHost) {}

  /**
   * A logout token for `clientId`: header `typ: logout+jwt`, RS256 by the active key (or
   * `options.key`); `iss`, `aud`, `iat`, `exp` (+2 minutes), `jti`, `events`, then `claims`
   * (`sub`, `sid`, overrides). Never a `nonce` unless an override adds one.
   */
  mint(clientId: string, claims: LogoutTokenClaims = {}, options: { header?: Record<string, unknown>; key?: AuthorityKey } = {}): string {
    const key = options.key ?? this.host.activeKey();
    const now = Math.floor(Date.now() / 1000);
    const payload: Record<string, unknown> = {
      iss: this.host.issuer(),
      aud: clientId,
      iat: now,
      exp: now + LOGOUT_TOKEN_LIFETIME_SECONDS,
      jti: randomUUID(),
      events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
    };
    applyOverrides(payload, claims);
    const header: Record<string, unknown> = { typ: 'logout+jwt', alg: key.alg, kid: key.kid };
    applyOverrides(header, options.header);
    return signCompact(JSON.stringify(header), JSON.stringify(payload), String(header.alg), key.privateKey);
  }

  /**
   * Ends the matching authority sessions, revokes their refresh tokens (every refresh token of the
   * user for `{ oid }`), and POSTs a logout token to the `backchannelLogoutUri` of each client the
   * sessions signed into. Resolves when every delivery answered or timed out.
   */
  async logout(who: LogoutSubject): Promise<BackchannelDelivery[]> {
    const sessions = this.host.sessions.find(who);
    for (const session of sessions) {
      this.host.sessions.end(session);
      this.host.grants.revoke({ sid: session.sid });
    }
    if ('oid' in who) this.host.grants.revoke(who);
    const deliveries: Promise<BackchannelDelivery>[] = [];
    for (const session of sessions) {
      for (const clientId of session.clients) {
        const uri = this.host.registry.get(clientId)?.backchannelLogoutUri;
        if (uri === undefined) continue;
        const token = this.mint(clientId, { sub: pairwiseSubject(session.oid, clientId), sid: session.sid });
        deliveries.push(deliver(clientId, uri, token));
      }
    }
    return Promise.all(deliveries);
  }
}

async function deliver(clientId: string, uri: string, logoutToken: string): Promise<BackchannelDelivery> {
  try {
    assertLoopbackUrl(uri, 'backchannelLogoutUri');
    const answer = await fetch(uri, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ logout_token: logoutToken }).toString(),
      redirect: 'manual',
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    });
    await answer.arrayBuffer();
    return { clientId, uri, status: answer.status };
  } catch (error) {
    return { clientId, uri, error: error instanceof Error ? error.message : 'delivery failed' };
  }
}
