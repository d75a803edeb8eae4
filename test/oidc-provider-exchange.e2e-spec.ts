// #122 (outbound): the chain client → Original API → Downstream API with panva's oidc-provider as
// the authority (an authority we did not write). The Original API's On-Behalf-Of is an RFC 8693
// token exchange at oidc-provider's token endpoint (its grant, registered with registerGrantType,
// authenticates us with oidc-provider's own client authentication and signs with its own keys), with
// each client-authentication method; app tokens come from its client-credentials grant.
import { Module } from '@nestjs/common';
import { AccessTokenValidator, OboModule, TokenAcquisition, type OboModuleOptions } from 'nestjs-obo';
import { WhoAmIController } from '../apps/downstream-api/src/whoami.controller.js';
import { ProfileController } from '../apps/original-api/src/profile.controller.js';
import { listen, type ApiUnderTest } from './support/api-under-test.js';
import { get } from './support/expect-rejection.js';
import { DOWNSTREAM_API, ORIGINAL_API, OidcProviderAuthority, type OidcProviderClientAuthMethod } from './support/oidc-provider-authority.js';

describe('#122 an authority we did not write: On-Behalf-Of by RFC 8693 and app tokens at oidc-provider', () => {
  let op: OidcProviderAuthority;
  let downstream: ApiUnderTest;
  const originals = new Map<OidcProviderClientAuthMethod, ApiUnderTest>();

  async function startOriginal(method: OidcProviderClientAuthMethod): Promise<ApiUnderTest> {
    const client = op.originalApiClients[method];
    const credential: Partial<OboModuleOptions> =
      method === 'private_key_jwt' ? { clientPrivateKey: client.privateKey! } : { clientSecret: client.clientSecret!, clientAuthentication: method };
    @Module({
      imports: [
        OboModule.forRoot({
          issuer: op.issuer,
          audience: ORIGINAL_API.audience,
          tokenProfile: 'rfc9068',
          clientId: client.clientId,
          ...credential,
          downstreamApis: { downstream: { baseUrl: downstream.url, audience: DOWNSTREAM_API.audience, scopes: [DOWNSTREAM_API.scope] } },
        }),
      ],
      controllers: [ProfileController],
    })
    class OriginalModule {}
    return listen(OriginalModule);
  }

  beforeAll(async () => {
    op = await OidcProviderAuthority.start();
    @Module({ imports: [OboModule.forRoot({ issuer: op.issuer, audience: DOWNSTREAM_API.audience, tokenProfile: 'rfc9068' })], controllers: [WhoAmIController] })
    class DownstreamModule {}
    downstream = await listen(DownstreamModule);
    for (const method of ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const) originals.set(method, await startOriginal(method));
  });

  afterAll(async () => {
    for (const api of originals.values()) await api.close();
    await downstream?.close();
    await op?.close();
  });

  it.each(['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const)(
    'with %s: the Downstream API sees the same user, called by the Original API; a second call is served from the cache',
    async (method) => {
      const original = originals.get(method)!;
      const user = `user-${method}`;
      const token = await op.mintUserToken({ subject: user });
      const exchangesBefore = op.tokenRequests.filter((r) => r.grantType === 'urn:ietf:params:oauth:grant-type:token-exchange').length;
      const first = await get(`${original.url}/api/profile`, token);
      expect(first.status).toBe(200);
      const body = JSON.parse(first.body) as { caller: { objectId: string }; downstream: Record<string, unknown> };
      expect(body.caller.objectId).toBe(user);
      expect(body.downstream).toMatchObject({ objectId: user, subject: user, clientAppId: op.originalApiClients[method].clientId, scopes: [DOWNSTREAM_API.scope], tokenKind: 'user' });
      const exchanges = op.tokenRequests.filter((r) => r.grantType === 'urn:ietf:params:oauth:grant-type:token-exchange');
      expect(exchanges.length).toBe(exchangesBefore + 1);
      expect(exchanges.at(-1)).toMatchObject({ clientId: op.originalApiClients[method].clientId, status: 200 });
      expect((await get(`${original.url}/api/profile`, token)).status).toBe(200);
      expect(op.tokenRequests.filter((r) => r.grantType === 'urn:ietf:params:oauth:grant-type:token-exchange').length).toBe(exchangesBefore + 1);
    },
  );

  it('two users never share a downstream token', async () => {
    const original = originals.get('client_secret_basic')!;
    const [a, b] = await Promise.all([op.mintUserToken({ subject: 'alice' }), op.mintUserToken({ subject: 'bob' })]);
    const [ra, rb] = await Promise.all([get(`${original.url}/api/profile`, a), get(`${original.url}/api/profile`, b)]);
    expect((JSON.parse(ra.body) as { downstream: { objectId: string } }).downstream.objectId).toBe('alice');
    expect((JSON.parse(rb.body) as { downstream: { objectId: string } }).downstream.objectId).toBe('bob');
  });

  it('#121 an app token from its client-credentials grant: app-only for the Original API, accepted by the Downstream API', async () => {
    const original = originals.get('client_secret_post')!;
    const token = await original.app.get(TokenAcquisition).getAccessTokenForApp([DOWNSTREAM_API.scope], { audience: DOWNSTREAM_API.audience });
    const principal = await downstream.app.get(AccessTokenValidator).validate(token);
    expect(principal).toMatchObject({ isAppOnly: true, objectId: op.originalApiClients.client_secret_post.clientId, scopes: [], roles: [DOWNSTREAM_API.scope] });
    expect(op.tokenRequests.at(-1)).toMatchObject({ grantType: 'client_credentials', status: 200 });
  });
});
