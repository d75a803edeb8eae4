import type { DialectRules, ProfileDialects } from './dialect-rules.js';
import { isAtJwt } from './dialect-rules.js';

/**
 * RFC 9068 JWT access tokens: `typ` `at+jwt`; `client_id` and `jti` required (§2.2); scopes in
 * `scope`; app permissions in `roles` (§2.2.3.1); a token issued without a resource owner has
 * `sub` equal to the client (§2.2: "the value of sub SHOULD correspond to an identifier the
 * authorization server uses to indicate the client application").
 */
export const RFC9068_RULES: DialectRules = {
  required: ['client_id', 'jti'],
  scopes: 'scope',
  scopeForm: 'string',
  appPermissions: ['roles'],
  clientId: 'client_id',
  userId: 'sub',
  isAppOnly: (payload, clientId) => clientId !== undefined && payload.sub === clientId,
};

export const rfc9068Dialects: ProfileDialects = (typ) => (isAtJwt(typ) ? RFC9068_RULES : undefined);
