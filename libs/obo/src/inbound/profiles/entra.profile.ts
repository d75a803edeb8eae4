import type { ResolvedInboundOptions } from '../../options/resolve-obo-options.js';
import { ClaimsRejection, validateClaims } from '../jwt/validate-claims.js';
import type { TokenProfile } from './token-profile.js';

/**
 * Entra ID v1.0 and v2.0 access tokens: `typ` `JWT`; `ver` bound to its issuer form, `tid` on the
 * allow-list and in the issuer, `oid`, `scp` / `roles`, `azp` / `appid`, `idtyp` (see validate-claims.ts).
 */
export function entraProfile(options: ResolvedInboundOptions): TokenProfile {
  return {
    name: 'entra',
    checkType(typ) {
      if (typeof typ !== 'string' || typ.toLowerCase() !== 'jwt') throw new ClaimsRejection('typ not accepted');
    },
    principal: (payload, _header, context) => validateClaims(payload, options, context),
  };
}
