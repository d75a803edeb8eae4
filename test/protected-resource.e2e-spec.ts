// RFC 9728 protected-resource metadata (#135-#137) and RFC 9470 step-up per route (#138, #139),
// over real HTTP against the local authorities (Entra-like and generic), read back with the MCP
// SDK's own discovery and challenge parsers (code we did not write).
import { Controller, Get, Module, Post } from '@nestjs/common';
import { discoverOAuthProtectedResourceMetadata, extractWWWAuthenticateParams } from '@modelcontextprotocol/sdk/client/auth.js';
import {
  ClaimsChallengeError,
  OboConfigurationError,
  OboModule,
  Public,
  RequiredAppPermissions,
  RequiredAuthentication,
  RequiredScopes,
  StepUpRequiredError,
  type OboModuleOptions,
} from 'nestjs-obo';
import { LocalAuthority, LocalOidcAuthority } from 'nestjs-obo/testing';
import { listen, type ApiUnderTest, type HttpAdapterName } from './support/api-under-test.js';
import { get } from './support/expect-rejection.js';
import { freePort } from './support/web-app-chain.js';

const WELL_KNOWN = '/.well-known/oauth-protected-resource';
const C1_CLAIMS = { access_token: { acrs: { essential: true, value: 'c1' } } };

@Controller('orders')
class OrdersController {
  @Get()
  @RequiredScopes('Orders.Read')
  list(): object {
    return { orders: [] };
  }

  @Post()
  @RequiredScopes('Orders.Write', 'offline_access')
  create(): object {
    return { created: true };
  }

  @Get('all')
  @RequiredAppPermissions('Orders.Read.All')
  all(): object {
    return { orders: [] };
  }

  @Get('status')
  @Public()
  status(): object {
    return { up: true };
  }

  @Get('refunds')
  @RequiredScopes('Orders.Read')
  @RequiredAuthentication({ acrValues: ['c1'] })
  refunds(): object {
    return { refunds: [] };
  }

  @Get('step-up-thrown')
  @RequiredScopes('Orders.Read')
  stepUpThrown(): object {
    throw new StepUpRequiredError('c2', 120);
  }

  @Get('claims-thrown')
  @RequiredScopes('Orders.Read')
  claimsThrown(): object {
    throw new ClaimsChallengeError(JSON.stringify(C1_CLAIMS), ['Orders.Read']);
  }
}

/** A generic (RFC 9068) API with RFC 9470 step-up routes. */
@Controller('payments')
class PaymentsController {
  @Get()
  @RequiredScopes('access_as_user')
  list(): object {
    return { payments: [] };
  }

  @Post()
  @RequiredScopes('access_as_user')
  @RequiredAppPermissions('Payments.Write.All')
  @RequiredAuthentication({ acrValues: ['urn:example:acr:mfa', 'phr'], maxAge: 300 })
  pay(): object {
    return { paid: true };
  }

  @Get('recent-login')
  @RequiredAuthentication({ maxAge: 0 })
  recentLogin(): object {
    return { ok: true };
  }
}

async function startOrdersApi(options: OboModuleOptions, adapter: HttpAdapterName = 'express', port?: number): Promise<ApiUnderTest> {
  @Module({ imports: [OboModule.forRoot(options)], controllers: [OrdersController] })
  class OrdersModule {}
  if (port === undefined) return listen(OrdersModule, adapter);
  const { NestFactory } = await import('@nestjs/core');
  const app = await NestFactory.create(OrdersModule, { logger: false });
  await app.listen(port, '127.0.0.1');
  return { app, url: `http://127.0.0.1:${port}`, close: () => app.close() };
}

async function startPaymentsApi(options: OboModuleOptions): Promise<ApiUnderTest> {
  @Module({ imports: [OboModule.forRoot(options)], controllers: [PaymentsController] })
  class PaymentsModule {}
  return listen(PaymentsModule);
}

function challengeOf(res: { headers: Headers }): string {
  return res.headers.get('www-authenticate') ?? '';
}

async function send(url: string, token?: string, method = 'GET'): Promise<{ status: number; headers: Headers; body: string }> {
  const res = await fetch(url, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

describe.each<HttpAdapterName>(['express', 'fastify'])('#135 the RFC 9728 document of an Entra ID API on %s', (adapter) => {
  let authority: LocalAuthority;
  let api: ApiUnderTest;
  const resource = 'https://api.contoso.test/orders-api';

  beforeAll(async () => {
    authority = await LocalAuthority.start();
    api = await startOrdersApi({ instance: authority.instance, tenantId: authority.tenantId, clientId: authority.clientId, protectedResource: { resource, resourceName: 'Contoso Orders' } }, adapter);
  });
  afterAll(async () => {
    await api?.close();
    await authority?.close();
  });

  it('is served where RFC 9728 §3.1 puts it (the resource path after the well-known suffix), with exactly the members the API can vouch for', async () => {
    const res = await fetch(`${api.url}${WELL_KNOWN}/orders-api`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('cache-control')).toBe('public, max-age=3600');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(await res.json()).toEqual({
      resource,
      authorization_servers: [`${authority.instance}${authority.tenantId}/v2.0`],
      // Every scope a guarded route asks for, as a client requests it (App ID URI + scope); never offline_access.
      scopes_supported: [`api://${authority.clientId}/Orders.Read`, `api://${authority.clientId}/Orders.Write`],
      bearer_methods_supported: ['header'],
      resource_name: 'Contoso Orders',
    });
  });

  it('answers HEAD, and the path without the resource path is not the metadata (404)', async () => {
    expect((await fetch(`${api.url}${WELL_KNOWN}/orders-api`, { method: 'HEAD' })).status).toBe(200);
    expect((await fetch(`${api.url}${WELL_KNOWN}`)).status).toBe(404);
  });

  it('#136 names the metadata in every 401 and 403 challenge, guard or exception filter, and nowhere else', async () => {
    const metadata = `resource_metadata="https://api.contoso.test${WELL_KNOWN}/orders-api"`;
    const user = authority.mintUserToken({ claims: { scp: 'Orders.Read' } });
    const cases: [string, Promise<{ status: number; headers: Headers; body: string }>, number, RegExp][] = [
      ['no token', send(`${api.url}/orders`), 401, /^Bearer resource_metadata="[^"]+"$/],
      ['a forged token', send(`${api.url}/orders`, `${user.slice(0, -4)}AAAA`), 401, /^Bearer error="invalid_token", error_description="The access token is invalid\.", resource_metadata="[^"]+"$/],
      ['an expired token', send(`${api.url}/orders`, authority.mintUserToken({ claims: { scp: 'Orders.Read', exp: Math.floor(Date.now() / 1000) - 600, iat: Math.floor(Date.now() / 1000) - 4000, nbf: Math.floor(Date.now() / 1000) - 4000 } })), 401, /^Bearer error="invalid_token", error_description="The access token has expired\.", resource_metadata="[^"]+"$/],
      ['a missing scope', send(`${api.url}/orders`, authority.mintUserToken({ claims: { scp: 'Other' } })), 403, new RegExp(`^Bearer error="insufficient_scope", error_description="[^"]+", scope="api://${authority.clientId}/Orders.Read", resource_metadata="[^"]+"$`)],
      ['a missing app permission', send(`${api.url}/orders/all`, authority.mintAppToken({ claims: { roles: ['Other'] } })), 403, /^Bearer error="insufficient_scope", error_description="[^"]+", scope="Orders\.Read\.All", resource_metadata="[^"]+"$/],
      ['a missing authentication context', send(`${api.url}/orders/refunds`, user), 401, /^Bearer authorization_uri="[^"]+", client_id="[^"]+", error="insufficient_claims", error_description="[^"]+", claims="[^"]+", resource_metadata="[^"]+"$/],
      ['a StepUpRequiredError thrown by the app', send(`${api.url}/orders/step-up-thrown`, user), 401, /^Bearer error="insufficient_user_authentication", error_description="[^"]+", acr_values="c2", max_age="120", resource_metadata="[^"]+"$/],
      ['a ClaimsChallengeError thrown by the app', send(`${api.url}/orders/claims-thrown`, user), 401, /^Bearer realm="", authorization_uri="[^"]+", client_id="[^"]+", error="insufficient_claims", claims="[^"]+", resource_metadata="[^"]+"$/],
    ];
    for (const [name, pending, status, shape] of cases) {
      const res = await pending;
      expect({ name, status: res.status }).toEqual({ name, status });
      const challenge = challengeOf(res);
      expect({ name, challenge }).toEqual({ name, challenge: expect.stringMatching(shape) });
      expect(challenge).toContain(metadata);
      // What an MCP client reads out of it (the SDK's own parser).
      expect(extractWWWAuthenticateParams(res as unknown as Response).resourceMetadataUrl?.href).toBe(`https://api.contoso.test${WELL_KNOWN}/orders-api`);
      expect(res.body).not.toContain('resource_metadata');
    }
    const ok = await send(`${api.url}/orders`, user);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('www-authenticate')).toBeNull();
  });
});

describe('#135 the document read by a client we did not write (the MCP SDK), a generic authority, and a global prefix', () => {
  it('the MCP SDK finds the metadata from the resource URL alone and its schema accepts it; a trailing slash is served both ways', async () => {
    const authority = await LocalAuthority.start();
    const port = await freePort();
    const resource = `http://127.0.0.1:${port}/mcp/`;
    const api = await startOrdersApi({ instance: authority.instance, tenantId: authority.tenantId, clientId: authority.clientId, protectedResource: { resource } }, 'express', port);
    try {
      // The SDK drops the trailing slash (as MCP asks clients to); RFC 9728 keeps it: both are served.
      const metadata = await discoverOAuthProtectedResourceMetadata(resource);
      expect(metadata.resource).toBe(resource);
      expect(metadata.authorization_servers).toEqual([`${authority.instance}${authority.tenantId}/v2.0`]);
      expect((await fetch(`${api.url}${WELL_KNOWN}/mcp/`)).status).toBe(200);
      // The challenge leads the SDK to the same document.
      const unauthenticated = await fetch(`${api.url}/orders`);
      const { resourceMetadataUrl } = extractWWWAuthenticateParams(unauthenticated);
      expect(resourceMetadataUrl?.href).toBe(`http://127.0.0.1:${port}${WELL_KNOWN}/mcp/`);
      expect((await discoverOAuthProtectedResourceMetadata(resource, { resourceMetadataUrl: resourceMetadataUrl! })).resource).toBe(resource);
    } finally {
      await api.close();
      await authority.close();
    }
  });

  it('at a generic authority: its issuer, scopes as the routes name them (no prefix), jwks_uri and signing algorithms only where configured; a global prefix does not move it', async () => {
    const authority = await LocalOidcAuthority.start({ dialect: 'auth0' });
    @Module({
      imports: [
        OboModule.forRoot({
          issuer: authority.issuer,
          audience: authority.audience,
          tokenProfile: 'auth0',
          protectedResource: { resource: 'https://payments.example.test', jwksUri: 'https://payments.example.test/keys', resourceSigningAlgValuesSupported: ['ES256'], resourceDocumentation: 'https://docs.example.test/payments' },
        }),
      ],
      controllers: [PaymentsController],
    })
    class PrefixedModule {}
    const { NestFactory } = await import('@nestjs/core');
    const app = await NestFactory.create(PrefixedModule, { logger: false });
    app.setGlobalPrefix('api');
    await app.listen(0, '127.0.0.1');
    const url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    try {
      const res = await fetch(`${url}${WELL_KNOWN}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        resource: 'https://payments.example.test',
        authorization_servers: [authority.issuer],
        scopes_supported: ['access_as_user'],
        bearer_methods_supported: ['header'],
        resource_documentation: 'https://docs.example.test/payments',
        jwks_uri: 'https://payments.example.test/keys',
        resource_signing_alg_values_supported: ['ES256'],
      });
      expect((await fetch(`${url}/api${WELL_KNOWN}`)).status).toBe(404);
      expect(challengeOf(await send(`${url}/api/payments`))).toBe(`Bearer resource_metadata="https://payments.example.test${WELL_KNOWN}"`);
    } finally {
      await app.close();
      await authority.close();
    }
  });

  it('without protectedResource nothing is published and challenges stay as they were', async () => {
    const authority = await LocalAuthority.start();
    const api = await startOrdersApi({ instance: authority.instance, tenantId: authority.tenantId, clientId: authority.clientId });
    try {
      expect((await fetch(`${api.url}${WELL_KNOWN}`)).status).toBe(404);
      expect(challengeOf(await send(`${api.url}/orders`))).toBe('Bearer');
      expect(challengeOf(await send(`${api.url}/orders`, authority.mintUserToken({ claims: { scp: 'Other' } })))).toMatch(/scope="Orders\.Read"$/);
    } finally {
      await api.close();
      await authority.close();
    }
  });

  it('answers 503 with Retry-After while the authority’s discovery document cannot be had, then the document once it can', async () => {
    const authority = await LocalAuthority.start();
    authority.discoveryFault = 'status-500';
    const api = await startOrdersApi({ instance: authority.instance, tenantId: authority.tenantId, clientId: authority.clientId, protectedResource: { resource: 'https://api.contoso.test' } });
    try {
      const down = await fetch(`${api.url}${WELL_KNOWN}`);
      expect(down.status).toBe(503);
      expect(down.headers.get('retry-after')).toBe('5');
      expect(down.headers.get('cache-control')).toBe('no-store');
      expect(await down.json()).toEqual({ error: 'temporarily_unavailable' });
      authority.discoveryFault = 'none';
      const up = await fetch(`${api.url}${WELL_KNOWN}`);
      expect(up.status).toBe(200);
      expect(((await up.json()) as { authorization_servers: string[] }).authorization_servers).toEqual([`${authority.instance}${authority.tenantId}/v2.0`]);
    } finally {
      await api.close();
      await authority.close();
    }
  });
});

describe('#137 protectedResource mistakes fail at startup with what to fix', () => {
  const base = { tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47', clientId: '6e74172b-be56-4843-9ff4-e66a39bb12e3' };
  it.each<[string, unknown, RegExp]>([
    ['plain http off loopback', { resource: 'http://api.contoso.test' }, /"protectedResource\.resource" must use https \(plain http only on 127\.0\.0\.1, \[::1\] or localhost\)/],
    ['a query', { resource: 'https://api.contoso.test/?v=1' }, /no query or fragment \(RFC 9728 §1\.2\)/],
    ['a fragment', { resource: 'https://api.contoso.test/#x' }, /no query or fragment/],
    ['credentials', { resource: 'https://user:pw@api.contoso.test/' }, /must not carry credentials/],
    ['not a URL', { resource: 'api.contoso.test' }, /must be an absolute https URL \(got "api\.contoso\.test"\)/],
    ['a quote', { resource: 'https://api.contoso.test/"x' }, /printable ASCII without quotes or backslashes/],
    ['algorithms without keys', { resource: 'https://api.contoso.test', resourceSigningAlgValuesSupported: ['ES256'] }, /set protectedResource\.jwksUri/],
    ['the none algorithm', { resource: 'https://api.contoso.test', jwksUri: 'https://api.contoso.test/k', resourceSigningAlgValuesSupported: ['none'] }, /never "none"/],
    ['documentation over http', { resource: 'https://api.contoso.test', resourceDocumentation: 'http://127.0.0.1/docs' }, /"protectedResource\.resourceDocumentation" must use https/],
    ['a misspelled key', { resource: 'https://api.contoso.test', scopesPrefix: 'x' }, /"protectedResource\.scopesPrefix" is not an option .*did you mean "protectedResource\.scopePrefix"/],
  ])('refuses %s', async (_name, protectedResource, message) => {
    @Module({ imports: [OboModule.forRoot({ ...base, protectedResource } as OboModuleOptions)], controllers: [OrdersController] })
    class BadModule {}
    const { NestFactory } = await import('@nestjs/core');
    const error = await NestFactory.create(BadModule, { logger: false, abortOnError: false }).then(
      async (app) => {
        await app.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OboConfigurationError);
    expect((error as Error).message).toMatch(message);
  });
});

describe('#138 step-up at a generic authority (RFC 9470): acr and auth_time against the route', () => {
  let authority: LocalOidcAuthority;
  let api: ApiUnderTest;
  const now = (): number => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    authority = await LocalOidcAuthority.start({ dialect: 'rfc9068' });
    api = await startPaymentsApi({ issuer: authority.issuer, audience: authority.audience, protectedResource: { resource: 'https://payments.example.test/v1' } });
  });
  afterAll(async () => {
    await api?.close();
    await authority?.close();
  });

  const user = (claims: Record<string, unknown>): string => authority.mintUserToken({ claims });

  it.each<[string, Record<string, unknown>]>([
    ['the preferred acr, just authenticated', { acr: 'urn:example:acr:mfa', auth_time: 0 }],
    ['the second acr, authenticated 299 s ago', { acr: 'phr', auth_time: -299 }],
    ['an authentication 59 s past max_age (inside the 60 s clock tolerance)', { acr: 'phr', auth_time: -359 }],
  ])('lets through %s', async (_name, claims) => {
    const res = await send(`${api.url}/payments`, user({ ...claims, auth_time: now() + (claims.auth_time as number) }), 'POST');
    expect(res.status).toBe(201);
  });

  it.each<[string, Record<string, unknown>]>([
    ['no acr', { acr: undefined, auth_time: 0 }],
    ['an acr not asked for', { acr: 'urn:example:acr:pwd', auth_time: 0 }],
    ['an acr that differs in case', { acr: 'PHR', auth_time: 0 }],
    ['an acr as a list', { acr: ['phr'], auth_time: 0 }],
    ['no auth_time', { acr: 'phr', auth_time: undefined }],
    ['auth_time as a string', { acr: 'phr', auth_time: 'now' }],
    ['an authentication past max_age and the tolerance', { acr: 'phr', auth_time: -361 }],
    ['an authentication in the future', { acr: 'phr', auth_time: 600 }],
  ])('answers 401 insufficient_user_authentication with acr_values and max_age for %s', async (_name, claims) => {
    const authTime = typeof claims.auth_time === 'number' ? now() + claims.auth_time : claims.auth_time;
    const res = await send(`${api.url}/payments`, user({ ...claims, auth_time: authTime }), 'POST');
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toEqual({ statusCode: 401, code: 'ERR_OBO_STEP_UP_REQUIRED', message: 'The user must authenticate again to meet the authentication requirements.' });
    expect(challengeOf(res)).toBe(
      'Bearer error="insufficient_user_authentication", error_description="The user must authenticate again to meet the authentication requirements.", acr_values="urn:example:acr:mfa phr", max_age="300", ' +
        `resource_metadata="https://payments.example.test${WELL_KNOWN}/v1"`,
    );
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(extractWWWAuthenticateParams(res as unknown as Response).error).toBe('insufficient_user_authentication');
  });

  it('checks the scope first (a token without it gets 403: stepping up would not help)', async () => {
    const res = await send(`${api.url}/payments`, authority.mintUserToken({ scopes: ['other'], claims: { acr: 'urn:example:pwd' } }), 'POST');
    expect(res.status).toBe(403);
    expect(challengeOf(res)).toMatch(/^Bearer error="insufficient_scope"/);
  });

  it('an app-only token passes only through an app permission the route names (no user to step up)', async () => {
    expect((await send(`${api.url}/payments`, authority.mintAppToken({ roles: ['Payments.Write.All'] }), 'POST')).status).toBe(201);
    expect((await send(`${api.url}/payments`, authority.mintAppToken({ roles: ['Other'] }), 'POST')).status).toBe(403);
    const recent = await send(`${api.url}/payments/recent-login`, authority.mintAppToken({ roles: ['Payments.Write.All'] }));
    expect(recent.status).toBe(403);
  });

  it('max_age 0 asks for an authentication this very moment (within the clock tolerance); the challenge has max_age="0" and no acr_values', async () => {
    expect((await send(`${api.url}/payments/recent-login`, user({ auth_time: now() }))).status).toBe(200);
    const stale = await send(`${api.url}/payments/recent-login`, user({ auth_time: now() - 120 }));
    expect(stale.status).toBe(401);
    expect(challengeOf(stale)).toMatch(/^Bearer error="insufficient_user_authentication", error_description="[^"]+", max_age="0", resource_metadata="[^"]+"$/);
  });
});

describe('#139 step-up at Entra ID: authentication contexts (acrs) and the claims challenge msal acts on', () => {
  let authority: LocalAuthority;
  let api: ApiUnderTest;

  beforeAll(async () => {
    authority = await LocalAuthority.start();
    api = await startOrdersApi({ instance: authority.instance, tenantId: authority.tenantId, clientId: authority.clientId });
  });
  afterAll(async () => {
    await api?.close();
    await authority?.close();
  });

  it('a token whose acrs holds c1 passes; without it, 401 insufficient_claims asking for acrs c1 (Entra’s form), with the authorize URI and client id', async () => {
    expect((await send(`${api.url}/orders/refunds`, authority.mintUserToken({ claims: { scp: 'Orders.Read', acrs: ['c1'] } }))).status).toBe(200);
    for (const acrs of [undefined, [], ['c2'], 'c2', [{ value: 'c1' }]]) {
      const res = await send(`${api.url}/orders/refunds`, authority.mintUserToken({ claims: { scp: 'Orders.Read', acrs } }));
      expect(res.status).toBe(401);
      expect(JSON.parse(res.body).code).toBe('ERR_OBO_CLAIMS_CHALLENGE');
      const challenge = challengeOf(res);
      expect(challenge).toMatch(/^Bearer authorization_uri="[^"]+", client_id="[^"]+", error="insufficient_claims", error_description="[^"]+", claims="[^"]+"$/);
      expect(challenge).toContain(`authorization_uri="${authority.instance}${authority.tenantId}/oauth2/v2.0/authorize"`);
      expect(challenge).toContain(`client_id="${authority.clientId}"`);
      const claims = /claims="([^"]+)"/.exec(challenge)![1]!;
      expect(JSON.parse(Buffer.from(claims, 'base64').toString('utf8'))).toEqual(C1_CLAIMS);
    }
  });

  it('a single acrs string naming c1 also passes (read as a one-value list)', async () => {
    expect((await send(`${api.url}/orders/refunds`, authority.mintUserToken({ claims: { scp: 'Orders.Read', acrs: 'c1' } }))).status).toBe(200);
  });

  it('maxAge on a route of an Entra ID API fails at startup, naming the route and what to use instead', async () => {
    @Controller()
    class RecentController {
      @Get('recent')
      @RequiredAuthentication({ maxAge: 300 })
      recent(): object {
        return {};
      }
    }
    @Module({ imports: [OboModule.forRoot({ instance: authority.instance, tenantId: authority.tenantId, clientId: authority.clientId })], controllers: [RecentController] })
    class RecentModule {}
    const { NestFactory } = await import('@nestjs/core');
    const app = await NestFactory.create(RecentModule, { logger: false, abortOnError: false });
    const error = await app.init().then(
      () => undefined,
      (e: unknown) => e,
    );
    await app.close().catch(() => undefined);
    expect(error).toBeInstanceOf(OboConfigurationError);
    expect((error as Error).message).toMatch(/"@RequiredAuthentication on RecentController\.recent" sets maxAge, but Entra ID access tokens carry no auth_time .*\(acrValues: \["c1"\]\)/);
  });
});

describe('#138 @RequiredAuthentication refuses malformed requirements where it is written', () => {
  it.each<[string, unknown, RegExp]>([
    ['nothing asked', {}, /needs acrValues, maxAge or both/],
    ['an empty acr list', { acrValues: [] }, /must be a list of 1 to 16 values/],
    ['an acr with a space', { acrValues: ['a b'] }, /without spaces, quotes or backslashes \(got "a b"\)/],
    ['an acr with a quote', { acrValues: ['a"'] }, /without spaces, quotes or backslashes/],
    ['a negative maxAge', { maxAge: -1 }, /whole number of seconds from 0/],
    ['a fractional maxAge', { maxAge: 1.5 }, /whole number of seconds from 0/],
    ['a misspelled key', { max_age: 5 }, /unknown keys "max_age": use acrValues and maxAge/],
  ])('%s', (_name, requirement, message) => {
    expect(() => RequiredAuthentication(requirement as never)).toThrow(message);
  });
});
