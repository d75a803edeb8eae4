import { Controller, Get, Injectable, Module, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { PassportModule, PassportStrategy } from '@nestjs/passport';
import passport from 'passport';
import {
  Authorize,
  CurrentUser,
  JwtAuthGuard,
  OboConfigurationError,
  OboModule,
  Principal,
  RequestContext,
  RequiredScopes,
  ScopesGuard,
  type OboModuleOptions,
} from 'nestjs-obo';
import { LocalAuthority } from 'nestjs-obo/testing';
import { listen, optionsFor, startApi, type ApiUnderTest } from './support/api-under-test.js';
import { expectRejection, get } from './support/expect-rejection.js';

let authority: LocalAuthority;
beforeAll(async () => {
  authority = await LocalAuthority.start();
});
afterAll(() => authority.close());

@Controller()
class ProfileController {
  @Get('profile')
  @RequiredScopes('access_as_user')
  profile(@CurrentUser() user: Principal): { objectId: string } {
    return { objectId: user.objectId };
  }
}

const CONFIG = Symbol('CONFIG');
@Module({ providers: [{ provide: CONFIG, useFactory: () => ({ obo: optionsFor(authority) }) }], exports: [CONFIG] })
class ConfigModule {}

@Injectable()
class OboOptionsFactory {
  create(): OboModuleOptions {
    return optionsFor(authority);
  }
}

describe.each([
  ['forRoot', () => OboModule.forRoot(optionsFor(authority))],
  [
    'forRootAsync with useFactory and inject',
    () => OboModule.forRootAsync({ imports: [ConfigModule], inject: [CONFIG], useFactory: (config: { obo: OboModuleOptions }) => config.obo }),
  ],
  ['forRootAsync with useClass', () => OboModule.forRootAsync({ useClass: class extends OboOptionsFactory {} })],
])('OboModule.%s', (_name, importModule) => {
  let api: ApiUnderTest;
  beforeAll(async () => {
    @Module({ imports: [importModule()], controllers: [ProfileController] })
    class AppModule {}
    api = await listen(AppModule);
  });
  afterAll(() => api.close());

  it('answers 200 with the caller for a valid token', async () => {
    const token = authority.mintUserToken({ claims: { oid: 'f0e1d2c3-0000-4000-8000-000000000001' } });
    const res = await get(`${api.url}/profile`, token);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ objectId: 'f0e1d2c3-0000-4000-8000-000000000001' });
  });

  it('guards every route by default: no token is 401 with a bare Bearer challenge', async () => {
    expectRejection(await get(`${api.url}/profile`), 'H0');
  });
});

describe('configuration mistakes', () => {
  it.each<[string, Partial<OboModuleOptions>]>([
    ['tenantId', { tenantId: 'not-a-tenant' }],
    ['clientId', { clientId: '' }],
    ['instance', { instance: 'http://127.0.0.1:1/' }],
  ])('stop the app at startup with OboConfigurationError naming %s', async (option, bad) => {
    @Module({ imports: [OboModule.forRootAsync({ useFactory: () => ({ ...optionsFor(authority), ...bad }) })] })
    class BadModule {}
    const started = NestFactory.create(BadModule, { logger: false, abortOnError: false });
    await expect(started).rejects.toBeInstanceOf(OboConfigurationError);
    await expect(started).rejects.toMatchObject({ code: 'ERR_OBO_CONFIG_INVALID', option });
  });
});

describe('globalGuard: false', () => {
  @Controller('open-by-choice')
  class UnguardedController {
    @Get()
    hello(): string {
      return 'hello';
    }
  }

  @Controller('authorize')
  @Authorize('access_as_user')
  class AuthorizeController {
    @Get()
    who(@CurrentUser() user: Principal): { objectId: string } {
      return { objectId: user.objectId };
    }
  }

  @Controller('use-guards')
  @UseGuards(JwtAuthGuard, ScopesGuard)
  class UseGuardsController {
    constructor(private readonly context: RequestContext) {}

    @Get()
    @RequiredScopes('Admin.ReadWrite')
    who(): { objectId?: string } {
      return { objectId: this.context.principal?.objectId };
    }
  }

  @Module({ controllers: [UseGuardsController] })
  class FeatureModule {}

  let api: ApiUnderTest;
  beforeAll(async () => {
    @Module({
      imports: [OboModule.forRoot({ ...optionsFor(authority), globalGuard: false, isGlobal: true }), FeatureModule],
      controllers: [UnguardedController, AuthorizeController],
    })
    class AppModule {}
    api = await listen(AppModule);
  });
  afterAll(() => api.close());

  it('leaves routes without guards to the app', async () => {
    expect((await get(`${api.url}/open-by-choice`)).status).toBe(200);
  });

  it('protects a controller decorated with @Authorize(...)', async () => {
    expectRejection(await get(`${api.url}/authorize`), 'H0');
    expectRejection(await get(`${api.url}/authorize`, authority.mintUserToken({ claims: { scp: 'Other' } })), 'H403');
    expect((await get(`${api.url}/authorize`, authority.mintUserToken())).status).toBe(200);
  });

  it('protects a controller of another module with @UseGuards(JwtAuthGuard, ScopesGuard)', async () => {
    expectRejection(await get(`${api.url}/use-guards`), 'H0');
    expectRejection(await get(`${api.url}/use-guards`, authority.mintUserToken()), 'H403');
    const token = authority.mintUserToken({ claims: { scp: 'Admin.ReadWrite', oid: 'f0e1d2c3-0000-4000-8000-000000000002' } });
    const res = await get(`${api.url}/use-guards`, token);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ objectId: 'f0e1d2c3-0000-4000-8000-000000000002' });
  });
});

describe('next to an app that registers its own passport strategies', () => {
  // A permissive strategy named "jwt" registered as the app's default: our guard must never use it.
  class AcceptEverything extends passport.Strategy {
    override authenticate(): void {
      this.success({ objectId: 'attacker' });
    }
  }
  @Injectable()
  class AnythingGoesStrategy extends PassportStrategy(AcceptEverything, 'jwt') {
    validate(): unknown {
      return { objectId: 'attacker' };
    }
  }

  @Controller('guarded-here')
  @UseGuards(JwtAuthGuard)
  class GuardedHereController {
    @Get()
    who(@CurrentUser() user: Principal): { objectId: string } {
      return { objectId: user.objectId };
    }
  }

  let api: ApiUnderTest;
  beforeAll(async () => {
    @Module({
      imports: [PassportModule.register({ defaultStrategy: 'jwt' }), OboModule.forRoot({ ...optionsFor(authority), globalGuard: false })],
      providers: [AnythingGoesStrategy],
      controllers: [GuardedHereController],
    })
    class AppModule {}
    api = await listen(AppModule);
  });
  afterAll(() => api.close());

  it('still validates with its own strategy: a forged token is 401', async () => {
    const forged = authority.mintUserToken({ key: await authority.foreignKey('RS256', authority.activeKey.kid) });
    expectRejection(await get(`${api.url}/guarded-here`, forged), 'H401');
    expect((await get(`${api.url}/guarded-here`, authority.mintUserToken())).status).toBe(200);
  });
});

describe('two protected apps in one process', () => {
  let other: LocalAuthority;
  let apiA: ApiUnderTest;
  let apiB: ApiUnderTest;
  beforeAll(async () => {
    other = await LocalAuthority.start();
    apiA = await startApi(optionsFor(authority));
    apiB = await startApi(optionsFor(other));
  });
  afterAll(async () => {
    await apiA.close();
    await apiB.close();
    await other.close();
  });

  it('each validates against its own authority and never accepts the other one tokens', async () => {
    const forA = authority.mintUserToken();
    const forB = other.mintUserToken();
    expect((await get(`${apiA.url}/delegated`, forA)).status).toBe(200);
    expect((await get(`${apiB.url}/delegated`, forB)).status).toBe(200);
    expectRejection(await get(`${apiA.url}/delegated`, forB), 'H401');
    expectRejection(await get(`${apiB.url}/delegated`, forA), 'H401');
  });
});

describe('request context (AsyncLocalStorage)', () => {
  let api: ApiUnderTest;
  beforeAll(async () => {
    api = await startApi(optionsFor(authority));
  });
  afterAll(() => api.close());

  it('gives a public request on the same keep-alive connection no principal of the previous request', async () => {
    const { Agent, request } = await import('node:http');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const call = (path: string, token?: string) =>
      new Promise<{ body: string; socket: unknown }>((resolve, reject) => {
        const req = request(`${api.url}${path}`, { agent, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
          let body = '';
          res.on('data', (c) => (body += c)).on('end', () => resolve({ body, socket: req.socket }));
        });
        req.on('error', reject).end();
      });
    try {
      const first = await call('/context', authority.mintUserToken({ claims: { oid: 'f0e1d2c3-0000-4000-8000-000000000003' } }));
      expect(JSON.parse(first.body)).toEqual({ objectId: 'f0e1d2c3-0000-4000-8000-000000000003' });
      const second = await call('/open');
      expect(second.socket).toBe(first.socket); // the same connection was reused
      expect(JSON.parse(second.body)).toEqual({ user: null, context: null });
    } finally {
      agent.destroy();
    }
  });
});
