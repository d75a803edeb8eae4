// One Nest/Express app with `GET /api/ok` → `{ ok: true }`, protected one of four ways (the
// `variant` of the JSON configuration argument), for the inbound-validation and JWKS-flood benches:
//   ours-full      OboModule with validatedTokenCacheMaxEntries: 0 (full validation each request)
//   ours-cached    OboModule with its defaults (a repeated token skips the signature check)
//   passport-jwks  the NestJS docs recipe: @nestjs/passport + passport-jwt + jwks-rsa, AuthGuard('jwt'),
//                  scope checked in the handler
//   none           no guard (the floor)
import 'reflect-metadata';
import { Controller, ForbiddenException, Get, Injectable, Module, Req, UseGuards, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AuthGuard, PassportModule, PassportStrategy } from '@nestjs/passport';
import jwksRsa from 'jwks-rsa';
import type { AddressInfo } from 'node:net';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { OboModule, RequiredScopes } from '../../libs/obo/src/index.js';
import { SigningKeyStore } from '../../libs/obo/src/inbound/jwt/signing-key.store.js';
import { failStartup, serveBench, serverConfig } from '../lib/child.js';

export type InboundVariant = 'ours-full' | 'ours-cached' | 'passport-jwks' | 'none';

export interface InboundServerConfig {
  variant: InboundVariant;
  /** `https://127.0.0.1:<port>/` of the local authority. */
  instance: string;
  tenantId: string;
  /** The API's client id: the tokens' `aud`. */
  clientId: string;
  /** The delegated scope the route requires. */
  scope: string;
  /** No Nest logger (the JWKS flood makes ours warn about unknown key ids). */
  quiet?: boolean;
}

const config = serverConfig<InboundServerConfig>();

function oursModule(): Type {
  @Controller('api')
  class OkController {
    @Get('ok')
    @RequiredScopes(config.scope as string)
    ok(): { ok: true } {
      return { ok: true };
    }
  }
  @Module({
    imports: [
      OboModule.forRoot({
        instance: config.instance,
        tenantId: config.tenantId,
        clientId: config.clientId,
        ...(config.variant === 'ours-full' ? { validatedTokenCacheMaxEntries: 0 } : {}),
      }),
    ],
    controllers: [OkController],
  })
  class OursModule {}
  return OursModule;
}

/** The recipe of the NestJS docs (Authentication → Passport → JWT) with jwks-rsa for an Entra-style key set. */
function passportModule(): Type {
  @Injectable()
  class JwtStrategy extends PassportStrategy(Strategy) {
    constructor() {
      super({
        secretOrKeyProvider: jwksRsa.passportJwtSecret({
          cache: true,
          rateLimit: true,
          jwksRequestsPerMinute: 5,
          jwksUri: `${config.instance}${config.tenantId}/discovery/v2.0/keys`,
        }),
        jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
        audience: config.clientId,
        issuer: `${config.instance}${config.tenantId}/v2.0`,
        algorithms: ['RS256'],
      });
    }

    validate(payload: Record<string, unknown>): Record<string, unknown> {
      return payload;
    }
  }
  @Controller('api')
  class OkController {
    @Get('ok')
    @UseGuards(AuthGuard('jwt'))
    ok(@Req() request: { user?: { scp?: unknown } }): { ok: true } {
      const scp = request.user?.scp;
      if (typeof scp !== 'string' || !scp.split(' ').includes(config.scope)) throw new ForbiddenException();
      return { ok: true };
    }
  }
  @Module({ imports: [PassportModule], providers: [JwtStrategy], controllers: [OkController] })
  class PassportAppModule {}
  return PassportAppModule;
}

function noGuardModule(): Type {
  @Controller('api')
  class OkController {
    @Get('ok')
    ok(): { ok: true } {
      return { ok: true };
    }
  }
  @Module({ controllers: [OkController] })
  class NoGuardModule {}
  return NoGuardModule;
}

async function main(): Promise<void> {
  const module = config.variant === 'passport-jwks' ? passportModule() : config.variant === 'none' ? noGuardModule() : oursModule();
  const app = await NestFactory.create(module, { logger: config.quiet ? false : ['error', 'warn'] });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  // Over IPC, not a route: how many key-set fetches ours attempted (splits the authority's JWKS count).
  const keys = config.variant.startsWith('ours') ? app.get(SigningKeyStore) : undefined;
  serveBench(`http://127.0.0.1:${port}`, () => app.close(), { 'jwks-fetches': () => keys?.fetchCount ?? 0 });
}

main().catch(failStartup);
