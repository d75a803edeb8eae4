import { Controller, Get, Module, Param } from '@nestjs/common';
import { DownstreamApi, OboModule, Principal, Public, RequestContext, type OboModuleOptions } from 'nestjs-obo';
import { listen, type ApiUnderTest } from './api-under-test.js';

/** The user the next request is served for: set by the test, as the guard would from a validated token. */
export const servedUser: { principal?: Principal } = {};

/** A user principal at a generic authority for `assertion` (what inbound validation would build). */
export function genericUser(issuer: string, assertion: string, subject = 'user-1'): Principal {
  return new Principal(
    { objectId: subject, tenantId: issuer, subject, clientAppId: 'spa', scopes: ['access_as_user'], roles: [], isAppOnly: false, claims: { iss: issuer, aud: 'api', sub: subject, tid: issuer, exp: 0, nbf: 0, iat: 0, ver: '' } },
    assertion,
  );
}

/**
 * GET /call/:api calls the downstream API `:api` through DownstreamApi for {@link servedUser}. The
 * route is public and sets the principal itself (the guard's job), so the outbound path and the
 * exception filter run end to end over HTTP without depending on inbound validation.
 */
@Controller()
class ExchangeController {
  constructor(
    private readonly context: RequestContext,
    private readonly downstream: DownstreamApi,
  ) {}

  @Get('call/:api')
  @Public()
  call(@Param('api') api: string): Promise<unknown> {
    if (servedUser.principal) this.context.setPrincipal(servedUser.principal);
    return this.downstream.get(api, '/data');
  }
}

/** Boots OboModule.forRoot(options) with the exchange route, without the global guard. */
export function startExchangeApi(options: OboModuleOptions): Promise<ApiUnderTest> {
  @Module({ imports: [OboModule.forRoot({ ...options, globalGuard: false })], controllers: [ExchangeController] })
  class ExchangeAppModule {}
  return listen(ExchangeAppModule);
}
