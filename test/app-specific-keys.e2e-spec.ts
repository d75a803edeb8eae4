// Catalogue #108: app-specific signing keys. An API registration with SAML SSO or a claims-mapping
// policy gets tokens signed with keys Entra publishes only at `<jwks_uri>?appid=<client id>`; the
// local authority serves such a key set there (and not in the tenant-wide set).
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { OboConfigurationError, OboModule } from 'nestjs-obo';
import { generateAuthorityKey, LocalAuthority, type AuthorityKey } from 'nestjs-obo/testing';
import { optionsFor, type ApiUnderTest } from './support/api-under-test.js';
import { CapturingLogger } from './support/capturing-logger.js';
import { expectRejection, get } from './support/expect-rejection.js';
import { startLoggedApi } from './support/logged-api.js';

const LIKELY_CAUSE = /SAML SSO or a claims-mapping policy.*set jwks\.appSpecificKeys to true/;

describe('#108 app-specific signing keys (?appid=<client id>)', () => {
  let authority: LocalAuthority;
  let appKey: AuthorityKey;
  const apis: ApiUnderTest[] = [];

  beforeAll(async () => {
    authority = await LocalAuthority.start();
    appKey = await generateAuthorityKey();
    authority.publishAppKey(authority.clientId, appKey);
  });

  afterAll(async () => {
    for (const api of apis) await api.close();
    await authority?.close();
  });

  async function start(appSpecificKeys: boolean | undefined, logger: CapturingLogger): Promise<ApiUnderTest> {
    const api = await startLoggedApi(optionsFor(authority, appSpecificKeys === undefined ? {} : { jwks: { appSpecificKeys } }), logger);
    apis.push(api);
    return api;
  }

  describe('with jwks.appSpecificKeys: true', () => {
    const logger = new CapturingLogger();
    let api: ApiUnderTest;
    beforeAll(async () => (api = await start(true, logger)));

    it('answers 200 to a token signed with the app-specific key', async () => {
      expect((await get(`${api.url}/delegated`, authority.mintUserToken({ key: appKey }))).status).toBe(200);
    });

    it('still answers 200 to a token signed with a tenant-wide key (the app key set holds both)', async () => {
      expect((await get(`${api.url}/delegated`, authority.mintUserToken())).status).toBe(200);
    });
  });

  describe('without the option (default)', () => {
    const logger = new CapturingLogger();
    let api: ApiUnderTest;
    beforeAll(async () => (api = await start(undefined, logger)));

    it('answers 401 invalid_token to a token signed with the app-specific key, and logs one warning naming the likely cause but not the kid', async () => {
      const res = await get(`${api.url}/delegated`, authority.mintUserToken({ key: appKey }));
      expectRejection(res, 'H401');
      expect(`${res.body}${JSON.stringify([...(res.headers as Headers).entries()])}`).not.toContain(appKey.kid);
      const lines = logger.lines.filter((l) => LIKELY_CAUSE.test(l));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^warn /);
      expect(logger.lines.join('\n')).not.toContain(appKey.kid);
    });

    it('writes that line at most once a minute however many unknown-kid tokens come', async () => {
      for (let i = 0; i < 10; i++) expectRejection(await get(`${api.url}/delegated`, authority.mintUserToken({ key: appKey })), 'H401');
      expect(logger.lines.filter((l) => LIKELY_CAUSE.test(l))).toHaveLength(1);
    });
  });

  describe('with jwks.appSpecificKeys: true and a downstream API called On-Behalf-Of', () => {
    it('stops the app at startup with OboConfigurationError naming jwks.appSpecificKeys and the downstream API', async () => {
      @Module({
        imports: [
          OboModule.forRoot(
            optionsFor(authority, {
              jwks: { appSpecificKeys: true },
              clientSecret: 'app-secret',
              downstreamApis: { reports: { baseUrl: 'https://127.0.0.1:1/', scopes: ['api://reports/Read'] } },
            }),
          ),
        ],
      })
      class MiddleTierModule {}
      const started = NestFactory.create(MiddleTierModule, { logger: false, abortOnError: false });
      await expect(started).rejects.toBeInstanceOf(OboConfigurationError);
      await expect(started).rejects.toMatchObject({ code: 'ERR_OBO_CONFIG_INVALID', option: 'jwks.appSpecificKeys' });
      await expect(started).rejects.toThrow(/downstreamApis\.reports .*On-Behalf-Of.*cannot be a middle tier/);
    });

    it('starts when every downstream API is app-only (tokenKind "app")', async () => {
      const logger = new CapturingLogger();
      const api = await startLoggedApi(
        optionsFor(authority, {
          jwks: { appSpecificKeys: true },
          clientSecret: 'app-secret',
          downstreamApis: { reports: { baseUrl: 'https://127.0.0.1:1/', scopes: ['api://reports/.default'], tokenKind: 'app' } },
        }),
        logger,
      );
      apis.push(api);
      expect((await get(`${api.url}/delegated`, authority.mintUserToken({ key: appKey }))).status).toBe(200);
    });
  });
});
