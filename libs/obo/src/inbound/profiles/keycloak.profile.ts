import { ClaimsRejection } from '../jwt/validate-claims.js';
import type { DialectRules, ProfileDialects } from './dialect-rules.js';
import { isAtJwt } from './dialect-rules.js';

/**
 * Keycloak: scopes in `scope`, realm roles in `realm_access.roles` and client roles in
 * `resource_access.<client>.roles` (for this API's client id and each accepted audience), the
 * client in `azp`. Its payload `typ` claim names the token kind: only `Bearer` (an access token)
 * passes, never `ID` or `Refresh`. A service-account (client-credentials) token carries the
 * `client_id` claim, or a `preferred_username` of `service-account-<client>`. Header `typ` `JWT`,
 * or `at+jwt` when the client's RFC 9068 header option is on.
 */
export const keycloakDialects: ProfileDialects = (typ, options) => {
  if (!(typ?.toLowerCase() === 'jwt' || isAtJwt(typ))) return undefined;
  const clients = [...new Set([options.clientId, ...options.audience].filter((c) => c.length > 0 && !c.includes('.') && !c.includes('/')))];
  const rules: DialectRules = {
    required: [],
    scopes: 'scope',
    scopeForm: 'string',
    appPermissions: ['realm_access.roles', ...clients.map((c) => `resource_access.${c}.roles`)],
    clientId: 'azp',
    userId: 'sub',
    isAppOnly: (payload, clientId) =>
      (typeof payload.client_id === 'string' && payload.client_id === clientId) ||
      (clientId !== undefined && payload.preferred_username === `service-account-${clientId}`.toLowerCase()),
    check: (payload) => {
      if (payload.typ !== undefined && payload.typ !== 'Bearer') throw new ClaimsRejection('Keycloak token kind is not Bearer');
    },
  };
  return rules;
};
