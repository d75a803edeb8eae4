// Catalogue section 4.10 (#100-#106): Entra clouds and flavours whose metadata is not shaped like
// the public cloud's: issuers on other hosts (External ID, Azure China), no v1.0 document, discovery
// failures, the startup load. Real HTTP against the local authority in those shapes, real RS256
// keys, real msal-node for the On-Behalf-Of leg.
import type { OboModuleOptions } from 'nestjs-obo';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { certificateFromEnvironment, LocalAuthority, type AuthorityKey, type LocalAuthorityOptions } from 'nestjs-obo/testing';
import { optionsFor, type ApiUnderTest } from './support/api-under-test.js';
import { CapturingLogger } from './support/capturing-logger.js';
import { expectRejection, get } from './support/expect-rejection.js';
import { startLoggedApi } from './support/logged-api.js';
import { startOboChain, type OboChain } from './support/obo-chain.js';
import type { PrincipalJson } from './support/principal-json.js';

const ciam = (t: string) => `https://${t}.ciamlogin.com/${t}/v2.0`;
const chinaV2 = (t: string) => `https://login.partner.microsoftonline.cn/${t}/v2.0`;
const chinaV1 = (t: string) => `https://sts.chinacloudapi.cn/${t}/`;
const usGovV2 = (t: string) => `https://login.microsoftonline.us/${t}/v2.0`;
const publicV1 = (t: string) => `https://sts.windows.net/${t}/`;

interface Setup {
  authority: LocalAuthority;
  api: ApiUnderTest;
  logger: CapturingLogger;
}

/** A local authority in the given shape and a logged test API configured against it. */
function shaped(
  authorityOptions: LocalAuthorityOptions,
  overrides: Partial<OboModuleOptions> = {},
  prepare: (authority: LocalAuthority) => Promise<void> = async () => undefined,
): Setup {
  const s = { logger: new CapturingLogger() } as Setup;
  beforeAll(async () => {
    s.authority = await LocalAuthority.start(authorityOptions);
    await prepare(s.authority);
    s.api = await startLoggedApi(optionsFor(s.authority, overrides), s.logger);
  });
  afterAll(async () => {
    await s.api?.close();
    await s.authority?.close();
  });
  return s;
}

/** The token's own claims (the test minted it; nothing is verified here). */
function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** GETs /delegated with `token`, expects 200 (showing the API's rejection reason otherwise) and returns the principal and the token's `iss`. */
async function accepted(s: Setup, token: string): Promise<PrincipalJson & { iss: unknown }> {
  const res = await get(`${s.api.url}/delegated`, token);
  const reasons = s.logger.entries.filter((e) => e.text.startsWith('Token rejected')).map((e) => e.text);
  expect({ status: res.status, reasons: res.status === 200 ? [] : reasons }).toEqual({ status: 200, reasons: [] });
  return { ...(JSON.parse(res.body) as PrincipalJson), iss: claimsOf(token).iss };
}

const warnings = (s: Setup, text: string) => s.logger.entries.filter((e) => e.level === 'warn' && e.text.includes(text));

describe('#100 the v1.0 issuer is known without the v1.0 document', () => {
  describe('an authority that serves only the v2.0 document, at a host no cloud table names', () => {
    const s = shaped({ v1Discovery: false }, { jwks: { cacheMaxAgeSeconds: 1 } });

    it('accepts v2.0 tokens (the failed v1.0 document does not take validation down)', async () => {
      expect((await accepted(s, s.authority.mintUserToken())).tenantId).toBe(s.authority.tenantId);
    });

    it('refuses v1.0 tokens with 401 invalid_token, never 503', async () => {
      expectRejection(await get(`${s.api.url}/delegated`, s.authority.mintUserToken({ version: '1.0' })), 'H401');
    });

    it('warns once, naming the v1.0 document, its status and the fix, across refreshes', async () => {
      // Key sets older than 1 s are refetched: a few more refreshes, each failing the v1.0 document again.
      for (let i = 0; i < 3; i++) {
        await new Promise((resolve) => setTimeout(resolve, 1_100));
        await accepted(s, s.authority.mintUserToken());
      }
      expect(s.authority.requests.discoveryV1).toBeGreaterThanOrEqual(3);
      const lines = warnings(s, 'v1.0 tokens are refused');
      expect(lines).toHaveLength(1);
      expect(lines[0]!.text).toContain(`the v1.0 discovery document ${s.authority.instance}${s.authority.tenantId}/.well-known/openid-configuration answered 404`);
      expect(lines[0]!.text).toContain('azureCloudInstance');
    }, 15_000);
  });

  describe('the same authority with azureCloudInstance AzurePublic', () => {
    const s = shaped({ v1Discovery: false }, { azureCloudInstance: 'AzurePublic' });

    it('accepts v1.0 tokens issued by https://sts.windows.net/<tid>/ from the cloud table, without asking for the v1.0 document', async () => {
      const principal = await accepted(s, s.authority.mintUserToken({ version: '1.0' }));
      expect(principal.iss).toBe(publicV1(s.authority.tenantId));
      await accepted(s, s.authority.mintUserToken());
      expect(s.authority.requests.discoveryV1).toBe(0);
      expect(warnings(s, 'v1.0')).toEqual([]);
    });
  });
});

describe('#101 issuers come from the discovery document byte for byte', () => {
  describe('External ID: the issuer host is the tenant GUID, not the instance host', () => {
    const s = shaped({ issuers: { v2: ciam }, v1Discovery: false }, { acceptedTokenVersions: ['2.0'] });

    it('accepts a token whose iss is exactly https://<tid>.ciamlogin.com/<tid>/v2.0', async () => {
      const principal = await accepted(s, s.authority.mintUserToken());
      expect(principal.iss).toBe(ciam(s.authority.tenantId));
    });

    it.each<[string, (t: string, instance: string) => string]>([
      ['the workforce issuer https://login.microsoftonline.com/<tid>/v2.0', (t) => `https://login.microsoftonline.com/${t}/v2.0`],
      ['an issuer built from the instance', (t, instance) => `${instance}${t}/v2.0`],
      ['the CIAM issuer with a trailing slash', (t) => `${ciam(t)}/`],
      ['the CIAM issuer with an upper-case host', (t) => ciam(t).replace('ciamlogin.com', 'CIAMLOGIN.COM')],
    ])('refuses %s with 401 invalid_token', async (_name, iss) => {
      const token = s.authority.mintUserToken({ claims: { iss: iss(s.authority.tenantId, s.authority.instance) } });
      expectRejection(await get(`${s.api.url}/delegated`, token), 'H401');
    });
  });

  describe('Azure China: v2.0 issuer on login.partner.microsoftonline.cn, v1.0 on sts.chinacloudapi.cn', () => {
    const s = shaped({ issuers: { v2: chinaV2, v1: chinaV1 }, v1Discovery: false }, { azureCloudInstance: 'AzureChina' });

    it('accepts v2.0 and v1.0 tokens of the China cloud', async () => {
      expect((await accepted(s, s.authority.mintUserToken())).iss).toBe(chinaV2(s.authority.tenantId));
      expect((await accepted(s, s.authority.mintUserToken({ version: '1.0' }))).iss).toBe(chinaV1(s.authority.tenantId));
      expect(s.authority.requests.discoveryV1).toBe(0);
    });

    it.each<[string, '1.0' | '2.0', (t: string, instance: string) => string]>([
      ['a v1.0 token of the public cloud (https://sts.windows.net/<tid>/)', '1.0', publicV1],
      ['a v2.0 token with the public cloud issuer', '2.0', (t) => `https://login.microsoftonline.com/${t}/v2.0`],
      ['a v2.0 token with an issuer built from the instance', '2.0', (t, instance) => `${instance}${t}/v2.0`],
    ])('refuses %s with 401 invalid_token', async (_name, version, iss) => {
      const token = s.authority.mintUserToken({ version, claims: { iss: iss(s.authority.tenantId, s.authority.instance) } });
      expectRejection(await get(`${s.api.url}/delegated`, token), 'H401');
    });
  });

  describe('US Government: v2.0 issuer on login.microsoftonline.us, v1.0 on sts.windows.net', () => {
    const s = shaped({ issuers: { v2: usGovV2, v1: publicV1 }, v1Discovery: false }, { azureCloudInstance: 'AzureUsGovernment' });

    it('accepts v2.0 and v1.0 tokens of the US Government cloud', async () => {
      expect((await accepted(s, s.authority.mintUserToken())).iss).toBe(usGovV2(s.authority.tenantId));
      expect((await accepted(s, s.authority.mintUserToken({ version: '1.0' }))).iss).toBe(publicV1(s.authority.tenantId));
    });

    it('refuses a v1.0 token of the China cloud with 401 invalid_token', async () => {
      const token = s.authority.mintUserToken({ version: '1.0', claims: { iss: chinaV1(s.authority.tenantId) } });
      expectRejection(await get(`${s.api.url}/delegated`, token), 'H401');
    });
  });

  describe('On-Behalf-Of through an External ID-shaped authority (real msal-node)', () => {
    let authority: LocalAuthority;
    let chain: OboChain;
    beforeAll(async () => {
      authority = await LocalAuthority.start({ issuers: { v2: ciam }, v1Discovery: false });
      chain = await startOboChain({ authority, original: { acceptedTokenVersions: ['2.0'] } });
    });
    afterAll(async () => {
      await chain?.close();
      await authority?.close();
    });

    it('reaches the downstream API as the same user (msal-node accepts the GUID-host issuer)', async () => {
      const token = chain.userToken();
      const res = await get(`${chain.original.url}/api/profile`, token);
      expect(res.status).toBe(200);
      const body = JSON.parse(res.body) as { caller: { objectId: string }; downstream: { objectId: string; tenantId: string; clientAppId: string } };
      expect(body.downstream).toMatchObject({ objectId: body.caller.objectId, tenantId: authority.tenantId, clientAppId: chain.originalId });
      expect(authority.tokenRequests.onBehalfOf).toBe(1);
    });
  });
});

describe('#103 a signing key\'s own issuer is compared with the discovered issuers', () => {
  const keys = {} as Record<'discovered' | 'instanceBuilt', AuthorityKey>;
  // Both keys are published before the API starts (it loads the key set at startup).
  const s = shaped({ issuers: { v2: chinaV2, v1: chinaV1 }, v1Discovery: false }, { azureCloudInstance: 'AzureChina' }, async (authority) => {
    keys.discovered = await authority.foreignKey();
    keys.instanceBuilt = await authority.foreignKey();
    authority.publishKey(keys.discovered, { issuer: chinaV2('{tenantid}') });
    authority.publishKey(keys.instanceBuilt, { issuer: `${authority.instance}{tenantid}/v2.0` });
  });

  it('accepts a v1.0 token signed by a key whose issuer is the discovered v2.0 template', async () => {
    const principal = await accepted(s, s.authority.mintUserToken({ version: '1.0', key: keys.discovered }));
    expect(principal.iss).toBe(chinaV1(s.authority.tenantId));
  });

  it('refuses a v1.0 token signed by a key whose issuer was built from the instance (not what discovery says)', async () => {
    expectRejection(await get(`${s.api.url}/delegated`, s.authority.mintUserToken({ version: '1.0', key: keys.instanceBuilt })), 'H401');
  });
});

describe('#104 discovery failures name the URL and the status', () => {
  const s = shaped({});

  it('answers 503 with Retry-After while the v2.0 document answers 404, logging its URL and status, then recovers', async () => {
    s.authority.discoveryFault = 'status-404';
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // past any backoff
    s.logger.clear();
    const fresh = await startLoggedApi(optionsFor(s.authority, { jwks: { failureBackoffSeconds: 1 } }), s.logger);
    try {
      expectRejection(await get(`${fresh.url}/delegated`, s.authority.mintUserToken()), 'H503');
      const url = `${s.authority.instance}${s.authority.tenantId}/v2.0/.well-known/openid-configuration`;
      expect(warnings(s, `the v2.0 discovery document ${url} answered 404`).length).toBeGreaterThanOrEqual(1);
      s.authority.discoveryFault = 'none';
      await new Promise((resolve) => setTimeout(resolve, 1_100)); // past the fresh API's 1 s backoff
      await accepted({ ...s, api: fresh }, s.authority.mintUserToken());
    } finally {
      s.authority.discoveryFault = 'none';
      await fresh.close();
    }
  }, 20_000);
});

describe('#106 startup: metadata and keys loaded once, issuers and outbound hosts logged', () => {
  describe('a reachable authority', () => {
    const s = shaped({ issuers: { v2: chinaV2, v1: chinaV1 }, v1Discovery: false }, { azureCloudInstance: 'AzureChina' });

    it('has fetched the metadata and keys before the first request, and logged issuers, JWKS URI and hosts in one line', () => {
      expect(s.authority.requests.discovery).toBe(1);
      expect(s.authority.requests.jwks).toBe(1);
      const line = s.logger.entries.find((e) => e.level === 'log' && e.text.startsWith('Authority '));
      const t = s.authority.tenantId;
      expect(line?.text).toBe(
        `Authority ${s.authority.instance} (workforce, AzureChina): issuers v1.0 ${chinaV1(t)}, v2.0 ${chinaV2(t)}; ` +
          `JWKS ${s.authority.instance}${t}/discovery/v2.0/keys; outbound hosts ${s.authority.authorityHost}. OboModule`, // the capturing logger appends the context
      );
    });
  });

  describe('an authority that is down at startup', () => {
    let authority: LocalAuthority;
    let api: ApiUnderTest | undefined;
    const logger = new CapturingLogger();
    beforeAll(async () => {
      authority = await LocalAuthority.start();
      authority.discoveryFault = 'status-500';
    });
    afterAll(async () => {
      await api?.close();
      await authority.close();
    });

    it('starts anyway, warns, answers 503 with Retry-After, then recovers on its own', async () => {
      api = await startLoggedApi(optionsFor(authority, { jwks: { failureBackoffSeconds: 1 } }), logger);
      expect(logger.entries.some((e) => e.level === 'warn' && e.text.includes('answered 500'))).toBe(true);
      expect(logger.entries.some((e) => e.level === 'log' && e.text.includes('not reachable at startup'))).toBe(true);
      expectRejection(await get(`${api.url}/delegated`, authority.mintUserToken()), 'H503');
      authority.discoveryFault = 'none';
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      expect((await get(`${api.url}/delegated`, authority.mintUserToken())).status).toBe(200);
    });
  });
});

describe('#102 msal-node must accept the token authority: checked at startup', () => {
  let authority: LocalAuthority;
  beforeAll(async () => {
    authority = await LocalAuthority.start({ issuers: { v2: (t) => `https://login.contoso.test/${t}/v2.0` } });
  });
  afterAll(() => authority.close());

  it('refuses to start an API with a client credential when msal-node would refuse the discovery issuer, naming the host to add', async () => {
    const logger = new CapturingLogger();
    const start = startLoggedApi(optionsFor(authority, { clientSecret: 'not-used' }), logger);
    await expect(start).rejects.toThrow(
      new RegExp(
        `^OboModule option "knownAuthorities" does not let msal-node use the token authority ${authority.instance}${authority.tenantId}: ` +
          `its discovery document .* names the issuer https://login\\.contoso\\.test/.*; add "login\\.contoso\\.test" to the knownAuthorities option\\.$`,
      ),
    );
  });

  it('starts, and validates tokens, once the issuer host is in knownAuthorities', async () => {
    const logger = new CapturingLogger();
    const api = await startLoggedApi(optionsFor(authority, { clientSecret: 'not-used', knownAuthorities: ['login.contoso.test'] }), logger);
    try {
      expect((await get(`${api.url}/delegated`, authority.mintUserToken())).status).toBe(200);
    } finally {
      await api.close();
    }
  });

  it('starts an API without a client credential (inbound only: the issuer is taken as discovery says)', async () => {
    const logger = new CapturingLogger();
    const api = await startLoggedApi(optionsFor(authority), logger);
    try {
      const token = authority.mintUserToken();
      expect((await get(`${api.url}/delegated`, token)).status).toBe(200);
    } finally {
      await api.close();
    }
  });
});

describe('#102 at startup, a failed msal-node discovery request is an outage, not a configuration error', () => {
  let authority: LocalAuthority;
  let front: Server;
  let frontUrl: string;
  let served = 0;
  beforeAll(async () => {
    authority = await LocalAuthority.start();
    const tls = certificateFromEnvironment()!;
    // Serves the authority's v2.0 discovery document once (the module's own startup load), then 503
    // (msal-node's resolution right after it).
    front = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
      if (served++ > 0) return void res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"temporarily_unavailable"}');
      fetch(new URL(req.url!.slice(1), authority.instance)).then(
        async (upstream) => res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(await upstream.text()),
        () => res.destroy(),
      );
    });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    frontUrl = `https://127.0.0.1:${(front.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    front.closeAllConnections();
    await new Promise((resolve) => front.close(resolve));
    await authority.close();
  });

  it('starts, with one warning naming the discovery URL and its status', async () => {
    const logger = new CapturingLogger();
    const api = await startLoggedApi({ instance: frontUrl, tenantId: authority.tenantId, clientId: authority.clientId, acceptedTokenVersions: ['2.0'], clientSecret: 'not-used' }, logger);
    try {
      expect(served).toBe(2);
      const lines = warnings({ logger } as Setup, 'msal-node could not resolve the token authority');
      expect(lines).toHaveLength(1);
      expect(lines[0]!.text).toContain(`the discovery document ${frontUrl}${authority.tenantId}/v2.0/.well-known/openid-configuration answered 503`);
      expect((await get(`${api.url}/delegated`, authority.mintUserToken())).status).toBe(200);
    } finally {
      await api.close();
    }
  });
});
