// The Original API of the end-to-end bench (ours): OboModule with its defaults, and the sample's
// `GET /api/profile` (apps/original-api/src/profile.controller.ts): guard, scopes, an On-Behalf-Of
// token from TokenAcquisition (cached after the user's first call) through DownstreamApi, and the
// downstream call.
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import type { Principal } from '../../libs/obo/src/context/principal.js';
import { CurrentUser } from '../../libs/obo/src/context/current-user.decorator.js';
import { DownstreamApi } from '../../libs/obo/src/outbound/downstream-api/downstream-api.service.js';
import { OboModule } from '../../libs/obo/src/obo.module.js';
import { RequiredScopes } from '../../libs/obo/src/inbound/scopes/required-scopes.decorator.js';
import { failStartup, serveBench, serverConfig } from '../lib/child-server.js';

export interface OriginalApiServerConfig {
  readonly instance: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** `http://127.0.0.1:<port>` of the downstream server. */
  readonly downstreamBaseUrl: string;
  /** `api://<downstream>/Downstream.Read`. */
  readonly downstreamScope: string;
}

const config = serverConfig<OriginalApiServerConfig>();

@Controller('api')
class ProfileController {
  constructor(private readonly downstream: DownstreamApi) {}

  @Get('profile')
  @RequiredScopes('access_as_user')
  async profile(@CurrentUser() user: Principal): Promise<{ caller: { objectId: string; tenantId: string }; downstream: unknown }> {
    const downstream = await this.downstream.get<unknown>('downstream', '/api/whoami');
    return { caller: { objectId: user.objectId, tenantId: user.tenantId }, downstream };
  }
}

@Module({
  imports: [
    OboModule.forRoot({
      instance: config.instance,
      tenantId: config.tenantId,
      clientId: config.clientId,
      clientSecret: config.clientSecret,
      downstreamApis: { downstream: { baseUrl: config.downstreamBaseUrl, scopes: [config.downstreamScope] } },
    }),
  ],
  controllers: [ProfileController],
})
class OriginalApiModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create(OriginalApiModule, { logger: ['error', 'warn'] });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  serveBench(`http://127.0.0.1:${port}`, () => app.close());
}

main().catch(failStartup);
