import type { AuthorityKey } from './authority-keys.js';
import { oauthError } from './oidc-errors.js';
import type { OidcMintOptions } from './oidc-mint-options.js';
import type { OidcApiRegistration, OidcClientRegistration, OidcGrant, OidcRegistry } from './oidc-registrations.js';
import { validateSubjectToken, type SubjectTokenErrorCode } from './oidc-subject-token.js';
import { ACCESS_TOKEN_TYPE } from './token-grants.js';

/**
 * What the token endpoint does with `requested_token_type`: `optional` (absent or the access-token
 * type; the RFC 8693 default), `required` (Auth0 documents it as required), `refused` (present is 400).
 * Any other requested type is 400 `invalid_request`.
 */
export type RequestedTokenTypePolicy = 'optional' | 'required' | 'refused';

/** Claims of the subject token carried over into the exchanged token. */
const CARRIED_USER_CLAIMS = ['name', 'email', 'preferred_username', 'org_id', 'auth_time', 'acr', 'amr', 'sid', 'realm_access'] as const;

/** What the grants need from the authority. */
export interface OidcGrantHost {
  readonly issuer: string;
  readonly registry: OidcRegistry;
  readonly requestedTokenType: RequestedTokenTypePolicy;
  readonly subjectTokenError: SubjectTokenErrorCode;
  readonly maxActDepth: number;
  /** `expires_in` (and lifetime) of issued tokens, read per request. */
  lifetimeSeconds(): number;
  publishedKey(kid: string): AuthorityKey | undefined;
  mintUserToken(options: OidcMintOptions): string;
  mintAppToken(options: OidcMintOptions): string;
}

/**
 * RFC 8693 token exchange for a first-party API (Auth0 On-Behalf-Of rules): the subject token is
 * validated ({@link validateSubjectToken}), the target named by `audience` and/or `resource`, the
 * scopes limited to what the API defines, the caller may request for users, and the user holds.
 * The issued token keeps the user (`sub`, Okta `uid`) and says `act: { sub: <caller> }`, nesting the
 * subject token's own `act`.
 */
export async function tokenExchange(form: Readonly<Record<string, string>>, caller: OidcClientRegistration, host: OidcGrantHost): Promise<Record<string, unknown>> {
  mayUse(caller, 'token_exchange');
  const subjectToken = required(form, 'subject_token');
  const subjectType = required(form, 'subject_token_type');
  if (subjectType !== ACCESS_TOKEN_TYPE) throw oauthError(400, 'invalid_request', `Unsupported subject_token_type; only '${ACCESS_TOKEN_TYPE}' is accepted.`);
  checkRequestedType(form.requested_token_type, host.requestedTokenType);
  if (form.actor_token !== undefined || form.actor_token_type !== undefined) throw oauthError(400, 'invalid_request', 'actor_token is not supported.');
  const api = target(form, host.registry);
  const user = await validateSubjectToken(subjectToken, {
    issuer: host.issuer,
    publishedKey: (kid) => host.publishedKey(kid),
    caller,
    maxActDepth: host.maxActDepth,
    errorCode: host.subjectTokenError,
  });
  const permitted = caller.delegatedScopes === undefined ? api.scopes : caller.delegatedScopes[api.audience];
  if (permitted === undefined) throw oauthError(403, 'access_denied', `The client may not act for users on '${api.audience}'.`);
  const held = host.registry.scopesOfUser(user.subject, api);
  const scopes = grantedScopes(form.scope, api, permitted.filter((s) => held.includes(s)));
  const lifetime = host.lifetimeSeconds();
  const carried = Object.fromEntries(CARRIED_USER_CLAIMS.filter((c) => user.claims[c] !== undefined).map((c) => [c, user.claims[c]]));
  const accessToken = host.mintUserToken({
    audience: api.audience,
    subject: user.subject,
    ...(user.userId !== undefined ? { userId: user.userId } : {}),
    clientId: caller.clientId,
    scopes,
    act: { sub: caller.clientId, ...(user.act !== undefined ? { act: user.act as never } : {}) },
    lifetimeSeconds: lifetime,
    claims: carried,
  });
  return { access_token: accessToken, issued_token_type: ACCESS_TOKEN_TYPE, token_type: 'Bearer', expires_in: lifetime, scope: scopes.join(' ') };
}

/**
 * Client credentials for an API named by `audience` and/or `resource`: scopes limited to what the
 * caller was granted on it ({@link OidcClientRegistration.appScopes}; none: 403 `access_denied`).
 */
export function clientCredentials(form: Readonly<Record<string, string>>, caller: OidcClientRegistration, host: OidcGrantHost): Record<string, unknown> {
  mayUse(caller, 'client_credentials');
  const api = target(form, host.registry);
  const permitted = caller.appScopes?.[api.audience];
  if (permitted === undefined) throw oauthError(403, 'access_denied', `The client is not authorized to access '${api.audience}'.`);
  const scopes = grantedScopes(form.scope, api, permitted);
  const roles = caller.appRoles?.[api.audience];
  const lifetime = host.lifetimeSeconds();
  const accessToken = host.mintAppToken({
    audience: api.audience,
    clientId: caller.clientId,
    scopes,
    ...(roles ? { roles, clientRoles: { [api.audience]: roles } } : {}),
    lifetimeSeconds: lifetime,
  });
  return { access_token: accessToken, token_type: 'Bearer', expires_in: lifetime, scope: scopes.join(' ') };
}

/** The API named by `audience` and/or `resource` (both: the same API); unknown: 400 `invalid_target`. */
function target(form: Readonly<Record<string, string>>, registry: OidcRegistry): OidcApiRegistration {
  const { audience, resource } = form;
  if (audience === undefined && resource === undefined) throw oauthError(400, 'invalid_request', "The request must name the target API with 'audience' or 'resource'.");
  const byAudience = audience === undefined ? undefined : registry.apiByAudience(audience);
  const byResource = resource === undefined ? undefined : registry.apiByResource(resource);
  if (audience !== undefined && !byAudience) throw oauthError(400, 'invalid_target', `Unknown audience '${audience}'.`);
  if (resource !== undefined && !byResource) throw oauthError(400, 'invalid_target', `Unknown resource '${resource}'.`);
  if (byAudience && byResource && byAudience !== byResource) throw oauthError(400, 'invalid_target', "'audience' and 'resource' name different APIs.");
  return (byAudience ?? byResource)!;
}

/** The requested scopes (each defined by the API and permitted), or every permitted one when none is requested. */
function grantedScopes(scope: string | undefined, api: OidcApiRegistration, permitted: readonly string[]): string[] {
  const requested = (scope ?? '').split(' ').filter((s) => s !== '');
  if (requested.length === 0) return api.scopes.filter((s) => permitted.includes(s));
  for (const name of requested) {
    if (!api.scopes.includes(name)) throw oauthError(400, 'invalid_scope', `The scope '${name}' is not defined by '${api.audience}'.`);
    if (!permitted.includes(name)) throw oauthError(400, 'invalid_scope', `The scope '${name}' is not granted on '${api.audience}'.`);
  }
  return [...new Set(requested)];
}

function checkRequestedType(requested: string | undefined, policy: RequestedTokenTypePolicy): void {
  if (requested === undefined) {
    if (policy === 'required') throw oauthError(400, 'invalid_request', "The request must contain 'requested_token_type'.");
    return;
  }
  if (policy === 'refused') throw oauthError(400, 'invalid_request', "'requested_token_type' is not supported.");
  if (requested !== ACCESS_TOKEN_TYPE) throw oauthError(400, 'invalid_request', `Unsupported requested_token_type; only '${ACCESS_TOKEN_TYPE}' can be issued.`);
}

function mayUse(client: OidcClientRegistration, grant: OidcGrant): void {
  if (client.grants !== undefined && !client.grants.includes(grant)) throw oauthError(400, 'unauthorized_client', `The client may not use the ${grant} grant.`);
}

function required(form: Readonly<Record<string, string>>, name: string): string {
  const value = form[name];
  if (value === undefined || value === '') throw oauthError(400, 'invalid_request', `The request must contain '${name}'.`);
  return value;
}
