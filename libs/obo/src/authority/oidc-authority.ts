/**
 * Every URL the module builds for an authority other than Entra ID (`issuer` set), in one place.
 * Only metadata locations are built; the token endpoint and the key set come from the metadata.
 */

/**
 * Where an issuer's metadata may be, in the order they are tried:
 * 1. OpenID Connect Discovery 1.0 §4: `<issuer>/.well-known/openid-configuration` (the issuer's
 *    trailing slash, if any, is not doubled): Auth0, Okta, Keycloak, oidc-provider;
 * 2. RFC 8414 §3.1: `/.well-known/oauth-authorization-server` inserted between the host and the
 *    issuer's path (for an issuer without a path, appended);
 * 3. `<issuer>/.well-known/oauth-authorization-server`, the appended form Okta also serves.
 * Each is used only if its `issuer` equals the configured one byte for byte.
 */
export function oidcMetadataUrls(issuer: string): readonly string[] {
  const url = new URL(issuer);
  const base = issuer.replace(/\/+$/, '');
  const path = url.pathname.replace(/\/+$/, '');
  const rfc8414 = `${url.origin}/.well-known/oauth-authorization-server${path}`;
  const appended = `${base}/.well-known/oauth-authorization-server`;
  return [...new Set([`${base}/.well-known/openid-configuration`, rfc8414, appended])];
}
