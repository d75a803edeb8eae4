import { Controller, Get } from '@nestjs/common';
import { CurrentUser, Principal, RequiredAppPermissions, RequiredScopes } from 'nestjs-obo';

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
}
