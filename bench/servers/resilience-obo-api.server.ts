// The JWKS-flood target (resilience-jwks bench): a Nest app protected by OboModule with its
// defaults (global JWT + scopes guards), one delegated route. Started as a child process; prints
// `LISTENING <url>` once it listens. Configuration from the environment (RES_*).
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import { CurrentUser, OboModule, Principal, Public, RequiredScopes } from '../../libs/obo/src/index.js';
import { SigningKeyStore } from '../../libs/obo/src/inbound/jwt/signing-key.store.js';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

@Controller()
class PingController {
  constructor(private readonly keys: SigningKeyStore) {}

  @Get('api/ping')
  @RequiredScopes('access_as_user')
  ping(@CurrentUser() user: Principal): { oid: string } {
    return { oid: user.objectId };
  }

  /** For the bench only: how many key-set fetches this process attempted (attributes the authority's JWKS count). */
  @Get('bench/jwks-fetches')
  @Public()
  fetches(): { fetchCount: number } {
    return { fetchCount: this.keys.fetchCount };
  }
}

@Module({
  imports: [OboModule.forRoot({ instance: env('RES_INSTANCE'), tenantId: env('RES_TENANT_ID'), clientId: env('RES_CLIENT_ID') })],
  controllers: [PingController],
})
class OboApiModule {}

const app = await NestFactory.create(OboApiModule, { logger: false });
await app.listen(0, '127.0.0.1');
console.log(`LISTENING http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`);
