import type { OidcClientAuthMethod } from './oidc-client-authentication.js';
import type { OidcEndpoints } from './oidc-issuer-shape.js';
import { TOKEN_EXCHANGE_GRANT } from './token-endpoint.js';

/**
 * The authorization server metadata (OpenID Connect Discovery 1.0 §3 and RFC 8414 §2; the same
 * document at both addresses): issuer, endpoints, grants and client authentication methods.
 */
export function oidcMetadata(endpoints: OidcEndpoints, methods: readonly OidcClientAuthMethod[], scopes: readonly string[]): Record<string, unknown> {
  return {
    issuer: endpoints.issuer,
    authorization_endpoint: endpoints.authorizationEndpoint,
    token_endpoint: endpoints.tokenEndpoint,
    jwks_uri: endpoints.jwksUri,
    response_types_supported: ['code'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    grant_types_supported: ['client_credentials', TOKEN_EXCHANGE_GRANT],
    token_endpoint_auth_methods_supported: [...methods],
    ...(methods.includes('private_key_jwt') ? { token_endpoint_auth_signing_alg_values_supported: ['RS256', 'PS256', 'ES256'] } : {}),
    scopes_supported: [...new Set(scopes)],
  };
}
