import { ClaimsRejection } from '../jwt/validate-claims.js';
import type { DialectRules, ProfileDialects } from './dialect-rules.js';
import { isAtJwt } from './dialect-rules.js';

/** Auth0 machine-to-machine tokens: `sub` is `<client id>@clients`. */
function isMachineSubject(payload: Readonly<Record<string, unknown>>, clientId: string | undefined): boolean {
  return clientId !== undefined && payload.sub === `${clientId}@clients`;
}

/**
 * Auth0's default ("Auth0") access-token dialect: `typ` `JWT`, the client in `azp`, scopes in
 * `scope`, RBAC permissions in `permissions`. A client-credentials token says
 * `gty: "client-credentials"` and has `sub` `<client id>@clients`; a token that claims one without
 * the other is refused (RFC 8725 §3.12: a token that claims to be two kinds is neither).
 */
export const AUTH0_RULES: DialectRules = {
  required: [],
  scopes: 'scope',
  scopeForm: 'string',
  appPermissions: ['permissions'],
  clientId: 'azp',
  userId: 'sub',
  isAppOnly: (payload, clientId) => {
    const machine = isMachineSubject(payload, clientId);
    const grant = payload.gty;
    const clientCredentials = grant === 'client-credentials' || (Array.isArray(grant) && grant.includes('client-credentials'));
    if (clientCredentials !== machine && grant !== undefined) throw new ClaimsRejection('gty and sub disagree about the caller kind');
    return machine;
  },
};

/** Auth0's RFC 9068 dialect: `typ` `at+jwt`, the client in `client_id`, `jti` required; machine `sub` as above. */
export const AUTH0_RFC9068_RULES: DialectRules = {
  required: ['client_id', 'jti'],
  scopes: 'scope',
  scopeForm: 'string',
  appPermissions: ['permissions'],
  clientId: 'client_id',
  userId: 'sub',
  isAppOnly: isMachineSubject,
};

export const auth0Dialects: ProfileDialects = (typ) => (isAtJwt(typ) ? AUTH0_RFC9068_RULES : typ?.toLowerCase() === 'jwt' ? AUTH0_RULES : undefined);
