import type { DialectRules, ProfileDialects } from './dialect-rules.js';
import { isAtJwt } from './dialect-rules.js';

/**
 * Okta custom authorization servers: scopes in `scp` (an array), the client in `cid`, the user's
 * Okta id in `uid` (`sub` is the login, which can change); a client-credentials token has no `uid`
 * and `sub` equal to `cid`. Okta signs access tokens without a `typ` (or `JWT`); `at+jwt` is also
 * taken. `cid` and `jti` are required.
 */
export const OKTA_RULES: DialectRules = {
  required: ['cid', 'jti'],
  scopes: 'scp',
  scopeForm: 'array',
  appPermissions: [],
  clientId: 'cid',
  userId: 'uid',
  isAppOnly: (payload, clientId) => payload.uid === undefined && clientId !== undefined && payload.sub === clientId,
};

export const oktaDialects: ProfileDialects = (typ) => (typ === undefined || typ.toLowerCase() === 'jwt' || isAtJwt(typ) ? OKTA_RULES : undefined);
