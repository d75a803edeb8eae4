import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppRegistry } from './app-registrations.js';
import type { AuthorityKey } from './authority-keys.js';
import { AuthoritySessions } from './authority-sessions.js';
import { AuthorizeEndpoint } from './authorize-endpoint.js';
import { BackchannelLogout } from './backchannel-logout.js';
import { parseClaimsRequest } from './claims-request.js';
import { amrHasMfa, ConditionalAccess, mfaRequired } from './conditional-access.js';
import { ConsentStore } from './consent-store.js';
import { EndSessionEndpoint } from './end-session-endpoint.js';
import { LocalUserDirectory } from './local-users.js';
import { SignInGrants } from './sign-in-grants.js';
import { SignInTokenGrants } from './sign-in-token-grants.js';
import type { TokenMinting } from './token-grants.js';

/** What the browser sign-in part needs from its {@link LocalAuthority}. */
export interface SignInAuthorityHost {
  readonly tenantId: string;
  readonly registry: AppRegistry;
  readonly minting: TokenMinting;
  /** Name of the authority's session cookie. */
  readonly cookieName: string;
  /** The v2.0 issuer of the home tenant. */
  issuer(): string;
  activeKey(): AuthorityKey;
}

/**
 * Everything a browser sign-in needs, wired together: users, consent, Conditional Access,
 * authority sessions, codes and refresh tokens, the authorization and end-session endpoints, the
 * sign-in grants of the token endpoint, and back-channel logout.
 */
export class SignInAuthority {
  readonly users = new LocalUserDirectory();
  readonly consents = new ConsentStore();
  readonly policies = new ConditionalAccess();
  readonly grants = new SignInGrants();
  readonly sessions: AuthoritySessions;
  readonly authorize: AuthorizeEndpoint;
  readonly tokenGrants: SignInTokenGrants;
  readonly backchannel: BackchannelLogout;
  readonly endSession: EndSessionEndpoint;

  constructor(host: SignInAuthorityHost) {
    this.sessions = new AuthoritySessions(host.cookieName);
    const shared = { tenantId: host.tenantId, registry: host.registry, users: this.users, consents: this.consents, policies: this.policies, grants: this.grants };
    this.authorize = new AuthorizeEndpoint({ ...shared, sessions: this.sessions });
    this.tokenGrants = new SignInTokenGrants({ ...shared, minting: host.minting });
    this.backchannel = new BackchannelLogout({ registry: host.registry, sessions: this.sessions, grants: this.grants, issuer: () => host.issuer(), activeKey: () => host.activeKey() });
    this.endSession = new EndSessionEndpoint(host.registry, this.sessions, this.backchannel);
  }

  /** Serves `/{tenant}/oauth2/v2.0/authorize` or `/logout` (the caller routed it). */
  handle(endpoint: 'authorize' | 'logout', req: IncomingMessage, res: ServerResponse, tenant: string): void {
    const served = endpoint === 'authorize' ? this.authorize.handle(req, res, tenant) : this.endSession.handle(req, res);
    served.catch(() => res.destroy());
  }

  /** The OBO grant's Conditional Access check: an assertion without `mfa` in `amr` gets the claims challenge. */
  enforceOnBehalfOf(resourceClientId: string, assertionClaims: Readonly<Record<string, unknown>>, claimsRequest?: string): void {
    const mfa = amrHasMfa(assertionClaims.amr);
    this.policies.enforce(resourceClientId, mfa);
    // A claims request naming an authentication context that requires MFA, which the user's sign-in
    // did not include: like Entra, only the user can satisfy it, so the middle tier gets the claims back.
    if (!mfa && claimsRequest !== undefined && this.policies.contextNeedsMfa(parseClaimsRequest(claimsRequest).acrs)) throw mfaRequired(claimsRequest);
  }

  /** Revokes every refresh token and authority session of user `oid` (no back-channel logout). */
  revokeUser(oid: string): void {
    for (const session of this.sessions.find({ oid })) this.sessions.end(session);
    this.grants.revoke({ oid });
  }
}
