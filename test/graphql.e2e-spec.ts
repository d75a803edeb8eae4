// GraphQL resolvers behind OboModule (issue 11, "Adapters and transports"): the global guards,
// @RequiredScopes / @RequiredAppPermissions on resolver methods and classes, @CurrentUser, and
// DownstreamApi On-Behalf-Of the caller, over real HTTP (Apollo Server 5 through @nestjs/apollo).
// A refused field answers with the RFC 6750 status and WWW-Authenticate header on the HTTP response
// (Apollo reads them from the error's extensions.http) and a GraphQL error whose extensions are
// exactly { code, oboCode }.
import { randomUUID } from 'node:crypto';
import type { ApiUnderTest } from './support/api-under-test.js';
import { graphql, startGraphQLApi } from './support/graphql-api.js';
import { expectGraphQLRejection, insufficientScope, INVALID, MISSING } from './support/graphql-rejection.js';
import { AdminResolver, CallerResolver, ProfileResolver, Rendezvous } from './support/graphql-resolvers.js';
import { startOboChain, type OboChain } from './support/obo-chain.js';
import { startStubDownstream, type StubDownstream } from './support/stub-downstream.js';

const ME = '{ me { objectId tenantId scopes contextObjectId } }';
const PROFILE = '{ profile { callerObjectId downstreamObjectId downstreamScopes } }';

function oidOf(token: string): string {
  return (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { oid: string }).oid;
}

describe('GraphQL resolvers: guards, scopes, @CurrentUser and On-Behalf-Of (issue 11)', () => {
  let chain: OboChain;
  let stub: StubDownstream;
  let api: ApiUnderTest;

  beforeAll(async () => {
    chain = await startOboChain();
    stub = await startStubDownstream();
    api = await startGraphQLApi(
      {
        instance: chain.authority.instance,
        tenantId: chain.authority.tenantId,
        clientId: chain.originalId,
        clientSecret: chain.clientSecret,
        downstreamApis: {
          downstream: { baseUrl: chain.downstream!.url, scopes: [chain.downstreamScope] },
          broken: { baseUrl: stub.url, scopes: [chain.downstreamScope] },
        },
      },
      [CallerResolver, AdminResolver, ProfileResolver, Rendezvous],
    );
  });

  afterAll(async () => {
    await api?.close();
    await stub?.close();
    await chain?.close();
  });

  it('answers 200 with the caller through @CurrentUser, and the request context holds the same principal', async () => {
    const token = chain.userToken();
    const reply = await graphql(api.url, ME, token);
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      data: { me: { objectId: oidOf(token), tenantId: chain.authority.tenantId, scopes: ['access_as_user'], contextObjectId: oidOf(token) } },
    });
  });

  it('answers 401 with a bare Bearer challenge, UNAUTHENTICATED and ERR_OBO_TOKEN_MISSING without a token', async () => {
    expectGraphQLRejection(await graphql(api.url, ME), 'me', MISSING);
  });

  it('answers 401 invalid_token, UNAUTHENTICATED and ERR_OBO_TOKEN_INVALID for a token signed by another key or for another audience', async () => {
    const foreign = await chain.authority.foreignKey();
    for (const token of [chain.userToken({ key: foreign }), chain.userToken({ audience: randomUUID() })]) {
      expectGraphQLRejection(await graphql(api.url, ME, token), 'me', INVALID);
    }
  });

  it('answers 403 insufficient_scope naming the scope of @RequiredScopes on a resolver method', async () => {
    expectGraphQLRejection(await graphql(api.url, '{ report }', chain.userToken()), 'report', insufficientScope('Reports.Write'));
    const allowed = await graphql(api.url, '{ report }', chain.userToken({ claims: { scp: 'access_as_user Reports.Write' } }));
    expect({ status: allowed.status, body: allowed.body }).toEqual({ status: 200, body: { data: { report: 'written' } } });
  });

  it('applies @RequiredScopes on a resolver class to its queries', async () => {
    expectGraphQLRejection(await graphql(api.url, '{ adminNote }', chain.userToken()), 'adminNote', insufficientScope('Admin.Read'));
    const token = chain.userToken({ claims: { scp: 'Admin.Read' } });
    const allowed = await graphql(api.url, '{ adminNote }', token);
    expect({ status: allowed.status, body: allowed.body }).toEqual({ status: 200, body: { data: { adminNote: `note for ${oidOf(token)}` } } });
  });

  it('applies @RequiredAppPermissions to app-only tokens and refuses a user token with the permission in the challenge', async () => {
    const app = chain.authority.mintAppToken({ audience: chain.originalId, claims: { roles: ['Reports.Read.All'] } });
    const allowed = await graphql(api.url, '{ appReport }', app);
    expect({ status: allowed.status, body: allowed.body }).toEqual({ status: 200, body: { data: { appReport: oidOf(app) } } });
    expectGraphQLRejection(await graphql(api.url, '{ appReport }', chain.userToken()), 'appReport', insufficientScope('Reports.Read.All'));
  });

  it('serves a @Public() query without a token', async () => {
    const reply = await graphql(api.url, '{ health }');
    expect({ status: reply.status, body: reply.body }).toEqual({ status: 200, body: { data: { health: 'ok' } } });
  });

  it('calls the Downstream API On-Behalf-Of the caller from a resolver', async () => {
    const token = chain.userToken();
    const reply = await graphql(api.url, PROFILE, token);
    expect({ status: reply.status, body: reply.body }).toEqual({
      status: 200,
      body: { data: { profile: { callerObjectId: oidOf(token), downstreamObjectId: oidOf(token), downstreamScopes: ['Downstream.Read'] } } },
    });
  });

  it('never mixes users: concurrent queries of different users, all authenticated before any calls downstream, each reach it as their own user', async () => {
    const tokens = Array.from({ length: 8 }, () => chain.userToken());
    api.app.get(Rendezvous).expect(tokens.length);
    const together = '{ profileTogether { callerObjectId downstreamObjectId downstreamScopes } }';
    const replies = await Promise.all(tokens.flatMap((token) => [graphql(api.url, together, token), graphql(api.url, ME, token)]));
    tokens.forEach((token, i) => {
      const [profile, me] = [replies[2 * i]!, replies[2 * i + 1]!];
      expect(profile.body.data?.profileTogether).toEqual({ callerObjectId: oidOf(token), downstreamObjectId: oidOf(token), downstreamScopes: ['Downstream.Read'] });
      expect(me.body.data?.me).toMatchObject({ objectId: oidOf(token), contextObjectId: oidOf(token) });
    });
  });

  it('maps a DownstreamApi failure in a resolver to 502, BAD_GATEWAY and ERR_OBO_DOWNSTREAM_FAILED, without the downstream text', async () => {
    stub.script.push({ status: 500, body: { error: 'downstream secret text' } });
    const reply = await graphql(api.url, '{ brokenProfile { callerObjectId } }', chain.userToken());
    expect(reply.status).toBe(502);
    expect(reply.headers.get('cache-control')).toBe('no-store');
    expect(reply.body.errors).toEqual([expect.objectContaining({ path: ['brokenProfile'], extensions: { code: 'BAD_GATEWAY', oboCode: 'ERR_OBO_DOWNSTREAM_FAILED' } })]);
    expect(reply.text).not.toContain('downstream secret text');
    expect(stub.tokens).toHaveLength(1);
  });
});

describe('GraphQL with the Apollo driver default preserveHttpStatusForExecutionErrors (issue 11)', () => {
  let chain: OboChain;
  let api: ApiUnderTest;

  beforeAll(async () => {
    chain = await startOboChain();
    const options = { instance: chain.authority.instance, tenantId: chain.authority.tenantId, clientId: chain.originalId };
    api = await startGraphQLApi(options, [CallerResolver], { preserveHttpStatusForExecutionErrors: undefined });
  });

  afterAll(async () => {
    await api?.close();
    await chain?.close();
  });

  it('answers HTTP 200 (the driver resets the status) but still sends the WWW-Authenticate challenge and the error codes', async () => {
    const reply = await graphql(api.url, ME);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('www-authenticate')).toBe('Bearer');
    expect(reply.body.errors).toEqual([expect.objectContaining({ path: ['me'], extensions: { code: 'UNAUTHENTICATED', oboCode: 'ERR_OBO_TOKEN_MISSING' } })]);
  });
});
