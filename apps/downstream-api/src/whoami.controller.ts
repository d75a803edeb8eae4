import { Controller, Get } from '@nestjs/common';
import { ClaimsChallengeError, CurrentUser, Principal, RequiredAppPermissions, RequiredScopes } from 'nestjs-obo';

/**
 * The authentication context this API's sensitive route asks for (Entra's `acrs` claim; an admin maps
 * `c1` to "require MFA" with Conditional Access).
 */
export const SECURE_CLAIMS = '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}';

/** What the Downstream API knows about its caller, from the validated token only. */
export interface WhoAmI {
  objectId: string;
  subject: string;
  tenantId: string;
  clientAppId: string | null;
  scopes: readonly string[];
  roles: readonly string[];
  tokenKind: 'user' | 'app';
}

@Controller('api')
export class WhoAmIController {
  /** A user with scope `Downstream.Read`, or an app with permission `Downstream.Read.All`. */
  @Get('whoami')
  @RequiredScopes('Downstream.Read')
  @RequiredAppPermissions('Downstream.Read.All')
  whoami(@CurrentUser() user: Principal): WhoAmI {
    return {
      objectId: user.objectId,
      subject: user.subject,
      tenantId: user.tenantId,
      clientAppId: user.clientAppId ?? null,
      scopes: user.scopes,
      roles: user.roles,
      tokenKind: user.isAppOnly ? 'app' : 'user',
    };
  }

  /**
   * Like `whoami`, behind an authentication context: a token without `acrs: ["c1"]` gets a 401
   * claims challenge (`insufficient_claims`), which the caller must relay back to the user.
   */
  @Get('secure-whoami')
  @RequiredScopes('Downstream.Read')
  secureWhoami(@CurrentUser() user: Principal): WhoAmI {
    const acrs = user.claims.acrs;
    if (!Array.isArray(acrs) || !acrs.includes('c1')) throw new ClaimsChallengeError(SECURE_CLAIMS, []);
    return this.whoami(user);
  }
}
