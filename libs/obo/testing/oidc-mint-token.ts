import type { AuthorityKey } from './authority-keys.js';
import { appClaims, defaultUser, headerTypeOf, userClaims, type OidcDialect, type TokenContent } from './oidc-dialects.js';
import type { OidcMintOptions } from './oidc-mint-options.js';
import { applyOverrides } from './mint-token.js';
import { signCompact } from './sign-jwt.js';

/** What {@link mintOidcToken} takes from the authority when `options` leave a value out. */
export interface OidcMintDefaults {
  readonly issuer: string;
  readonly dialect: OidcDialect;
  /** Default `aud`. */
  readonly audience: string;
  /** Default client (`client_id` / `azp` / `cid`). */
  readonly clientId: string;
  /** Signing key (the active one). */
  readonly key: AuthorityKey;
}

/** The default scopes of a minted user token. */
export const DEFAULT_USER_SCOPES: readonly string[] = ['access_as_user'];

/**
 * Signs a user (`kind` `user`) or app-only (`app`) access token in the dialect of `options` (or the
 * authority's), then applies `options.claims` / `options.header` (`undefined` removes a member).
 */
export function mintOidcToken(kind: 'user' | 'app', options: OidcMintOptions, defaults: OidcMintDefaults): string {
  const dialect = options.dialect ?? defaults.dialect;
  const key = options.key ?? defaults.key;
  const content: TokenContent = {
    issuer: defaults.issuer,
    audience: options.audience === undefined ? defaults.audience : Array.isArray(options.audience) ? [...options.audience] : options.audience,
    clientId: options.clientId ?? defaults.clientId,
    scopes: options.scopes ?? (kind === 'user' ? DEFAULT_USER_SCOPES : []),
    ...(options.permissions ? { permissions: options.permissions } : {}),
    ...(options.roles ? { roles: options.roles } : {}),
    ...(options.clientRoles ? { clientRoles: options.clientRoles } : {}),
    ...(options.act ? { act: options.act } : {}),
    issuedAt: Math.floor(Date.now() / 1000),
    lifetimeSeconds: options.lifetimeSeconds ?? 3600,
  };
  let claims: Record<string, unknown>;
  if (kind === 'app') {
    claims = appClaims(dialect, content);
  } else {
    const fallback = defaultUser(dialect);
    const user = { subject: options.subject ?? fallback.subject, ...(options.userId ?? fallback.userId ? { userId: options.userId ?? fallback.userId } : {}) };
    claims = userClaims(dialect, content, user);
  }
  const typ = headerTypeOf(dialect);
  const header: Record<string, unknown> = { alg: key.alg, kid: key.kid, ...(typ ? { typ } : {}) };
  applyOverrides(claims, options.claims);
  applyOverrides(header, options.header);
  const alg = typeof header.alg === 'string' ? header.alg : key.alg;
  return signCompact(options.rawHeader ?? JSON.stringify(header), options.rawPayload ?? JSON.stringify(claims), alg, key.privateKey);
}
