// Catalogue #100, #101, #106, #107: the module's real metadata, key-set and startup code fed with
// copies of documents real Entra authorities served (test/fixtures/authorities, sources in its
// README), not with what our local authority happens to serve. The authority hosts are outside the
// machine, so undici's MockAgent (a well-kept library) stands in for the network, through the
// module's own `egress.dispatcher` option; everything after the socket is the module's real code,
// msal-node's authority resolution included.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MockAgent } from 'undici';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { OboModule, type OboModuleOptions } from 'nestjs-obo';
import { LocalAuthority } from 'nestjs-obo/testing';
import type { ApiUnderTest } from './support/api-under-test.js';
import { CapturingLogger } from './support/capturing-logger.js';
import { expectRejection, get } from './support/expect-rejection.js';
import { startLoggedApi } from './support/logged-api.js';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'authorities');
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');
const json = (name: string): Record<string, unknown> => JSON.parse(fixture(name)) as Record<string, unknown>;

/** `origin` + `path` answer `body` (the fixture's bytes) for as long as the test runs. */
type Routes = Record<string, Record<string, string>>;

function mockAuthority(routes: Routes): { agent: MockAgent; unmatched: () => string[] } {
  const agent = new MockAgent();
  agent.disableNetConnect(); // anything not routed fails, as the closed network here would
  for (const [origin, paths] of Object.entries(routes)) {
    const pool = agent.get(origin);
    for (const [path, body] of Object.entries(paths)) {
      pool.intercept({ path, method: 'GET' }).reply(200, body, { headers: { 'content-type': 'application/json' } }).persist();
    }
  }
  return { agent, unmatched: () => agent.pendingInterceptors().map((i) => `${i.origin}${i.path}`) };
}

interface Started {
  api: ApiUnderTest;
  logger: CapturingLogger;
  startupLine: string | undefined;
  warnings: string[];
}

async function start(options: OboModuleOptions): Promise<Started> {
  const logger = new CapturingLogger();
  const api = await startLoggedApi(options, logger);
  return {
    api,
    logger,
    startupLine: logger.entries.find((e) => e.level === 'log' && e.text.startsWith('Authority '))?.text,
    warnings: logger.entries.filter((e) => e.level === 'warn' || e.level === 'error').map((e) => e.text),
  };
}

const ORGANIZATIONS_V2 = 'entra-public-organizations-v2.openid-configuration.json';
const ORGANIZATIONS_KEYS = 'entra-public-organizations-v2.keys.json';

describe('#100/#106 the public cloud, from its real documents', () => {
  it('knows the same v1.0 issuer as the real v1.0 document says, without fetching it', () => {
    // The cloud table's value is what Microsoft's own v1.0 documents publish (common, and one tenant).
    expect(json('entra-public-common-v1.openid-configuration.json').issuer).toBe('https://sts.windows.net/{tenantid}/');
    const tenantV1 = json('entra-public-tenant-v1.openid-configuration.json').issuer as string;
    expect(tenantV1).toBe(`https://sts.windows.net/${tenantV1.split('/')[3]}/`);
  });

  describe('a multi-tenant API (organizations) with a client credential', () => {
    const tenant = randomUUID();
    const mock = mockAuthority({
      'https://login.microsoftonline.com': {
        '/organizations/v2.0/.well-known/openid-configuration': fixture(ORGANIZATIONS_V2),
        '/organizations/discovery/v2.0/keys': fixture(ORGANIZATIONS_KEYS),
      },
    });
    let s: Started;
    beforeAll(async () => {
      s = await start({ tenantId: 'organizations', allowedTenants: [tenant], clientId: randomUUID(), clientSecret: 'not-used', egress: { dispatcher: mock.agent } });
    });
    afterAll(async () => {
      await s?.api.close();
      await mock.agent.close();
    });

    it('starts: msal-node accepts the real discovery document, and the startup line gives the issuers as published', () => {
      expect(s.startupLine).toBe(
        'Authority https://login.microsoftonline.com/ (workforce, AzurePublic): issuers v1.0 https://sts.windows.net/{tenantid}/, ' +
          'v2.0 https://login.microsoftonline.com/{tenantid}/v2.0; JWKS https://login.microsoftonline.com/organizations/discovery/v2.0/keys; ' +
          'outbound hosts login.microsoftonline.com. OboModule',
      );
    });

    it('uses every key of the real key set (x5c and n/e agree on each): no key warning', () => {
      expect((json(ORGANIZATIONS_KEYS).keys as unknown[]).length).toBe(6);
      expect(s.warnings).toEqual([]);
    });

    it('refuses a token that names a real Microsoft key but is signed with another: 401, not 503 (the keys are loaded)', async () => {
      const local = await LocalAuthority.start({ tenantId: tenant });
      try {
        const realKid = ((json(ORGANIZATIONS_KEYS).keys as { kid: string }[])[0]!).kid;
        const forged = local.mintUserToken({ header: { kid: realKid }, claims: { iss: `https://login.microsoftonline.com/${tenant}/v2.0` } });
        expectRejection(await get(`${s.api.url}/delegated`, forged), 'H401');
      } finally {
        await local.close();
      }
    });
  });

  describe('the common key set: 10 keys, 3 of them scoped to the consumer tenant by their own issuer', () => {
    const mock = mockAuthority({
      'https://login.microsoftonline.com': {
        '/common/v2.0/.well-known/openid-configuration': fixture('entra-public-common-v2.openid-configuration.json'),
        '/common/discovery/v2.0/keys': fixture('entra-public-common-v2.keys.json'),
      },
    });
    let s: Started;
    beforeAll(async () => {
      s = await start({ tenantId: 'common', allowedTenants: [randomUUID()], clientId: randomUUID(), egress: { dispatcher: mock.agent } });
    });
    afterAll(async () => {
      await s?.api.close();
      await mock.agent.close();
    });

    it('loads every key without a warning, with the issuers the documents give', () => {
      const keys = json('entra-public-common-v2.keys.json').keys as { issuer?: string }[];
      expect(keys.filter((k) => k.issuer === 'https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0')).toHaveLength(3);
      expect(s.warnings).toEqual([]);
      expect(s.startupLine).toContain('issuers v1.0 https://sts.windows.net/{tenantid}/, v2.0 https://login.microsoftonline.com/{tenantid}/v2.0;');
    });
  });

  describe('a single tenant, from a real tenant document (its jwks_uri moved to localhost by its source)', () => {
    const document = json('entra-public-tenant-v2.openid-configuration.json');
    const tenant = (document.issuer as string).split('/')[3]!;
    const mock = mockAuthority({
      'https://login.microsoftonline.com': { [`/${tenant}/v2.0/.well-known/openid-configuration`]: fixture('entra-public-tenant-v2.openid-configuration.json') },
      'https://localhost': { '/v2.0/.well-known/keys.json': fixture(ORGANIZATIONS_KEYS) },
    });
    let s: Started;
    beforeAll(async () => {
      s = await start({ tenantId: tenant, clientId: randomUUID(), egress: { dispatcher: mock.agent } });
    });
    afterAll(async () => {
      await s?.api.close();
      await mock.agent.close();
    });

    it('takes the issuer and the JWKS URI from the document byte for byte, and lists the hosts it calls', () => {
      expect(s.startupLine).toBe(
        `Authority https://login.microsoftonline.com/ (workforce, AzurePublic): issuers v1.0 https://sts.windows.net/${tenant}/, ` +
          `v2.0 https://login.microsoftonline.com/${tenant}/v2.0; JWKS https://localhost/v2.0/.well-known/keys.json; ` +
          'outbound hosts login.microsoftonline.com, localhost. OboModule',
      );
      expect(s.warnings).toEqual([]);
    });
  });
});

describe('#101 Azure China, from msal-node\'s own copy of its metadata', () => {
  // Not a served document: msal keeps 5 members of it (see the fixtures README). Its issuer is on
  // login.partner.microsoftonline.cn while every endpoint is on login.chinacloudapi.cn. No China
  // key set is public in the sources searched, so the public cloud's keys stand in for loading.
  const metadata = fixture('entra-china-v2.msal-endpoint-metadata.json');
  const mock = mockAuthority({
    'https://login.chinacloudapi.cn': {
      '/organizations/v2.0/.well-known/openid-configuration': metadata,
      '/%7Btenantid%7D/discovery/v2.0/keys': fixture(ORGANIZATIONS_KEYS),
    },
  });
  let s: Started;
  beforeAll(async () => {
    s = await start({
      instance: 'https://login.chinacloudapi.cn/',
      tenantId: 'organizations',
      allowedTenants: [randomUUID()],
      clientId: randomUUID(),
      clientSecret: 'not-used',
      egress: { dispatcher: mock.agent },
    });
  });
  afterAll(async () => {
    await s?.api.close();
    await mock.agent.close();
  });

  it('starts (msal-node accepts the partner issuer host) with the China v1.0 issuer from the table and the v2.0 issuer from the document', () => {
    expect(JSON.parse(metadata).issuer).toBe('https://login.partner.microsoftonline.cn/{tenantid}/v2.0');
    expect(s.startupLine).toMatch(
      /^Authority https:\/\/login\.chinacloudapi\.cn\/ \(workforce, AzureChina\): issuers v1\.0 https:\/\/sts\.chinacloudapi\.cn\/\{tenantid\}\/, v2\.0 https:\/\/login\.partner\.microsoftonline\.cn\/\{tenantid\}\/v2\.0; /,
    );
    expect(s.warnings).toEqual([]);
    expect(mock.unmatched()).toEqual([]); // both documents were asked for
  });
});

describe('#105 Azure AD B2C, from a real policy document', () => {
  it('shows why B2C is refused (a v2.0 issuer with a trailing slash, under a policy), and its host stops startup', async () => {
    const document = json('b2c-custom-policy-v2.openid-configuration.json');
    expect(document.issuer).toMatch(/^https:\/\/[^/]+\.b2clogin\.com\/[0-9a-f-]{36}\/v2\.0\/$/);
    expect(document.jwks_uri).toMatch(/\?p=b2c_1a_/); // keys per user flow (policy), not per tenant
    const instance = `${new URL(document.issuer as string).origin}/`;
    @Module({ imports: [OboModule.forRoot({ instance, tenantId: randomUUID(), clientId: randomUUID() })] })
    class B2cModule {}
    await expect(NestFactory.create(B2cModule, { logger: false, abortOnError: false })).rejects.toThrow(/^OboModule option "instance" is an Azure AD B2C host/);
  });
});
