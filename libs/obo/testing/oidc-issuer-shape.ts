/**
 * How a generic authority lays out its issuer and endpoints:
 * - `auth0`: issuer `https://<host>/` (trailing slash), JWKS `/.well-known/jwks.json`, token `/oauth/token`;
 * - `okta`: issuer `https://<host>/oauth2/<authServerId>`, JWKS `<issuer>/v1/keys`, token `<issuer>/v1/token`;
 * - `keycloak`: issuer `https://<host>/realms/<realm>`, JWKS `<issuer>/protocol/openid-connect/certs`,
 *   token `<issuer>/protocol/openid-connect/token`;
 * - `generic`: issuer `https://<host>/<path>`, JWKS `<issuer>/jwks`, token `<issuer>/token`.
 */
export type OidcIssuerShape = 'auth0' | 'okta' | 'keycloak' | 'generic';

/** Which discovery documents the authority serves. */
export type OidcMetadataForm = 'both' | 'rfc8414-only';

/** The URLs of a generic authority, all derived from its origin and shape. */
export interface OidcEndpoints {
  /** The `issuer`, exactly as tokens and metadata carry it. */
  readonly issuer: string;
  /** `<issuer>/.well-known/openid-configuration` (the issuer's trailing slash not doubled). */
  readonly openidConfiguration: string;
  /** RFC 8414 §3.1: `/.well-known/oauth-authorization-server` inserted between host and path. */
  readonly authorizationServerMetadata: string;
  /** Where the JWKS is served (`jwks_uri`). */
  readonly jwksUri: string;
  /** The `token_endpoint`: token exchange and client credentials. */
  readonly tokenEndpoint: string;
  /** Advertised only (not served): a real authority has one, and OIDC discovery requires it. */
  readonly authorizationEndpoint: string;
}

/** Names inside a shape's issuer path. */
export interface IssuerNames {
  /** Okta authorization server id. Default `default`. */
  authServerId?: string;
  /** Keycloak realm. Default `test`. */
  realm?: string;
  /** Path of a `generic` issuer (not empty), without slashes at either end. Default `as`. */
  path?: string;
}

/** The endpoints of an authority at `origin` (`https://127.0.0.1:<port>`) with the given shape. */
export function oidcEndpoints(origin: string, shape: OidcIssuerShape, names: IssuerNames = {}): OidcEndpoints {
  const issuer = issuerOf(origin, shape, names);
  const base = issuer.replace(/\/$/, '');
  const path = new URL(issuer).pathname.replace(/\/$/, '');
  const auth0 = shape === 'auth0';
  return {
    issuer,
    openidConfiguration: `${base}/.well-known/openid-configuration`,
    authorizationServerMetadata: `${origin}/.well-known/oauth-authorization-server${path}`,
    jwksUri: auth0 ? `${origin}/.well-known/jwks.json` : `${base}${ENDPOINT_PATHS[shape].jwks}`,
    tokenEndpoint: auth0 ? `${origin}/oauth/token` : `${base}${ENDPOINT_PATHS[shape].token}`,
    authorizationEndpoint: auth0 ? `${origin}/authorize` : `${base}${ENDPOINT_PATHS[shape].authorize}`,
  };
}

const ENDPOINT_PATHS: Readonly<Record<Exclude<OidcIssuerShape, 'auth0'>, { jwks: string; token: string; authorize: string }>> = {
  okta: { jwks: '/v1/keys', token: '/v1/token', authorize: '/v1/authorize' },
  keycloak: { jwks: '/protocol/openid-connect/certs', token: '/protocol/openid-connect/token', authorize: '/protocol/openid-connect/auth' },
  generic: { jwks: '/jwks', token: '/token', authorize: '/authorize' },
};

function issuerOf(origin: string, shape: OidcIssuerShape, names: IssuerNames): string {
  switch (shape) {
    case 'auth0':
      return `${origin}/`;
    case 'okta':
      return `${origin}/oauth2/${segment(names.authServerId ?? 'default', 'authServerId')}`;
    case 'keycloak':
      return `${origin}/realms/${segment(names.realm ?? 'test', 'realm')}`;
    case 'generic':
      return `${origin}/${segment(names.path ?? 'as', 'path', true)}`;
  }
}

function segment(value: string, name: string, slashes = false): string {
  const pattern = slashes ? /^[\w.~-]+(\/[\w.~-]+)*$/ : /^[\w.~-]+$/;
  if (!pattern.test(value)) throw new Error(`LocalOidcAuthority: ${name} "${value}" must be plain URL path text${slashes ? ' (inner slashes allowed)' : ''}.`);
  return value;
}
