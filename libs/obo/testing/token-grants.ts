import { randomBytes } from 'node:crypto';
import { pairwiseSubject, servicePrincipalId, type AppRegistration } from './app-registrations.js';
import type { UserAssertion } from './assertion-validation.js';
import type { AuthenticatedClient } from './client-authentication.js';
import type { MintOptions } from './mint-options.js';
import type { ScopeGrant } from './scope-request.js';
import { parseClaimsRequest } from './claims-request.js';

/** RFC 8693 token type URI of an access token. */
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** How the grants mint tokens: the authority's own minting with its active key. */
export interface TokenMinting {
  /** {@link LocalAuthority.mintUserToken}. */
  mintUserToken(options: MintOptions): string;
  /** {@link LocalAuthority.mintAppToken}. */
  mintAppToken(options: MintOptions): string;
  /** `expires_in` of issued tokens (read per request: tests may change it). */
  lifetimeSeconds(): number;
}

/**
 * Issues the OBO response: a v2 access token for the resource (`aud` its client id, pairwise
 * `sub`, `azp` the caller, `scp` the granted names, the assertion's `amr`, `acrs` from a `claims` request), plus an
 * opaque refresh token, a signed id token for the caller and `client_info` (msal needs it).
 */
export function onBehalfOfResponse(
  user: UserAssertion,
  grant: ScopeGrant,
  caller: AuthenticatedClient,
  minting: TokenMinting,
  claimsRequest: string | undefined,
): Record<string, unknown> {
  const lifetime = minting.lifetimeSeconds();
  return {
    token_type: 'Bearer',
    scope: grant.granted.join(' '),
    expires_in: lifetime,
    ext_expires_in: lifetime,
    access_token: delegatedAccessToken(user, grant, caller, minting, claimsRequest),
    refresh_token: randomBytes(48).toString('base64url'),
    id_token: minting.mintUserToken({
      audience: caller.app.clientId,
      tenantId: user.tid,
      lifetimeSeconds: lifetime,
      claims: {
        ...userClaims(user, caller.app),
        scp: undefined,
        azp: undefined,
        azpacr: undefined,
        uti: undefined,
      },
    }),
    client_info: Buffer.from(JSON.stringify({ uid: user.oid, utid: user.tid })).toString('base64url'),
  };
}

/** Issues the RFC 8693 token-exchange response (same access token as OBO, no refresh token). */
export function tokenExchangeResponse(
  user: UserAssertion,
  grant: ScopeGrant,
  caller: AuthenticatedClient,
  minting: TokenMinting,
  claimsRequest: string | undefined,
): Record<string, unknown> {
  return {
    access_token: delegatedAccessToken(user, grant, caller, minting, claimsRequest),
    issued_token_type: ACCESS_TOKEN_TYPE,
    token_type: 'Bearer',
    expires_in: minting.lifetimeSeconds(),
    scope: grant.granted.join(' '),
  };
}

/**
 * Issues the client-credentials response: an app-only token (`idtyp` app, `oid` = `sub` = the
 * caller's service principal, `roles` = its app roles on the resource, omitted when none).
 */
export function clientCredentialsResponse(
  resource: AppRegistration,
  caller: AuthenticatedClient,
  tenantId: string,
  minting: TokenMinting,
): Record<string, unknown> {
  const principal = servicePrincipalId(caller.app.clientId);
  const roles = caller.app.appRoles?.[resource.clientId] ?? [];
  const lifetime = minting.lifetimeSeconds();
  const accessToken = minting.mintAppToken({
    audience: resource.clientId,
    tenantId,
    lifetimeSeconds: lifetime,
    claims: { oid: principal, sub: principal, idtyp: 'app', azp: caller.app.clientId, azpacr: caller.acr, roles: roles.length > 0 ? [...roles] : undefined },
  });
  return { token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, access_token: accessToken };
}

function delegatedAccessToken(
  user: UserAssertion,
  grant: ScopeGrant,
  caller: AuthenticatedClient,
  minting: TokenMinting,
  claimsRequest: string | undefined,
): string {
  const { acrs } = parseClaimsRequest(claimsRequest);
  const amr = user.claims.amr;
  return minting.mintUserToken({
    audience: grant.resource.clientId,
    tenantId: user.tid,
    lifetimeSeconds: minting.lifetimeSeconds(),
    claims: {
      ...userClaims(user, grant.resource),
      azp: caller.app.clientId,
      azpacr: caller.acr,
      scp: grant.names.join(' '),
      ...(Array.isArray(amr) ? { amr } : {}),
      ...(acrs.length > 0 ? { acrs: [...acrs] } : {}),
    },
  });
}

function userClaims(user: UserAssertion, audienceApp: AppRegistration): Record<string, unknown> {
  return {
    oid: user.oid,
    tid: user.tid,
    sub: pairwiseSubject(user.oid, audienceApp.clientId),
    name: user.name,
    preferred_username: user.preferredUsername,
  };
}
