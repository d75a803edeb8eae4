// #141: GraphQL resolvers get what controllers get from issue 13: their scopes in the RFC 9728
// metadata, `resource_metadata` in the challenge Apollo puts on the HTTP answer, and step-up
// (`@RequiredAuthentication`) with Entra's claims challenge, over real HTTP (Apollo Server 5).
import { Query, Resolver } from '@nestjs/graphql';
import { RequiredAuthentication, RequiredScopes } from 'nestjs-obo';
import { LocalAuthority } from 'nestjs-obo/testing';
import type { ApiUnderTest } from './support/api-under-test.js';
import { graphql, startGraphQLApi } from './support/graphql-api.js';
import { expectGraphQLRejection } from './support/graphql-rejection.js';

const METADATA = 'https://api.contoso.test/.well-known/oauth-protected-resource';

@Resolver()
class ApprovalsResolver {
  @Query(() => String)
  @RequiredScopes('Approvals.Read')
  pending(): string {
    return 'PO-1';
  }

  @Query(() => String)
  @RequiredScopes('Approvals.Read')
  @RequiredAuthentication({ acrValues: ['c1'] })
  approve(): string {
    return 'approved';
  }
}

describe('#141 GraphQL resolvers in the metadata, the challenges and step-up', () => {
  let authority: LocalAuthority;
  let api: ApiUnderTest;

  beforeAll(async () => {
    authority = await LocalAuthority.start();
    api = await startGraphQLApi({ instance: authority.instance, tenantId: authority.tenantId, clientId: authority.clientId, protectedResource: { resource: 'https://api.contoso.test' } }, [ApprovalsResolver]);
  });
  afterAll(async () => {
    await api?.close();
    await authority?.close();
  });

  it('lists the resolvers’ scopes in scopes_supported', async () => {
    const metadata = (await (await fetch(`${api.url}/.well-known/oauth-protected-resource`)).json()) as { scopes_supported: string[] };
    expect(metadata.scopes_supported).toEqual([`api://${authority.clientId}/Approvals.Read`]);
  });

  it('a refused field carries resource_metadata on the HTTP answer; a missing scope names it as a client requests it', async () => {
    expectGraphQLRejection(await graphql(api.url, '{ pending }'), 'pending', { status: 401, code: 'UNAUTHENTICATED', oboCode: 'ERR_OBO_TOKEN_MISSING', challenge: new RegExp(`^Bearer resource_metadata="${METADATA}"$`) });
    const other = authority.mintUserToken({ claims: { scp: 'Other' } });
    expectGraphQLRejection(await graphql(api.url, '{ pending }', other), 'pending', {
      status: 403,
      code: 'FORBIDDEN',
      oboCode: 'ERR_OBO_INSUFFICIENT_SCOPE',
      challenge: new RegExp(`^Bearer error="insufficient_scope", error_description="[^"]+", scope="api://${authority.clientId}/Approvals\\.Read", resource_metadata="${METADATA}"$`),
    });
  });

  it('step-up on a resolver: without acrs c1 the claims challenge (401), with it the field resolves', async () => {
    const weak = authority.mintUserToken({ claims: { scp: 'Approvals.Read' } });
    // Checked by hand: the claims parameter is base64 of JSON, which the shared leak patterns take for a token.
    const refused = await graphql(api.url, '{ approve }', weak);
    expect(refused.status).toBe(401);
    const challenge = refused.headers.get('www-authenticate') ?? '';
    expect(challenge).toMatch(new RegExp(`^Bearer authorization_uri="[^"]+", client_id="${authority.clientId}", error="insufficient_claims", error_description="[^"]+", claims="[^"]+", resource_metadata="${METADATA}"$`));
    expect(JSON.parse(Buffer.from(/claims="([^"]+)"/.exec(challenge)![1]!, 'base64').toString())).toEqual({ access_token: { acrs: { essential: true, value: 'c1' } } });
    expect(refused.body.errors?.map((error) => error.extensions)).toEqual([{ code: 'UNAUTHENTICATED', oboCode: 'ERR_OBO_CLAIMS_CHALLENGE' }]);
    expect(refused.text).not.toMatch(/eyJ|127\.0\.0\.1/);
    const strong = authority.mintUserToken({ claims: { scp: 'Approvals.Read', acrs: ['c1'] } });
    const reply = await graphql(api.url, '{ approve pending }', strong);
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ data: { approve: 'approved', pending: 'PO-1' } });
  });
});
