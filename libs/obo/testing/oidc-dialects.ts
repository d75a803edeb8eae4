import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { ActClaim } from './oidc-mint-options.js';

/**
 * The access-token dialects {@link LocalOidcAuthority} mints, as `TokenProfileName` documents them:
 * - `rfc9068`: header `typ` `at+jwt`; `iss`, `exp`, `aud`, `sub`, `client_id`, `iat`, `jti`; `scope`
 *   string; `roles` when given; app-only: `sub` = `client_id`.
 * - `auth0`: header `typ` `JWT`; `iss` (trailing slash), `sub` `auth0|…`, `aud`, `iat`, `exp`, `azp`,
 *   `scope` string, `permissions` array, no `jti`; machine tokens `sub` `<client>@clients`, `gty`
 *   `client-credentials`.
 * - `auth0-rfc9068`: Auth0's RFC 9068 profile: `typ` `at+jwt`, `client_id` instead of `azp`, `jti`,
 *   `permissions`; machine tokens `sub` `<client>@clients`, no `gty`.
 * - `okta`: no `typ` header (Okta's tokens carry only `kid` and `alg`, from memory; docs/token-exchange-providers.md Q8
 *   leaves it open: override `header.typ` to test other forms); `ver` 1, `jti` `AT.…`, `cid`, `uid` (the user's id),
 *   `sub` the login, `scp` array; app-only: `sub` = `cid`, no `uid`.
 * - `keycloak`: `typ` `JWT`; `jti`, `typ` claim `Bearer`, `azp`, `scope` string, `realm_access.roles`,
 *   `resource_access.<client>.roles`, `preferred_username`; service-account tokens `client_id`,
 *   `preferred_username` `service-account-<client>`, `sub` the service-account user's id.
 */
export type OidcDialect = 'rfc9068' | 'auth0' | 'auth0-rfc9068' | 'okta' | 'keycloak';

/** The dialects, for `describe.each`. */
export const OIDC_DIALECTS: readonly OidcDialect[] = ['rfc9068', 'auth0', 'auth0-rfc9068', 'okta', 'keycloak'];

/** What a dialect places into a token (already defaulted). */
export interface TokenContent {
  readonly issuer: string;
  readonly audience: string | string[];
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly permissions?: readonly string[];
  readonly roles?: readonly string[];
  readonly clientRoles?: Readonly<Record<string, readonly string[]>>;
  readonly act?: ActClaim;
  readonly issuedAt: number;
  readonly lifetimeSeconds: number;
}

/** The user of a user token. */
export interface TokenUser {
  /** `sub`. */
  readonly subject: string;
  /** Okta `uid`. */
  readonly userId?: string;
}

/** The protected header's `typ` of a dialect (undefined: no `typ`). */
export function headerTypeOf(dialect: OidcDialect): string | undefined {
  if (dialect === 'rfc9068' || dialect === 'auth0-rfc9068') return 'at+jwt';
  return dialect === 'okta' ? undefined : 'JWT';
}

/** A default user of `dialect`: Auth0 `auth0|<24 hex>`, Okta a login and a `00u…` id, else a UUID. */
export function defaultUser(dialect: OidcDialect): TokenUser {
  if (dialect === 'auth0' || dialect === 'auth0-rfc9068') return { subject: `auth0|${randomBytes(12).toString('hex')}` };
  if (dialect === 'okta') return { subject: `user-${randomBytes(4).toString('hex')}@example.test`, userId: oktaUserId() };
  return { subject: randomUUID() };
}

/** An Okta-looking user id (`00u` + 17 characters). */
export function oktaUserId(): string {
  return `00u${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x').slice(0, 17)}`;
}

/** The claims of a user (delegated) access token in `dialect`. */
export function userClaims(dialect: OidcDialect, content: TokenContent, user: TokenUser): Record<string, unknown> {
  const claims = common(dialect, content);
  if (dialect === 'okta') {
    return { ...claims, uid: user.userId ?? oktaUserId(), sub: user.subject, ...actOf(content) };
  }
  if (dialect === 'keycloak') {
    return { ...claims, sub: user.subject, preferred_username: 'user@example.test', ...actOf(content) };
  }
  return { ...claims, sub: user.subject, ...actOf(content) };
}

/** The claims of an app-only (client credentials) access token in `dialect`. */
export function appClaims(dialect: OidcDialect, content: TokenContent): Record<string, unknown> {
  const claims = common(dialect, content);
  switch (dialect) {
    case 'auth0':
      return { ...claims, sub: `${content.clientId}@clients`, gty: 'client-credentials' };
    case 'auth0-rfc9068':
      return { ...claims, sub: `${content.clientId}@clients` };
    case 'keycloak':
      return {
        ...claims,
        sub: serviceAccountId(content.clientId),
        client_id: content.clientId,
        preferred_username: `service-account-${content.clientId}`.toLowerCase(),
      };
    default:
      return { ...claims, sub: content.clientId };
  }
}

/** The stable id of a Keycloak client's service-account user. */
export function serviceAccountId(clientId: string): string {
  const hex = createHash('sha256').update(`service-account:${clientId}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function common(dialect: OidcDialect, content: TokenContent): Record<string, unknown> {
  const times = { iat: content.issuedAt, exp: content.issuedAt + content.lifetimeSeconds };
  const base = { iss: content.issuer, aud: content.audience };
  const scope = content.scopes.join(' ');
  switch (dialect) {
    case 'rfc9068':
      return { ...base, ...times, jti: randomUUID(), client_id: content.clientId, scope, ...(content.roles ? { roles: [...content.roles] } : {}) };
    case 'auth0':
      return { ...base, ...times, azp: content.clientId, scope, permissions: [...(content.permissions ?? content.scopes)] };
    case 'auth0-rfc9068':
      return { ...base, ...times, jti: randomUUID(), client_id: content.clientId, scope, permissions: [...(content.permissions ?? content.scopes)] };
    case 'okta':
      return { ver: 1, jti: `AT.${randomBytes(24).toString('base64url')}`, ...base, ...times, cid: content.clientId, scp: [...content.scopes] };
    case 'keycloak':
      return {
        ...times,
        jti: randomUUID(),
        ...base,
        typ: 'Bearer',
        azp: content.clientId,
        scope,
        realm_access: { roles: [...(content.roles ?? [])] },
        ...(content.clientRoles ? { resource_access: Object.fromEntries(Object.entries(content.clientRoles).map(([c, roles]) => [c, { roles: [...roles] }])) } : {}),
      };
  }
}

function actOf(content: TokenContent): Record<string, unknown> {
  return content.act ? { act: content.act } : {};
}
