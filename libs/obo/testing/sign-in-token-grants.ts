import { createHash } from 'node:crypto';
import { pairwiseSubject, type AppRegistry } from './app-registrations.js';
import { resolveScopes } from './authorize-request.js';
import { parseClaimsRequest } from './claims-request.js';
import type { AuthenticatedClient } from './client-authentication.js';
import { mfaRequired, type ConditionalAccess } from './conditional-access.js';
import { CONSENT_FREE_SCOPES, type ConsentStore } from './consent-store.js';
import type { LocalUserDirectory } from './local-users.js';
import { parseDelegatedScopes } from './scope-request.js';
import type { SignInFacts, SignInGrants } from './sign-in-grants.js';
import { invalidGrant, invalidRequest, invalidScope } from './token-errors.js';
import type { TokenMinting } from './token-grants.js';

/** What the sign-in grants of the token endpoint read and write. */
export interface SignInTokenHost {
  readonly tenantId: string;
  readonly registry: AppRegistry;
  readonly users: LocalUserDirectory;
  readonly consents: ConsentStore;
  readonly policies: ConditionalAccess;
  readonly grants: SignInGrants;
  readonly minting: TokenMinting;
}

/** `grant_type=authorization_code` and `grant_type=refresh_token` of the token endpoint (Entra shapes). */
export class SignInTokenGrants {
  constructor(private readonly host: SignInTokenHost) {}

  /**
   * Redeems an authorization code: single use (AADSTS54005 the second time, nothing else
   * happens), bound to the client and `redirect_uri`, PKCE S256 `code_verifier` required (AADSTS501481).
   */
  authorizationCode(form: Readonly<Record<string, string>>, caller: AuthenticatedClient): Record<string, unknown> {
    const taken = this.host.grants.redeemCode(required(form, 'code'));
    if (taken === 'redeemed') throw invalidGrant(54005, 'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.');
    if (taken === undefined) throw invalidGrant(70008, 'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.');
    if (taken.clientId !== caller.app.clientId) throw invalidGrant(70000, 'The provided authorization code was issued to another application.');
    if (form.redirect_uri !== taken.redirectUri) {
      throw invalidGrant(500112, `The reply address '${form.redirect_uri ?? ''}' does not match the reply address '${taken.redirectUri}' provided when requesting Authorization code.`);
    }
    const verifier = form.code_verifier ?? '';
    if (createHash('sha256').update(verifier).digest('base64url') !== taken.codeChallenge || verifier === '') {
      throw invalidGrant(501481, 'The Code_Verifier does not match the code_challenge supplied in the authorization request for PKCE.');
    }
    const scope = hasResourceScope(form.scope) ? form.scope! : [...taken.scopes, ...(form.scope ?? '').split(' ')].join(' ');
    return this.respond(taken, scope, caller, taken.claims, taken.nonce);
  }

  /**
   * Redeems a refresh token for any resource the user consented to for this client; unknown or
   * expired AADSTS700082, revoked AADSTS50173 (both `suberror: bad_token`). The old token stays valid.
   */
  refreshToken(form: Readonly<Record<string, string>>, caller: AuthenticatedClient): Record<string, unknown> {
    const record = this.host.grants.refreshToken(required(form, 'refresh_token'));
    if (!record) {
      throw invalidGrant(700082, 'The refresh token has expired due to inactivity. The token was issued a long time ago and was inactive.', { suberror: 'bad_token' });
    }
    if (record.revoked) {
      throw invalidGrant(50173, 'The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.', { suberror: 'bad_token' });
    }
    if (record.clientId !== caller.app.clientId) throw invalidGrant(70000, 'The refresh token was issued to another application.', { suberror: 'client_mismatch' });
    return this.respond(record, form.scope ?? '', caller, form.claims, undefined);
  }

  private respond(facts: SignInFacts, scope: string, caller: AuthenticatedClient, claims: string | undefined, nonce: string | undefined): Record<string, unknown> {
    const user = this.host.users.byOid(facts.oid);
    if (!user) throw invalidGrant(50173, 'The user of this grant no longer exists.', { suberror: 'bad_token' });
    const requested = scope.split(' ').filter((s) => s.length > 0);
    const oidc = requested.filter((s) => CONSENT_FREE_SCOPES.has(s));
    const demand = parseClaimsRequest(claims);
    let accessClaims: Record<string, unknown>;
    let granted: readonly string[] = [];
    if (hasResourceScope(scope)) {
      const grant = parseDelegatedScopes(scope, this.host.registry);
      const { resourceScopes } = resolveScopes(requested, this.host.registry, (text) => invalidScope(text));
      if (this.host.consents.missing(facts.oid, caller.app.clientId, resourceScopes).length > 0) {
        throw invalidGrant(65001, undefined, { suberror: 'consent_required' });
      }
      this.host.policies.enforce(grant.resource.clientId, facts.mfa);
      granted = grant.granted;
      accessClaims = { aud: grant.resource.clientId, sub: pairwiseSubject(user.oid, grant.resource.clientId), scp: grant.names.join(' ') };
    } else {
      accessClaims = { aud: caller.app.clientId, sub: pairwiseSubject(user.oid, caller.app.clientId), scp: oidc.filter((s) => s !== 'offline_access').join(' ') };
    }
    if (demand.needsMfa && !facts.mfa) throw mfaRequired(claims!);
    const minting = this.host.minting;
    const lifetime = minting.lifetimeSeconds();
    const tid = this.host.tenantId;
    const identity = { oid: user.oid, tid, name: user.name, preferred_username: user.username };
    const { aud, ...rest } = accessClaims;
    const accessToken = minting.mintUserToken({
      audience: aud as string,
      tenantId: tid,
      lifetimeSeconds: lifetime,
      claims: {
        ...identity,
        ...rest,
        amr: facts.mfa ? ['pwd', 'mfa'] : ['pwd'],
        azp: caller.app.clientId,
        azpacr: caller.acr,
        ...(demand.acrs.length > 0 && facts.mfa ? { acrs: [...demand.acrs] } : {}),
      },
    });
    const idToken = oidc.includes('openid')
      ? minting.mintUserToken({
          audience: caller.app.clientId,
          tenantId: tid,
          lifetimeSeconds: lifetime,
          claims: {
            ...identity,
            sub: pairwiseSubject(user.oid, caller.app.clientId),
            sid: facts.sid,
            auth_time: facts.authTime,
            ...(nonce === undefined ? {} : { nonce }),
            ...(oidc.includes('email') ? { email: user.username } : {}),
            azp: undefined,
            azpacr: undefined,
            scp: undefined,
            uti: undefined,
          },
        })
      : undefined;
    const refreshToken = oidc.includes('offline_access') ? this.host.grants.issueRefreshToken({ ...pick(facts), clientId: caller.app.clientId }) : undefined;
    return {
      token_type: 'Bearer',
      scope: [...granted, ...oidc].join(' '),
      expires_in: lifetime,
      ext_expires_in: lifetime,
      access_token: accessToken,
      ...(refreshToken === undefined ? {} : { refresh_token: refreshToken }),
      ...(idToken === undefined ? {} : { id_token: idToken }),
      client_info: Buffer.from(JSON.stringify({ uid: user.oid, utid: tid })).toString('base64url'),
    };
  }
}

function pick(facts: SignInFacts): SignInFacts {
  return { oid: facts.oid, clientId: facts.clientId, sid: facts.sid, authTime: facts.authTime, mfa: facts.mfa };
}

function hasResourceScope(scope: string | undefined): boolean {
  return (scope ?? '').split(' ').some((s) => s.length > 0 && !CONSENT_FREE_SCOPES.has(s));
}

function required(form: Readonly<Record<string, string>>, name: string): string {
  const value = form[name];
  if (value === undefined || value === '') throw invalidRequest(`The request body must contain the following parameter: '${name}'.`);
  return value;
}
