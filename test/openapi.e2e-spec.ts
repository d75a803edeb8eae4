// Catalogue section 4.16 (#154-#156), issue 13: the OpenAPI document from the decorators. Real Nest
// apps on the local authorities, their document made by @nestjs/swagger through
// OboSwagger.createDocument and served over HTTP by SwaggerModule; then every operation of the
// served document is called over HTTP with tokens chosen from what the document says, and the
// guards' answers must be what it promises.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Controller, Delete, Get, Module, Param, Post, UseGuards, VersioningType, type INestApplication, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ApiExtension, ApiResponse, DECORATORS, DocumentBuilder, SwaggerModule, type OpenAPIObject, type OperationObject } from '@nestjs/swagger';
import { JwtAuthGuard, OboModule, Public, RequiredAppPermissions, RequiredAuthentication, RequiredScopes, ScopesGuard, Authorize, type OboModuleOptions } from 'nestjs-obo';
import { OBO_SECURITY_SCHEMES, OboSwagger } from 'nestjs-obo/swagger';
import { LocalAuthority, LocalOidcAuthority } from 'nestjs-obo/testing';
import { ADAPTERS, type HttpAdapterName } from './support/api-under-test.js';

// ---------------------------------------------------------------- the API under test

@Controller('catalogue')
@Public()
class CatalogueController {
  @Get() list() { return { route: 'catalogue' }; }
  @Get(':id') one(@Param('id') id: string) { return { id }; }
}

@Controller('orders')
@RequiredScopes('Orders.Read')
class OrdersController {
  @Get() list() { return { route: 'orders' }; }
  @Post() @RequiredScopes('Orders.Write') create() { return { created: true }; }
  @Delete(':id') @RequiredScopes('Orders.Write', 'Orders.Admin') remove() { return { removed: true }; }
  @Get('status') @Public() status() { return { up: true }; }
  @Get(':id/audit')
  @ApiExtension('x-team', { name: 'orders' })
  @ApiResponse({ status: 401, description: 'The app describes its own 401.' })
  audit() { return { audit: [] }; }
}

@Controller('jobs')
@RequiredAppPermissions('Jobs.Run.All')
class JobsController {
  @Post() run() { return { queued: true }; }
}

@Controller('reports')
class ReportsController {
  @Get() @RequiredScopes('Reports.Read') @RequiredAppPermissions('Reports.Read.All') read() { return { reports: [] }; }
  @Get('signed') @RequiredScopes('Reports.Sign') @RequiredAuthentication({ acrValues: ['c1'] }) signed() { return { signed: true }; }
}

@Controller('me')
class MeController {
  @Get() me() { return { me: true }; }
}

/** One handler function, inherited by two controllers with different class-level scopes. */
abstract class ColourController {
  @Get() list() { return { colour: true }; }
}
@Controller('red') @RequiredScopes('Red.Read') class RedController extends ColourController {}
@Controller('blue') @RequiredScopes('Blue.Read') class BlueController extends ColourController {}

@Controller({ path: 'items', version: '2' })
@RequiredScopes('Items.Read')
class ItemsV2Controller {
  @Get() list() { return { items: [] }; }
}

const GLOBAL_GUARD_CONTROLLERS = [CatalogueController, OrdersController, JobsController, ReportsController, MeController, RedController, BlueController, ItemsV2Controller];

/** Every operation the document must hold for those controllers (prefix `api`, URI versioning). */
const GLOBAL_GUARD_OPERATIONS = [
  'GET /api/catalogue', 'GET /api/catalogue/{id}', 'GET /api/orders', 'POST /api/orders', 'DELETE /api/orders/{id}', 'GET /api/orders/status',
  'GET /api/orders/{id}/audit', 'POST /api/jobs', 'GET /api/reports', 'GET /api/reports/signed', 'GET /api/me', 'GET /api/red', 'GET /api/blue', 'GET /api/v2/items',
];

/** With `globalGuard: false`: the guards the routes name are the only ones. */
@Controller('legacy')
@UseGuards(JwtAuthGuard, ScopesGuard)
@RequiredScopes('Legacy.Read')
class LegacyController {
  @Get() list() { return { legacy: true }; }
  @Post() @Authorize('Legacy.Write') write() { return { written: true }; }
  @Get('open') @Public() open() { return { open: true }; }
}

@Controller('plain')
class PlainController {
  @Get() unguarded() { return { unguarded: true }; }
  @Get('token') @UseGuards(JwtAuthGuard) anyToken() { return { token: true }; }
  @Get('jobs') @UseGuards(JwtAuthGuard, ScopesGuard) @RequiredAppPermissions('Jobs.Run.All') jobs() { return { jobs: true }; }
}

// ---------------------------------------------------------------- building and serving it

interface Served {
  readonly app: INestApplication;
  readonly url: string;
  /** The document as SwaggerModule serves it (`GET /docs-json`). */
  readonly document: OpenAPIObject;
}

async function serve(options: OboModuleOptions, controllers: Type[], extras: { globalGuard?: boolean; adapter?: HttpAdapterName; oboOptions?: Parameters<typeof OboSwagger.createDocument>[3] } = {}): Promise<Served> {
  @Module({ imports: [OboModule.forRoot({ ...options, globalGuard: extras.globalGuard ?? true })], controllers })
  class AppModule {}
  const adapter = extras.adapter ?? 'express';
  const app =
    adapter === 'fastify'
      ? await NestFactory.create(AppModule, new (await import('@nestjs/platform-fastify')).FastifyAdapter(), { logger: false })
      : await NestFactory.create(AppModule, { logger: false });
  app.setGlobalPrefix('api');
  app.enableVersioning({ type: VersioningType.URI });
  const config = new DocumentBuilder().setTitle('Orders').setVersion('1').build();
  // operationIds collide on purpose (four handlers are called `list`): nothing may depend on them.
  const document = await OboSwagger.createDocument(app, config, { operationIdFactory: (_controller, method) => method }, extras.oboOptions);
  SwaggerModule.setup('docs', app, document, { ui: adapter === 'express' });
  await app.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  const res = await fetch(`${url}/docs-json`);
  expect(res.status).toBe(200);
  return { app, url, document: (await res.json()) as OpenAPIObject };
}

type Operation = OperationObject & Record<string, unknown>;

function operations(document: OpenAPIObject): Array<[string, string, Operation]> {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item as Record<string, unknown>)
      .filter(([method]) => ['get', 'put', 'post', 'delete', 'patch'].includes(method))
      .map(([method, op]): [string, string, Operation] => [method.toUpperCase(), path, op as Operation]),
  );
}

/** Tokens shaped for one authority. */
interface Tokens {
  /** The prefix the document puts before a scope (`api://<client id>/` at Entra ID). */
  readonly prefix: string;
  user(scopes: readonly string[], acr?: string): string;
  app(roles: readonly string[]): string;
}

function entraTokens(authority: LocalAuthority): Tokens {
  return {
    prefix: `api://${authority.clientId}/`,
    user: (scopes, acr) => authority.mintUserToken({ claims: { scp: scopes.join(' '), ...(acr ? { acrs: [acr] } : {}) } }),
    app: (roles) => authority.mintAppToken({ claims: { roles: [...roles] } }),
  };
}

function oidcTokens(authority: LocalOidcAuthority): Tokens {
  return {
    prefix: '',
    user: (scopes, acr) => authority.mintUserToken({ scopes, ...(acr ? { claims: { acr } } : {}) }),
    app: (roles) => authority.mintAppToken({ roles }),
  };
}

interface Probe {
  readonly label: string;
  readonly token?: string;
  readonly expected: 'pass' | 401 | 403;
}

const { delegated, application } = OBO_SECURITY_SCHEMES;

/**
 * What the document promises for one operation, as calls: read from the document only (its security,
 * its x-required-* extensions and the scopes of its schemes), never from the routes' decorators.
 */
function probesFor(op: Operation, document: OpenAPIObject, tokens: Tokens): Probe[] {
  const security = op.security;
  if (security === undefined || security.length === 0) return [{ label: 'no token', expected: 'pass' }];
  const strip = (scope: string) => {
    expect(scope.startsWith(tokens.prefix)).toBe(true);
    return scope.slice(tokens.prefix.length);
  };
  const schemes = document.components!.securitySchemes! as Record<string, { flows?: { authorizationCode?: { scopes: Record<string, string> } } }>;
  const everyScope = Object.keys(schemes[delegated]?.flows?.authorizationCode?.scopes ?? {}).map(strip);
  const everyPermission = operations(document).flatMap(([, , other]) => (other['x-required-app-permissions'] as string[] | undefined) ?? []);
  const acr = (op['x-required-authentication'] as { acrValues?: string[] } | undefined)?.acrValues?.[0];
  const userChoices = security.filter((requirement) => delegated in requirement).map((requirement) => requirement[delegated].map(strip));
  const appListed = security.some((requirement) => application in requirement);
  const permissions = (op['x-required-app-permissions'] as string[] | undefined) ?? [];

  const probes: Probe[] = [{ label: 'no token', expected: 401 }];
  for (const scopes of userChoices) {
    const held = scopes.length > 0 ? scopes : ['Unrelated.Scope'];
    probes.push({ label: `a user token with scp ${held.join(' ')}${acr ? ` and acr ${acr}` : ''}`, token: tokens.user(held, acr), expected: 'pass' });
    if (acr) probes.push({ label: `a user token with scp ${held.join(' ')} without acr`, token: tokens.user(held), expected: 401 });
  }
  if (!userChoices.some((scopes) => scopes.length === 0)) {
    const listed = new Set(userChoices.flat());
    const others = [...everyScope.filter((scope) => !listed.has(scope)), 'Unrelated.Scope'];
    probes.push({ label: `a user token with only other scopes (${others.join(' ')})`, token: tokens.user(others, acr), expected: 403 });
  }
  if (appListed) {
    for (const permission of permissions) probes.push({ label: `an app token with the role ${permission}`, token: tokens.app([permission]), expected: 'pass' });
    if (permissions.length === 0) probes.push({ label: 'an app token with an unrelated role', token: tokens.app(['Unrelated.All']), expected: 'pass' });
    else {
      const others = [...new Set(everyPermission.filter((p) => !permissions.includes(p))), 'Unrelated.All'];
      probes.push({ label: `an app token with only other roles (${others.join(' ')})`, token: tokens.app(others), expected: 403 });
    }
  } else {
    probes.push({ label: 'an app token with every role the document names', token: tokens.app([...new Set(everyPermission), 'Unrelated.All']), expected: 403 });
  }
  return probes;
}

/** Calls every operation of the served document with its probes; returns how many calls were made. */
async function expectGuardsKeepTheDocument(served: Served, tokens: Tokens): Promise<number> {
  let calls = 0;
  for (const [method, path, op] of operations(served.document)) {
    for (const probe of probesFor(op, served.document, tokens)) {
      const res = await fetch(`${served.url}${path.replace(/\{[^}]+\}/g, 'p1')}`, { method, headers: probe.token ? { authorization: `Bearer ${probe.token}` } : {} });
      const body = await res.text();
      calls++;
      const answer = res.status >= 200 && res.status < 300 ? 'pass' : res.status;
      expect({ operation: `${method} ${path}`, probe: probe.label, answer }).toEqual({ operation: `${method} ${path}`, probe: probe.label, answer: probe.expected });
      if (probe.expected === 'pass') continue;
      // What the guard answered, the document describes: the status, its challenge header, its body.
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer( |$)/);
      expect(op.responses[String(probe.expected)]).toBeDefined();
      const code = (JSON.parse(body) as { code: string }).code;
      expect(probe.expected === 403 ? code === 'ERR_OBO_INSUFFICIENT_SCOPE' : code.startsWith('ERR_OBO_')).toBe(true);
    }
  }
  return calls;
}

/** Structural rules of OpenAPI 3.0 the security parts must keep (Security Scheme and Security Requirement Objects). */
function expectWellFormedSecurity(document: OpenAPIObject): void {
  expect(document.openapi).toBe('3.0.0');
  const schemes = document.components?.securitySchemes ?? {};
  for (const [, , op] of operations(document)) {
    for (const requirement of op.security ?? []) {
      for (const [name, scopes] of Object.entries(requirement)) {
        const scheme = schemes[name] as { type: string; flows?: Record<string, { scopes: Record<string, string> }> } | undefined;
        expect({ name, declared: scheme !== undefined }).toEqual({ name, declared: true });
        if (scheme!.type === 'oauth2') {
          const declared = new Set(Object.values(scheme!.flows!).flatMap((flow) => Object.keys(flow.scopes)));
          for (const scope of scopes) expect({ name, scope, declared: declared.has(scope) }).toEqual({ name, scope, declared: true });
        } else {
          expect({ name, scopes }).toEqual({ name, scopes: [] }); // 3.0: only oauth2 / openIdConnect list scopes
        }
      }
    }
    for (const status of ['401', '403']) {
      const response = op.responses[status] as { description?: string; headers?: Record<string, unknown> } | undefined;
      if (response) expect(typeof response.description).toBe('string');
    }
  }
  for (const scheme of Object.values(schemes) as unknown as Array<Record<string, unknown>>) {
    expect(['oauth2', 'http']).toContain(scheme.type);
    if (scheme.type === 'http') expect(scheme).toEqual({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: expect.any(String) });
    for (const [kind, flow] of Object.entries((scheme.flows ?? {}) as Record<string, Record<string, unknown>>)) {
      expect(['authorizationCode', 'clientCredentials']).toContain(kind);
      expect(Object.keys(flow).sort()).toEqual(kind === 'authorizationCode' ? ['authorizationUrl', 'scopes', 'tokenUrl'] : ['scopes', 'tokenUrl']);
      for (const url of [flow.authorizationUrl, flow.tokenUrl].filter((u) => u !== undefined)) expect(new URL(url as string).protocol).toBe('https:');
    }
  }
}

/** An authority's own discovery document, fetched over https (not built by the code under test). */
async function discovery(url: string): Promise<{ authorization_endpoint: string; token_endpoint: string }> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return (await res.json()) as { authorization_endpoint: string; token_endpoint: string };
}

describe('#154 the security schemes: the authority\'s endpoints and the scopes in use', () => {
  let authority: LocalAuthority;
  let oidc: LocalOidcAuthority;
  let entra: Served;
  let generic: Served;

  beforeAll(async () => {
    authority = await LocalAuthority.start();
    oidc = await LocalOidcAuthority.start();
    entra = await serve({ instance: authority.instance, tenantId: authority.tenantId, clientId: authority.clientId }, GLOBAL_GUARD_CONTROLLERS, {
      oboOptions: { scopeDescriptions: { 'Orders.Read': 'Read your orders' } },
    });
    generic = await serve({ issuer: oidc.issuer, audience: oidc.audience }, GLOBAL_GUARD_CONTROLLERS);
  });
  afterAll(async () => {
    await entra?.app.close();
    await generic?.app.close();
    await authority?.close();
    await oidc?.close();
  });

  it('Entra ID: authorization code at the tenant\'s endpoints with every scope a route asks for, client credentials with .default, bearer JWT', async () => {
    const published = await discovery(`${authority.instance}${authority.tenantId}/v2.0/.well-known/openid-configuration`);
    const prefix = `api://${authority.clientId}/`;
    const scopes = ['Blue.Read', 'Items.Read', 'Orders.Admin', 'Orders.Read', 'Orders.Write', 'Red.Read', 'Reports.Read', 'Reports.Sign'];
    expect(entra.document.components?.securitySchemes).toEqual({
      oauth2: {
        type: 'oauth2',
        description: expect.any(String),
        flows: {
          authorizationCode: {
            authorizationUrl: published.authorization_endpoint,
            tokenUrl: published.token_endpoint,
            scopes: Object.fromEntries(scopes.map((scope) => [prefix + scope, scope === 'Orders.Read' ? 'Read your orders' : `Delegated permission "${scope}"`])),
          },
        },
      },
      oauth2_app: { type: 'oauth2', description: expect.any(String), flows: { clientCredentials: { tokenUrl: published.token_endpoint, scopes: { [`${prefix}.default`]: expect.any(String) } } } },
      bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: expect.any(String) },
    });
    const oauth2 = entra.document.components!.securitySchemes!.oauth2 as { flows: { authorizationCode: { scopes: object } } };
    expect(Object.keys(oauth2.flows.authorizationCode.scopes)).toEqual(scopes.map((scope) => prefix + scope)); // sorted
    expectWellFormedSecurity(entra.document);
  });

  it('a generic authority: the endpoints of its own discovery document, scopes as routes name them, client credentials without a scope', async () => {
    const published = await discovery(`${oidc.issuer}/.well-known/openid-configuration`);
    const schemes = generic.document.components?.securitySchemes as unknown as Record<string, { flows: Record<string, { authorizationUrl?: string; tokenUrl: string; scopes: Record<string, string> }> }>;
    expect(schemes.oauth2.flows).toEqual({
      authorizationCode: { authorizationUrl: published.authorization_endpoint, tokenUrl: published.token_endpoint, scopes: expect.objectContaining({ 'Orders.Read': 'Delegated permission "Orders.Read"' }) },
    });
    expect(schemes.oauth2_app.flows).toEqual({ clientCredentials: { tokenUrl: published.token_endpoint, scopes: {} } });
    expectWellFormedSecurity(generic.document);
  });

  it('multi-tenant Entra ID: the organizations endpoints; with protectedResource, the scopes are exactly the RFC 9728 metadata\'s scopes_supported', async () => {
    const resource = 'https://orders.example.test';
    const multi = await serve(
      { instance: authority.instance, tenantId: 'organizations', allowedTenants: [authority.tenantId], clientId: authority.clientId, protectedResource: { resource, scopePrefix: `${resource}/` } },
      GLOBAL_GUARD_CONTROLLERS,
    );
    try {
      const published = await discovery(`${authority.instance}organizations/v2.0/.well-known/openid-configuration`);
      const oauth2 = multi.document.components!.securitySchemes!.oauth2 as { flows: { authorizationCode: { authorizationUrl: string; tokenUrl: string; scopes: object } } };
      expect(oauth2.flows.authorizationCode).toEqual({ authorizationUrl: published.authorization_endpoint, tokenUrl: published.token_endpoint, scopes: expect.any(Object) });
      const metadata = (await (await fetch(`${multi.url}/.well-known/oauth-protected-resource`)).json()) as { scopes_supported: string[] };
      expect(Object.keys(oauth2.flows.authorizationCode.scopes)).toEqual(metadata.scopes_supported);
      expect(metadata.scopes_supported).toContain(`${resource}/Orders.Read`);
      expectWellFormedSecurity(multi.document);
    } finally {
      await multi.app.close();
    }
  });

  it('per operation: public is an explicit empty list; each accepted scope its own requirement; bearer the last choice; 401 and 403 with WWW-Authenticate', () => {
    const op = (method: string, path: string) => (entra.document.paths[path] as Record<string, Operation>)[method];
    const p = `api://${authority.clientId}/`;
    expect(op('get', '/api/catalogue').security).toEqual([]);
    expect(op('get', '/api/orders/status').security).toEqual([]);
    expect(op('delete', '/api/orders/{id}').security).toEqual([{ oauth2: [`${p}Orders.Write`] }, { oauth2: [`${p}Orders.Admin`] }, { bearer: [] }]);
    expect(op('post', '/api/jobs').security).toEqual([{ oauth2_app: [`${p}.default`] }, { bearer: [] }]);
    expect(op('get', '/api/reports').security).toEqual([{ oauth2: [`${p}Reports.Read`] }, { oauth2_app: [`${p}.default`] }, { bearer: [] }]);
    expect(op('get', '/api/reports/signed').security).toEqual([{ oauth2: [`${p}Reports.Sign`] }, { bearer: [] }]);
    expect(op('get', '/api/me').security).toEqual([{ oauth2: [] }, { oauth2_app: [`${p}.default`] }, { bearer: [] }]);
    expect(op('get', '/api/reports')['x-required-app-permissions']).toEqual(['Reports.Read.All']);
    expect(op('get', '/api/reports/signed')['x-required-authentication']).toEqual({ acrValues: ['c1'] });
    const denied = op('delete', '/api/orders/{id}').responses as Record<string, { headers: Record<string, unknown>; content: unknown }>;
    for (const status of ['401', '403']) {
      expect(denied[status].headers['WWW-Authenticate']).toEqual({ description: expect.any(String), schema: { type: 'string' } });
      expect(denied[status].content).toEqual({ 'application/json': { schema: { $ref: '#/components/schemas/OboErrorBody' } } });
    }
    expect(op('get', '/api/me').responses['403']).toBeUndefined(); // any valid token: nothing to refuse with 403
    expect(entra.document.components?.schemas?.OboErrorBody).toEqual(expect.objectContaining({ required: ['statusCode', 'code', 'message'] }));
  });
});

describe.each(ADAPTERS)('#155 the document and the guards agree, operation by operation, on %s', (adapter) => {
  let authority: LocalAuthority;
  let served: Served;

  beforeAll(async () => {
    authority = await LocalAuthority.start();
    served = await serve({ instance: authority.instance, tenantId: authority.tenantId, clientId: authority.clientId }, GLOBAL_GUARD_CONTROLLERS, { adapter });
  });
  afterAll(async () => {
    await served?.app.close();
    await authority?.close();
  });

  it('documents every route (global prefix, URI version, inherited handlers)', () => {
    expect(operations(served.document).map(([method, path]) => `${method} ${path}`).sort()).toEqual([...GLOBAL_GUARD_OPERATIONS].sort());
  });

  it('Entra ID, global guard: public answers without a token, protected 401 without; each documented scope and app permission passes, every other token 403', async () => {
    expect(await expectGuardsKeepTheDocument(served, entraTokens(authority))).toBe(49);
  }, 60_000);
});

describe('#155 the document and the guards agree at a generic authority and with globalGuard off', () => {
  let oidc: LocalOidcAuthority;
  let authority: LocalAuthority;
  let generic: Served;
  let local: Served;

  beforeAll(async () => {
    oidc = await LocalOidcAuthority.start();
    authority = await LocalAuthority.start();
    generic = await serve({ issuer: oidc.issuer, audience: oidc.audience }, GLOBAL_GUARD_CONTROLLERS);
    local = await serve({ instance: authority.instance, tenantId: authority.tenantId, clientId: authority.clientId }, [LegacyController, PlainController], { globalGuard: false });
  });
  afterAll(async () => {
    await generic?.app.close();
    await local?.app.close();
    await oidc?.close();
    await authority?.close();
  });

  it('a generic authority (RFC 9068 tokens): every operation answers as its document says', async () => {
    expect(await expectGuardsKeepTheDocument(generic, oidcTokens(oidc))).toBe(49);
  }, 60_000);

  it('globalGuard off: @UseGuards(JwtAuthGuard, ScopesGuard), @Authorize, @Public and a route no guard runs on answer as documented', async () => {
    const op = (method: string, path: string) => (local.document.paths[path] as Record<string, Operation>)[method];
    expect(op('get', '/api/plain').security).toBeUndefined(); // nothing of ours runs there: left as the app wrote it
    expect(op('get', '/api/plain').responses['401']).toBeUndefined();
    expect(op('get', '/api/legacy/open').security).toEqual([]);
    expect(op('post', '/api/legacy').security).toEqual([{ oauth2: [`api://${authority.clientId}/Legacy.Write`] }, { bearer: [] }]);
    expect(op('get', '/api/plain/token').security).toEqual([{ oauth2: [] }, { oauth2_app: [`api://${authority.clientId}/.default`] }, { bearer: [] }]);
    expect(await expectGuardsKeepTheDocument(local, entraTokens(authority))).toBe(17);
  }, 60_000);
});

/** Creates an app with `controllers` and asks for its document; the app is closed afterwards. */
async function documentOf(controllers: Type[], module: (controllers: Type[]) => Type, config = new DocumentBuilder().build()): Promise<OpenAPIObject> {
  const app = await NestFactory.create(module(controllers), { logger: false });
  try {
    return await OboSwagger.createDocument(app, config);
  } finally {
    await app.close();
  }
}

describe('#156 operations are matched by handler, nothing is left behind, and what no guard enforces is refused', () => {
  let authority: LocalAuthority;
  let served: Served;
  const withObo = (globalGuard: boolean) => (controllers: Type[]) => {
    @Module({ imports: [OboModule.forRoot({ instance: authority.instance, tenantId: authority.tenantId, clientId: authority.clientId, globalGuard })], controllers })
    class AppModule {}
    return AppModule;
  };

  beforeAll(async () => {
    authority = await LocalAuthority.start();
    served = await serve({ instance: authority.instance, tenantId: authority.tenantId, clientId: authority.clientId }, GLOBAL_GUARD_CONTROLLERS);
  });
  afterAll(async () => {
    await served?.app.close();
    await authority?.close();
  });

  it('one inherited handler, two controllers: /red gets Red.Read and /blue Blue.Read, while four operations share the operationId "list"', () => {
    const get = (path: string) => (served.document.paths[path] as Record<string, Operation>).get;
    expect(get('/api/red')['x-required-scopes']).toEqual(['Red.Read']);
    expect(get('/api/blue')['x-required-scopes']).toEqual(['Blue.Read']);
    expect(get('/api/v2/items')['x-required-scopes']).toEqual(['Items.Read']);
    expect(operations(served.document).filter(([, , op]) => op.operationId === 'list')).toHaveLength(5);
  });

  it('leaves nothing behind: no marker in the served document, the handlers\' metadata as it was, no stand-in on a controller; a second document is the same', async () => {
    expect(JSON.stringify(served.document)).not.toContain('x-obo-route');
    expect(Reflect.getMetadata(DECORATORS.API_EXTENSION, OrdersController.prototype.audit)).toEqual({ 'x-team': { name: 'orders' } });
    expect(Reflect.getMetadata(DECORATORS.API_EXTENSION, OrdersController.prototype.list)).toBeUndefined();
    expect(Reflect.getMetadata(DECORATORS.API_EXTENSION, ColourController.prototype.list)).toBeUndefined();
    expect([Object.hasOwn(RedController.prototype, 'list'), Object.hasOwn(BlueController.prototype, 'list')]).toEqual([false, false]);
    const audit = (served.document.paths['/api/orders/{id}/audit'] as Record<string, Operation>).get;
    expect(audit['x-team']).toEqual({ name: 'orders' });
    expect(audit.responses['401']).toEqual({ description: 'The app describes its own 401.' }); // the app's own description wins
    const again = await OboSwagger.createDocument(served.app, new DocumentBuilder().setTitle('Orders').setVersion('1').build(), { operationIdFactory: (_c, method) => method });
    expect(JSON.parse(JSON.stringify(again))).toEqual(served.document);
  });

  it.each<[string, Type]>([
    ['JwtAuthGuard without ScopesGuard', (() => {
      @Controller('half') class HalfGuarded { @Get() @UseGuards(JwtAuthGuard) @RequiredScopes('Half.Read') read() { return {}; } }
      return HalfGuarded;
    })()],
    ['no guard at all', (() => {
      @Controller('none') class Unguarded { @Get() @RequiredAppPermissions('None.All') read() { return {}; } }
      return Unguarded;
    })()],
  ])('refuses, with globalGuard off, a requirement enforced by no guard (%s), naming the route and the fix', async (_name, controller) => {
    const refusal = documentOf([controller], withObo(false));
    await expect(refusal).rejects.toMatchObject({ code: 'ERR_OBO_CONFIG_INVALID', message: expect.stringMatching(new RegExp(`on ${controller.name}\\.read.*is enforced by no guard.*(ScopesGuard|@Authorize)`)) });
  });

  it('refuses a config that already declares a scheme of one of its names, and an app without OboModule', async () => {
    const config = new DocumentBuilder().addBearerAuth().build();
    await expect(documentOf([MeController], withObo(true), config)).rejects.toMatchObject({ code: 'ERR_OBO_CONFIG_INVALID', message: expect.stringContaining('"bearer"') });
    await expect(documentOf([MeController], (controllers) => {
      @Module({ controllers }) class Bare {}
      return Bare;
    })).rejects.toMatchObject({ code: 'ERR_OBO_CONFIG_INVALID', message: expect.stringContaining('needs OboModule') });
  });

  it('nestjs-obo itself never loads @nestjs/swagger: no module reachable from its index imports it', () => {
    const root = resolve(import.meta.dirname, '..', 'libs', 'obo', 'src');
    const seen = new Set<string>();
    const importers: string[] = [];
    const pending = [join(root, 'index.ts')];
    for (let guard = 0; pending.length > 0 && guard < 5_000; guard++) {
      const file = pending.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const source = readFileSync(file, 'utf8');
      for (const [, specifier] of source.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)'([^']+)'/g)) {
        if (specifier.startsWith('@nestjs/swagger')) importers.push(file);
        if (specifier.startsWith('.')) pending.push(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
      }
    }
    expect(seen.size).toBeGreaterThan(100);
    expect([...seen].some((file) => file.includes(`${join('observability', 'openapi')}`))).toBe(false);
    expect(importers).toEqual([]);
    // The walk does see the import where it is: the swagger entry point.
    const entry = readFileSync(join(root, 'observability', 'openapi', 'obo-swagger.ts'), 'utf8');
    expect(entry).toMatch(/from '@nestjs\/swagger'/);
  });
});
