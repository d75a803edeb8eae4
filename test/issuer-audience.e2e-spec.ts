// Catalogue section 4.5 (#49-#56): issuer, audience and tenant checks, end to end over real HTTP
// against the local authority (real RS256 keys, real discovery and JWKS on 127.0.0.1).
import { randomUUID } from 'node:crypto';
import type { LocalAuthority, MintOptions } from 'nestjs-obo/testing';
import { harness } from './support/api-harness.js';
import { expectRejection, get } from './support/expect-rejection.js';
import type { PrincipalJson } from './support/principal-json.js';

function principalOf(res: { status: number; body: string }): PrincipalJson {
  expect(res.status).toBe(200);
  return JSON.parse(res.body) as PrincipalJson;
}

const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
const CONSUMER_TENANT = '9188040d-6c67-4c5b-b112-36a304b66dad';

describe('#49 tokens issued for another resource (confused deputy)', () => {
  const h = harness();
  const otherApi = randomUUID();

  it('accepts a token for this API (control)', async () => {
    const res = await get(`${h.api.url}/delegated`, h.authority.mintUserToken());
    expect(principalOf(res).scopes).toEqual(['access_as_user']);
  });

  it.each<[string, (clientId: string) => MintOptions]>([
    ['v2 aud is another API client id', () => ({ audience: otherApi })],
    ['v2 aud is another API App ID URI', () => ({ audience: `api://${otherApi}` })],
    ['v1 aud is another API App ID URI', () => ({ version: '1.0', audience: `api://${otherApi}` })],
    ['v1 aud is another API client id', () => ({ version: '1.0', audience: otherApi })],
    ['aud is Microsoft Graph app id, header carries a nonce', () => ({ audience: GRAPH_APP_ID, header: { nonce: 'AbCdEf0123456789' } })],
    ['aud is https://graph.microsoft.com, header carries a nonce', () => ({ audience: 'https://graph.microsoft.com', header: { nonce: 'AbCdEf0123456789' } })],
    ['v1 aud is https://graph.microsoft.com/, header carries a nonce', () => ({ version: '1.0', audience: 'https://graph.microsoft.com/', header: { nonce: 'AbCdEf0123456789' } })],
    ['aud claim is missing', () => ({ claims: { aud: undefined } })],
  ])('answers 401 invalid_token when %s', async (_name, mint) => {
    const token = h.authority.mintUserToken(mint(h.authority.clientId));
    expectRejection(await get(`${h.api.url}/delegated`, token), 'H401');
    expectRejection(await get(`${h.api.url}/authenticated`, token), 'H401');
  });
});

describe('#50 audience lookalikes are compared exactly', () => {
  const h = harness();

  it.each<[string, (clientId: string) => string | string[]]>([
    ['<clientId>-x', (c) => `${c}-x`],
    ['x<clientId>', (c) => `x${c}`],
    ['<clientId> upper-cased', (c) => c.toUpperCase()],
    ['<clientId> with a trailing space', (c) => `${c} `],
    ['api://<clientId>.evil.com', (c) => `api://${c}.evil.com`],
    ['api://<clientId>/extra', (c) => `api://${c}/extra`],
    ['API://<clientId>', (c) => `API://${c}`],
    ['https://<clientId>', (c) => `https://${c}`],
    ['an array with only another audience', () => [randomUUID()]],
    ['an empty array', () => []],
    ['an array holding an array with the client id', (c) => [[c]] as unknown as string[]],
  ])('answers 401 invalid_token when aud is %s', async (_name, aud) => {
    for (const version of ['2.0', '1.0'] as const) {
      const token = h.authority.mintUserToken({ version, audience: aud(h.authority.clientId) });
      expectRejection(await get(`${h.api.url}/delegated`, token), 'H401');
    }
  });

  it('answers 401 invalid_token when aud is a number or an object', async () => {
    for (const aud of [1, { aud: h.authority.clientId }, null, true]) {
      const token = h.authority.mintUserToken({ claims: { aud } });
      expectRejection(await get(`${h.api.url}/delegated`, token), 'H401');
    }
  });
});

describe('#51 accepted audience forms per token version (default audience)', () => {
  const h = harness();

  it.each<[string, (clientId: string) => MintOptions]>([
    ['a v1 token with aud api://<clientId>', (c) => ({ version: '1.0', audience: `api://${c}` })],
    ['a v1 token with aud <clientId>', (c) => ({ version: '1.0', audience: c })],
    ['a v2 token with aud <clientId>', (c) => ({ version: '2.0', audience: c })],
    ['a v2 token whose aud array contains the client id', (c) => ({ version: '2.0', audience: [randomUUID(), c] })],
    ['a v1 token whose aud array contains api://<clientId>', (c) => ({ version: '1.0', audience: [`api://${randomUUID()}`, `api://${c}`] })],
  ])('answers 200 for %s', async (_name, mint) => {
    const res = await get(`${h.api.url}/delegated`, h.authority.mintUserToken(mint(h.authority.clientId)));
    expect(principalOf(res).tenantId).toBe(h.authority.tenantId);
  });

  it('answers 401 invalid_token for a v1 token with aud api://<clientId>/ when that form is not configured', async () => {
    const token = h.authority.mintUserToken({ version: '1.0', audience: `api://${h.authority.clientId}/` });
    expectRejection(await get(`${h.api.url}/delegated`, token), 'H401');
  });
});

describe('#51 a configured audience list is what is accepted', () => {
  const h = harness((a) => ({ audience: [a.clientId, `api://${a.clientId}`, `api://${a.clientId}/`] }));

  it('answers 200 for a v1 token with aud api://<clientId>/ once that form is configured', async () => {
    const token = h.authority.mintUserToken({ version: '1.0', audience: `api://${h.authority.clientId}/` });
    expect(principalOf(await get(`${h.api.url}/delegated`, token)).tenantId).toBe(h.authority.tenantId);
  });

  it('still answers 200 for the client id and api://<clientId>', async () => {
    const { clientId } = h.authority;
    principalOf(await get(`${h.api.url}/delegated`, h.authority.mintUserToken({ audience: clientId })));
    principalOf(await get(`${h.api.url}/delegated`, h.authority.mintUserToken({ version: '1.0', audience: `api://${clientId}` })));
  });

  it('still answers 401 for api://<clientId>/extra', async () => {
    const token = h.authority.mintUserToken({ version: '1.0', audience: `api://${h.authority.clientId}/extra` });
    expectRejection(await get(`${h.api.url}/delegated`, token), 'H401');
  });
});

describe('#51 a configured audience replaces the default', () => {
  const h = harness((a) => ({ audience: `api://${a.clientId}` }));

  it('answers 200 for aud api://<clientId> and 401 for the bare client id once only the App ID URI is configured', async () => {
    const { clientId } = h.authority;
    principalOf(await get(`${h.api.url}/delegated`, h.authority.mintUserToken({ version: '1.0', audience: `api://${clientId}` })));
    expectRejection(await get(`${h.api.url}/delegated`, h.authority.mintUserToken({ audience: clientId })), 'H401');
  });
});

describe('#52 wrong issuer on a single-tenant API', () => {
  const h = harness();
  const otherTenant = randomUUID();

  it.each<[string, (a: LocalAuthority) => MintOptions]>([
    ['a v2 token from another tenant (iss and tid of that tenant)', () => ({ tenantId: otherTenant })],
    ['a v1 token from another tenant (iss and tid of that tenant)', () => ({ version: '1.0', tenantId: otherTenant })],
    ['a v2 token with iss of another tenant and tid of this tenant', (a) => ({ claims: { iss: a.issuerV2(otherTenant) } })],
    ['a v1 token with iss of another tenant and tid of this tenant', (a) => ({ version: '1.0', claims: { iss: a.issuerV1(otherTenant) } })],
    ['a v2 token with iss of this tenant and tid of another tenant', () => ({ claims: { tid: otherTenant } })],
    ['a token from the consumer tenant', () => ({ tenantId: CONSUMER_TENANT })],
    ['a token without iss', () => ({ claims: { iss: undefined } })],
    ['a token without tid', () => ({ claims: { tid: undefined } })],
  ])('answers 401 invalid_token for %s', async (_name, mint) => {
    expectRejection(await get(`${h.api.url}/delegated`, h.authority.mintUserToken(mint(h.authority))), 'H401');
  });
});

describe('#53 issuer lookalikes are compared as exact strings', () => {
  const h = harness();

  it('accepts the exact v1 and v2 issuers (control)', async () => {
    const { authority } = h;
    principalOf(await get(`${h.api.url}/delegated`, authority.mintUserToken({ claims: { iss: authority.issuerV2() } })));
    principalOf(await get(`${h.api.url}/delegated`, authority.mintUserToken({ version: '1.0', claims: { iss: authority.issuerV1() } })));
  });

  it.each<[string, '1.0' | '2.0', (a: LocalAuthority) => string]>([
    ['v1 https://sts.windows.net/<tid> without the trailing slash', '1.0', (a) => a.issuerV1().slice(0, -1)],
    ['v1 http://sts.windows.net/<tid>/', '1.0', (a) => a.issuerV1().replace('https://', 'http://')],
    ['v1 with an upper-case host https://STS.WINDOWS.NET/<tid>/', '1.0', (a) => a.issuerV1().replace('sts.windows.net', 'STS.WINDOWS.NET')],
    ['v1 with an upper-case tenant GUID', '1.0', (a) => a.issuerV1(a.tenantId.toUpperCase())],
    ['v1 with a double slash', '1.0', (a) => `${a.issuerV1()}/`],
    ['v1 issuer form on the v2 host (<instance><tid>/)', '1.0', (a) => `${a.instance}${a.tenantId}/`],
    ['v2 <instance><tid>/v2.0/ with a trailing slash', '2.0', (a) => `${a.issuerV2()}/`],
    ['v2 over http://', '2.0', (a) => a.issuerV2().replace('https://', 'http://')],
    ['v2 with an upper-case scheme', '2.0', (a) => a.issuerV2().replace('https://', 'HTTPS://')],
    ['v2 with an upper-case tenant GUID', '2.0', (a) => a.issuerV2(a.tenantId.toUpperCase())],
    ['v2 without /v2.0', '2.0', (a) => `${a.instance}${a.tenantId}`],
    ['v2 without /v2.0 but with a trailing slash', '2.0', (a) => `${a.instance}${a.tenantId}/`],
    ['v2 with /V2.0 upper-cased', '2.0', (a) => `${a.instance}${a.tenantId}/V2.0`],
    ['v2 from the public cloud host https://login.microsoftonline.com/<tid>/v2.0', '2.0', (a) => `https://login.microsoftonline.com/${a.tenantId}/v2.0`],
    ['v2 with a leading space', '2.0', (a) => ` ${a.issuerV2()}`],
    ['v2 with a path suffix', '2.0', (a) => `${a.issuerV2()}/evil`],
  ])('answers 401 invalid_token for iss %s', async (_name, version, iss) => {
    const token = h.authority.mintUserToken({ version, claims: { iss: iss(h.authority) } });
    expectRejection(await get(`${h.api.url}/delegated`, token), 'H401');
  });

  it('answers 401 invalid_token when iss is not a string', async () => {
    for (const iss of [1, [h.authority.issuerV2()], { iss: h.authority.issuerV2() }, null]) {
      expectRejection(await get(`${h.api.url}/delegated`, h.authority.mintUserToken({ claims: { iss } })), 'H401');
    }
  });
});

describe('#54 token version bound to the issuer form', () => {
  const h = harness();

  it.each<[string, (a: LocalAuthority) => MintOptions]>([
    ['the v1 issuer with ver "2.0"', (a) => ({ version: '2.0', claims: { iss: a.issuerV1() } })],
    ['the v2 issuer with ver "1.0"', (a) => ({ version: '1.0', claims: { iss: a.issuerV2() } })],
    ['ver missing', () => ({ claims: { ver: undefined } })],
    ['ver "3.0"', () => ({ claims: { ver: '3.0' } })],
    ['ver as the number 2', () => ({ claims: { ver: 2 } })],
    ['ver "2"', () => ({ claims: { ver: '2' } })],
  ])('answers 401 invalid_token for a token with %s', async (_name, mint) => {
    expectRejection(await get(`${h.api.url}/delegated`, h.authority.mintUserToken(mint(h.authority))), 'H401');
  });
});

describe.each<['1.0' | '2.0', '1.0' | '2.0']>([
  ['2.0', '1.0'],
  ['1.0', '2.0'],
])('#54 acceptedTokenVersions ["%s"]', (accepted, other) => {
  const h = harness(() => ({ acceptedTokenVersions: [accepted] }));

  it(`answers 200 for a v${accepted[0]} token`, async () => {
    principalOf(await get(`${h.api.url}/delegated`, h.authority.mintUserToken({ version: accepted })));
  });

  it(`answers 401 invalid_token for a well-formed v${other[0]} token`, async () => {
    expectRejection(await get(`${h.api.url}/delegated`, h.authority.mintUserToken({ version: other })), 'H401');
  });
});

describe.each(['organizations', 'common'])('#55 multi-tenant API (tenantId "%s", allowedTenants [T1, T2])', (multiTenant) => {
  const t2 = randomUUID();
  const t3 = randomUUID();
  const h = harness((a) => ({ tenantId: multiTenant, allowedTenants: [a.tenantId, t2] }));

  it.each(['2.0', '1.0'] as const)('answers 200 for a v%s token from T2 and reports T2 as the tenant', async (version) => {
    const principal = principalOf(await get(`${h.api.url}/delegated`, h.authority.mintUserToken({ version, tenantId: t2 })));
    expect(principal.tenantId).toBe(t2);
  });

  it('answers 200 for a token from T1', async () => {
    expect(principalOf(await get(`${h.api.url}/delegated`, h.authority.mintUserToken())).tenantId).toBe(h.authority.tenantId);
  });

  it.each<[string, (a: LocalAuthority) => MintOptions]>([
    ['a v2 token from T3 (not on the list)', () => ({ tenantId: t3 })],
    ['a v1 token from T3 (not on the list)', () => ({ version: '1.0', tenantId: t3 })],
    ['iss of T2 with tid T3', () => ({ tenantId: t2, claims: { tid: t3 } })],
    ['iss of T3 with tid T2', (a) => ({ tenantId: t2, claims: { iss: a.issuerV2(t3) } })],
    ['iss of T1 with tid T2 (both allowed, not tied)', (a) => ({ tenantId: t2, claims: { iss: a.issuerV2() } })],
    ['v1 iss of T1 with tid T2 (both allowed, not tied)', (a) => ({ version: '1.0', tenantId: t2, claims: { iss: a.issuerV1() } })],
    ['tid "common" (iss of common)', () => ({ tenantId: 'common' })],
    ['tid "organizations" (iss of organizations)', () => ({ tenantId: 'organizations' })],
    ['tid "" (empty)', () => ({ tenantId: '' })],
    ['tid "common" with iss of T2', () => ({ tenantId: t2, claims: { tid: 'common' } })],
    ['tid "" with iss of T2', () => ({ tenantId: t2, claims: { tid: '' } })],
    ['tid T2 upper-cased', () => ({ tenantId: t2.toUpperCase() })],
    ['iss containing the literal {tenantid} with tid T2', (a) => ({ tenantId: t2, claims: { iss: a.issuerV2('{tenantid}') } })],
    ['v1 iss containing the literal {tenantid} with tid T2', (a) => ({ version: '1.0', tenantId: t2, claims: { iss: a.issuerV1('{tenantid}') } })],
    ['iss and tid both the literal {tenantid}', () => ({ tenantId: '{tenantid}' })],
    ['the consumer tenant 9188040d-6c67-4c5b-b112-36a304b66dad (not on the list)', () => ({ tenantId: CONSUMER_TENANT })],
    ['tid as a number', () => ({ tenantId: t2, claims: { tid: 1 } })],
  ])('answers 401 invalid_token for %s', async (_name, mint) => {
    expectRejection(await get(`${h.api.url}/delegated`, h.authority.mintUserToken(mint(h.authority))), 'H401');
  });
});

describe('#56 guest users', () => {
  const h = harness();
  const homeTenant = randomUUID();

  it('answers 200 for a guest whose tid is the resource tenant and idp is the home tenant, keyed by tid and oid', async () => {
    const oid = randomUUID();
    const token = h.authority.mintUserToken({ claims: { oid, idp: `https://sts.windows.net/${homeTenant}/`, home_tid: homeTenant } });
    const principal = principalOf(await get(`${h.api.url}/delegated`, token));
    expect(principal.tenantId).toBe(h.authority.tenantId);
    expect(principal.objectId).toBe(oid);
  });

  it('answers 401 when the guest token is issued by the home tenant instead of the resource tenant', async () => {
    const token = h.authority.mintUserToken({ tenantId: homeTenant, claims: { idp: `https://sts.windows.net/${homeTenant}/` } });
    expectRejection(await get(`${h.api.url}/delegated`, token), 'H401');
  });
});
