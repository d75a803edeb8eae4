// Baseline 3 for the JWKS flood (resilience-jwks bench): the NestJS docs recipe, @nestjs/passport
// + passport-jwt + jwks-rsa `passportJwtSecret({ cache: true, rateLimit: true,
// jwksRequestsPerMinute: 5, jwksUri })`, on the same route as ours (a delegated-scope check in
// the handler). Started as a child process; prints `LISTENING <url>`. Configuration from RES_*.
import 'reflect-metadata';
import { Controller, ForbiddenException, Get, Injectable, Module, Req, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AuthGuard, PassportModule, PassportStrategy } from '@nestjs/passport';
import { passportJwtSecret } from 'jwks-rsa';
import type { AddressInfo } from 'node:net';
import { ExtractJwt, Strategy } from 'passport-jwt';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

interface Claims {
  readonly oid?: string;
  readonly scp?: string;
}

@Injectable()
class JwtStrategy extends PassportStrategy(Strategy) {
  constructor() {
    super({
      secretOrKeyProvider: passportJwtSecret({ cache: true, rateLimit: true, jwksRequestsPerMinute: 5, jwksUri: env('RES_JWKS_URI') }),
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      audience: env('RES_CLIENT_ID'),
      issuer: env('RES_ISSUER'),
      algorithms: ['RS256'],
    });
  }

  validate(payload: Claims): Claims {
    return payload;
  }
}

@Controller('api')
class PingController {
  @Get('ping')
  @UseGuards(AuthGuard('jwt'))
  ping(@Req() request: { user: Claims }): { oid: string | undefined } {
    if (!(request.user.scp ?? '').split(' ').includes('access_as_user')) throw new ForbiddenException();
    return { oid: request.user.oid };
  }
}

@Module({ imports: [PassportModule], controllers: [PingController], providers: [JwtStrategy] })
class PassportApiModule {}

const app = await NestFactory.create(PassportApiModule, { logger: false });
await app.listen(0, '127.0.0.1');
console.log(`LISTENING http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`);
