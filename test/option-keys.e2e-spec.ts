// Catalogue #109: an unknown or misspelled option key stops the app at startup, through the real
// module, with the full path of the key and the closest real option (issue 9: `jwks.jwksUri` was
// accepted and silently ignored).
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { OboConfigurationError, OboModule, type OboModuleOptions } from 'nestjs-obo';
import { LocalAuthority } from 'nestjs-obo/testing';
import { optionsFor } from './support/api-under-test.js';

describe('#109 unknown or misspelled option keys', () => {
  let authority: LocalAuthority;
  beforeAll(async () => (authority = await LocalAuthority.start()));
  afterAll(() => authority?.close());

  async function startupError(imported: unknown): Promise<OboConfigurationError> {
    @Module({ imports: [imported as never] })
    class AppModule {}
    const started = NestFactory.create(AppModule, { logger: false, abortOnError: false });
    const error: unknown = await started.then(
      async (app) => {
        await app.close();
        return undefined;
      },
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(OboConfigurationError);
    return error as OboConfigurationError;
  }

  it('stops OboModule.forRoot at startup naming jwks.jwksUri and what to do instead', async () => {
    const options = { ...optionsFor(authority), jwks: { jwksUri: `${authority.instance}keys` } } as OboModuleOptions;
    const error = await startupError(OboModule.forRoot(options));
    expect(error).toMatchObject({ code: 'ERR_OBO_CONFIG_INVALID', option: 'jwks.jwksUri' });
    expect(error.message).toMatch(/^OboModule option "jwks\.jwksUri" is not an option .*no option has a close name/);
  });

  it('stops OboModule.forRootAsync at startup naming a misspelled downstream API option and its closest real name', async () => {
    const options = { ...optionsFor(authority), clientSecret: 's', downstreamApis: { graph: { baseUrl: 'https://127.0.0.1:1/', scopes: ['api://x/Read'], timeoutMS: 1_000 } } };
    const error = await startupError(OboModule.forRootAsync({ useFactory: () => options as OboModuleOptions }));
    expect(error).toMatchObject({ code: 'ERR_OBO_CONFIG_INVALID', option: 'downstreamApis.graph.timeoutMS' });
    expect(error.message).toContain('did you mean "downstreamApis.graph.timeoutMs"?');
  });

  it('still starts with forRoot extras beside the options (Nest strips them before the options are resolved)', async () => {
    @Module({ imports: [OboModule.forRoot({ ...optionsFor(authority), isGlobal: true, globalGuard: false })] })
    class AppModule {}
    const app = await NestFactory.create(AppModule, { logger: false, abortOnError: false });
    await app.close();
  });
});
