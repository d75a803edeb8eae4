// Catalogue #111: tenants on the outbound side. The OBO request goes to the tenant of the user's
// token; every issued token's tid, aud and exp are read before it is cached; app-only tenants are
// canonical GUIDs. Over real HTTP with the local authority's `altered-token` fault, which re-mints
// the issued access token (validly signed) for another tenant, another audience or a past exp.
import { randomUUID } from 'node:crypto';
import { Controller, Get } from '@nestjs/common';
import { OboError, RequiredScopes, TokenAcquisition } from 'nestjs-obo';
import { LocalAuthority, type TokenFault } from 'nestjs-obo/testing';
import { CapturingLogger } from './support/capturing-logger.js';
import { expectCleanError } from './support/expect-clean-error.js';
import { send } from './support/http-reply.js';
import { jwtPayload } from './support/jwt-payload.js';
import { startOboChain, type OboChain } from './support/obo-chain.js';

const probe = { scope: '' };

@Controller('tenants')
class TenantsController {
  constructor(private readonly tokens: TokenAcquisition) {}

  /** OBO for the downstream scope; answers the token's tid and aud (never the token). */
  @Get('obo')
  @RequiredScopes('access_as_user')
  async obo(): Promise<Record<string, unknown>> {
    const { tid, aud } = jwtPayload(await this.tokens.getAccessTokenForUser([probe.scope]));
    return { tid, aud };
  }
}

const warnings = (capture: CapturingLogger) => capture.entries.filter((e) => e.level === 'warn' || e.level === 'error' || e.level === 'fatal');

describe('#111 tenants: the OBO request goes to the tenant of the user\u2019s token', () => {
  const home = randomUUID();
  const guestTenant = randomUUID();
  let authority: LocalAuthority;
  let chain: OboChain;

  beforeAll(async () => {
    authority = await LocalAuthority.start({ tenantId: home });
    chain = await startOboChain({ authority, controllers: [TenantsController], original: { tenantId: 'organizations', allowedTenants: [home, guestTenant] } });
    probe.scope = chain.downstreamScope;
  }, 30_000);
  afterAll(async () => {
    await chain?.close();
    await authority?.close();
  });

  it.each([
    ['a guest (token issued by the resource tenant)', () => guestTenant],
    ['a home user', () => home],
  ])('for %s on an organizations configuration: to /<tid>/oauth2/v2.0/token, never to organizations or common', async (_name, tenant) => {
    const tid = tenant();
    const atTid = authority.injectTokenFault({ kind: 'delay', ms: 0 }, { tenant: tid });
    const elsewhere = (['organizations', 'common'] as const).map((segment) => authority.injectTokenFault({ kind: 'status', status: 500 }, { tenant: segment }));
    try {
      const reply = await send(`${chain.original.url}/tenants/obo`, chain.userToken({ tenantId: tid }));
      expect(reply.status).toBe(200);
      expect(JSON.parse(reply.body)).toEqual({ tid, aud: chain.downstreamId });
      expect(atTid.applied).toBe(1);
      expect(elsewhere.map((h) => h.applied)).toEqual([0, 0]);
    } finally {
      authority.clearTokenFaults();
    }
  });

  it('calls an app-only downstream API with a token of the tenant its downstreamApis entry names (required on organizations)', async () => {
    const atHome = authority.injectTokenFault({ kind: 'delay', ms: 0 }, { tenant: home, grant: 'client_credentials' });
    try {
      const caller = authority.mintAppToken({ audience: chain.originalId, tenantId: home, claims: { roles: ['Profile.Read.All'] } });
      const reply = await send(`${chain.original.url}/api/app-profile`, caller);
      expect(reply.status).toBe(200);
      expect(atHome.applied).toBe(1);
    } finally {
      authority.clearTokenFaults();
    }
  });
});

describe('#111 tenants: an issued token is checked (tid, aud, exp) before it is cached', () => {
  let chain: OboChain;
  const capture = new CapturingLogger();

  beforeAll(async () => {
    chain = await startOboChain({ controllers: [TenantsController] });
    chain.original.app.useLogger(capture);
    probe.scope = chain.downstreamScope;
  }, 30_000);
  afterAll(() => chain?.close());
  beforeEach(() => {
    chain.authority.clearTokenFaults();
    chain.authority.resetCounters();
    capture.clear();
  });

  const obo = (token: string) => send(`${chain.original.url}/tenants/obo`, token);

  it.each<[string, () => TokenFault, RegExp]>([
    ['another tenant\u2019s token', () => ({ kind: 'altered-token', tenantId: randomUUID() }), /Security: .*issued a token for tenant "[0-9a-f-]{36}", but tenant [0-9a-f-]{36} was asked/],
    ['another audience\u2019s token', () => ({ kind: 'altered-token', audience: randomUUID() }), /Security: .*issued a token for audience "[0-9a-f-]{36}", but resource "api:\/\/[0-9a-f-]{36}" was asked/],
    ['a token whose own exp has passed (expires_in still 3600)', () => ({ kind: 'altered-token', expOffsetSeconds: -10 }), /Security: .*issued a token that expired 1\d s ago \(exp\)/],
  ])('answers 502 for %s, logs one security line, caches nothing: the next call asks the provider again', async (_name, fault, line) => {
    const user = chain.userToken();
    chain.authority.injectTokenFault(fault(), { times: 1 });
    expectCleanError(await obo(user), 502, 'ERR_OBO_PROVIDER_BAD_RESPONSE', chain.clientSecret);
    expect(chain.authority.tokenRequests.onBehalfOf).toBe(1);
    expect(warnings(capture)).toHaveLength(1);
    expect(warnings(capture)[0]!.text).toMatch(line);
    expect(capture.entries.map((e) => e.text).join('\n')).not.toMatch(/eyJ/);

    const next = await obo(user);
    expect(next.status).toBe(200);
    expect(chain.authority.tokenRequests.onBehalfOf).toBe(2);
  });

  it('accepts and caches a legitimate v1.0 token whose aud is the api:// form of the requested resource', async () => {
    const user = chain.userToken();
    chain.authority.injectTokenFault({ kind: 'altered-token', version: '1.0', audience: `api://${chain.downstreamId}` }, { times: 1 });
    const reply = await obo(user);
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toMatchObject({ aud: `api://${chain.downstreamId}` });
    expect((await obo(user)).status).toBe(200);
    expect(chain.authority.tokenRequests.onBehalfOf).toBe(1);
    expect(warnings(capture)).toEqual([]);
  });

  it('lets a token\u2019s own exp cap its cache life: exp within the refresh margin (expires_in 3600) is served once, not cached', async () => {
    const user = chain.userToken();
    chain.authority.injectTokenFault({ kind: 'altered-token', expOffsetSeconds: 120 }, { times: 1 }); // margin: 300 s
    expect((await obo(user)).status).toBe(200);
    expect((await obo(user)).status).toBe(200);
    expect(chain.authority.tokenRequests.onBehalfOf).toBe(2);
  });

  describe('app-only tokens', () => {
    const tokens = () => chain.original.app.get(TokenAcquisition);
    const scope = () => `api://${chain.downstreamId}/.default`;

    it('keys the tenant as a lower-case GUID: upper-case, lower-case and default spellings share one entry and one token request', async () => {
      const tenant = chain.authority.tenantId;
      const first = await tokens().getAccessTokenForApp(scope(), { tenantId: tenant.toUpperCase(), forceRefresh: true });
      expect(await tokens().getAccessTokenForApp(scope(), { tenantId: tenant.toUpperCase() })).toBe(first);
      expect(await tokens().getAccessTokenForApp(scope(), { tenantId: tenant.toLowerCase() })).toBe(first);
      expect(await tokens().getAccessTokenForApp(scope())).toBe(first);
      expect(chain.authority.tokenRequests.clientCredentials).toBe(1);
    });

    it.each(['contoso.onmicrosoft.com', 'common', 'organizations'])('refuses the tenant %s with a typed error naming the GUID it needs, sending nothing', async (tenant) => {
      const error = await tokens().getAccessTokenForApp(scope(), { tenantId: tenant }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(OboError);
      expect((error as OboError).code).toBe('ERR_OBO_CONFIG_INVALID');
      expect((error as OboError).message).toMatch(/options\.tenantId must be the tenant's GUID/);
      expect(chain.authority.requests.token).toBe(0);
    });

    it('refuses an app token issued by another tenant, and does not cache it', async () => {
      chain.authority.injectTokenFault({ kind: 'altered-token', tenantId: randomUUID() }, { times: 1, grant: 'client_credentials' });
      const error = await tokens().getAccessTokenForApp(scope(), { forceRefresh: true }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((error as OboError).code).toBe('ERR_OBO_PROVIDER_BAD_RESPONSE');
      const good = await tokens().getAccessTokenForApp(scope());
      expect(jwtPayload(good).tid).toBe(chain.authority.tenantId);
      expect(chain.authority.tokenRequests.clientCredentials).toBe(2);
    });
  });
});
