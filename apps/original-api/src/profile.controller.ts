import { Controller, Get } from '@nestjs/common';
import { CurrentUser, DownstreamApi, Principal, RequiredAppPermissions, RequiredScopes } from 'nestjs-obo';

/** What the Downstream API's /api/whoami answers. */
export type DownstreamWhoAmI = Record<string, unknown>;

@Controller('api')
export class ProfileController {
  constructor(private readonly downstream: DownstreamApi) {}

  /** The caller, and the Downstream API's view of the same user reached On-Behalf-Of. */
  @Get('profile')
  @RequiredScopes('access_as_user')
  async profile(@CurrentUser() user: Principal): Promise<{ caller: { objectId: string; tenantId: string }; downstream: DownstreamWhoAmI }> {
    const downstream = await this.downstream.get<DownstreamWhoAmI>('downstream', '/api/whoami');
    return { caller: { objectId: user.objectId, tenantId: user.tenantId }, downstream };
  }

  /** The same, from the Downstream API's route behind an authentication context (Conditional Access). */
  @Get('secure-profile')
  @RequiredScopes('access_as_user')
  async secureProfile(@CurrentUser() user: Principal): Promise<{ caller: { objectId: string; tenantId: string }; downstream: DownstreamWhoAmI }> {
    const downstream = await this.downstream.get<DownstreamWhoAmI>('downstream', '/api/secure-whoami');
    return { caller: { objectId: user.objectId, tenantId: user.tenantId }, downstream };
  }

  /** For app-only callers: the Downstream API called with this API's own app token. */
  @Get('app-profile')
  @RequiredAppPermissions('Profile.Read.All')
  async appProfile(): Promise<{ downstream: DownstreamWhoAmI }> {
    return { downstream: await this.downstream.get<DownstreamWhoAmI>('downstreamAsApp', '/api/whoami') };
  }
}
