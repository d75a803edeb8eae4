import type { Agent } from 'node:https';
import { OboConfigurationError } from '../errors/obo.error.js';
import { editDistance } from './check-option-keys.js';
import type { DownstreamApiOptions, JwksOptions, OboModuleOptions } from './obo-module-options.interface.js';
import { OBO_OPTION_KEYS, type KeyShape } from './option-keys.js';
import { resolveOboOptions } from './resolve-obo-options.js';

const tenantId = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const clientId = '6e74172b-be56-4843-9ff4-e66a39bb12e3';
const base = { tenantId, clientId };
const KEY = Buffer.alloc(32, 7).toString('base64');

function failure(options: Record<string, unknown>): OboConfigurationError {
  try {
    resolveOboOptions({ ...base, ...options } as OboModuleOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(OboConfigurationError);
    return error as OboConfigurationError;
  }
  throw new Error('expected a configuration error');
}

/** Every option at every level, so no real key is ever taken for a typo. */
const EVERY_OPTION: Required<OboModuleOptions> = {
  // Generic-authority options (issue 10): checked for their keys here, for their values in resolve-obo-options.spec.ts.
  issuer: undefined as never,
  tokenProfile: undefined as never,
  claimMapping: undefined as never,
  clientAuthentication: undefined as never,
  clientPrivateKey: undefined as never,
  tokenExchange: undefined as never,
  delegation: { maxActors: 3, allowedActors: ['agent'] },
  instance: 'https://login.microsoftonline.com/',
  azureCloudInstance: 'AzurePublic',
  knownAuthorities: ['login.contoso.test'],
  tenantId: 'organizations',
  clientId,
  audience: [clientId],
  allowedTenants: [tenantId],
  acceptedTokenVersions: ['2.0'],
  clockToleranceSeconds: 30,
  algorithms: ['RS256'],
  maxTokenLength: 20_000,
  maxTokenLifetimeSeconds: 7_200,
  allowedClientApplications: [clientId],
  scopeClaim: 'scp',
  roleClaim: 'roles',
  realm: 'api',
  jwks: { cacheMaxAgeSeconds: 60, cooldownSeconds: 5, failureBackoffSeconds: 2, timeoutMs: 1_000, maxResponseBytes: 65_536, appSpecificKeys: false },
  validatedTokenCacheMaxEntries: 10,
  clientSecret: 'secret',
  clientCertificate: undefined as never,
  clientAssertion: undefined as never,
  tokenAcquisition: { timeoutMs: 5_000, cacheMaxEntries: 10, refreshMarginSeconds: 60, refreshAheadSeconds: 60, clientCapabilities: ['CP1'] },
  downstreamApis: { graph: { baseUrl: 'https://graph.microsoft.com/v1.0', scopes: ['https://graph.microsoft.com/User.Read'], tokenKind: 'user', timeoutMs: 1_000 } },
  distributedCache: {
    redis: 'redis://127.0.0.1:6379',
    encryptionKeys: [KEY],
    keyPrefix: 'x:',
    operationTimeoutMs: 100,
    failureThreshold: 2,
    openSeconds: 5,
    lock: true,
    lockTtlMs: 6_000,
  },
  egress: { proxyFromEnvironment: false },
  protectedResource: {
    resource: 'https://api.contoso.test/v1',
    scopePrefix: 'api://contoso/',
    resourceName: 'Contoso API',
    resourceDocumentation: 'https://docs.contoso.test/api',
    jwksUri: 'https://api.contoso.test/keys',
    resourceSigningAlgValuesSupported: ['ES256'],
  },
};

describe('#109 unknown or misspelled option keys fail at startup, naming the closest real option', () => {
  it('accepts every real option at every level', () => {
    const { clientCertificate: _c, clientAssertion: _a, ...options } = EVERY_OPTION;
    expect(() => resolveOboOptions(options)).not.toThrow();
    const certificate = { privateKey: '-----BEGIN PRIVATE KEY-----', thumbprintSha256: 'a'.repeat(64), x5c: 'MIIB' };
    expect(() => resolveOboOptions({ ...base, clientCertificate: certificate })).not.toThrow();
  });

  it.each<[string, Record<string, unknown>, string, RegExp]>([
    ['top level, wrong case', { tenantID: tenantId }, 'tenantID', /did you mean "tenantId"\?/],
    ['top level, transposed letters', { clientSecert: 's' }, 'clientSecert', /did you mean "clientSecret"\?/],
    ['top level, an option of another level', { cacheMaxAgeSeconds: 60 }, 'cacheMaxAgeSeconds', /did you mean "jwks\.cacheMaxAgeSeconds" \(at another level\)\?/],
    ['top level, an option of several other levels', { timeoutMs: 5 }, 'timeoutMs', /"jwks\.timeoutMs" or "tokenAcquisition\.timeoutMs" or "downstreamApis\.<name>\.timeoutMs"/],
    ['top level, a name from other libraries', { authority: 'https://login.microsoftonline.com/x' }, 'authority', /no option has a close name\. Give the host as instance/],
    ['jwks, not an option (issue 9)', { jwks: { jwksUri: 'https://example.test/keys' } }, 'jwks.jwksUri', /no option has a close name\. The JWKS URI comes from the discovery document.*\(jwks takes: cacheMaxAgeSeconds, cooldownSeconds, /],
    ['jwks, shortened', { jwks: { cooldown: 5 } }, 'jwks.cooldown', /did you mean "jwks\.cooldownSeconds"\?/],
    ['tokenAcquisition', { tokenAcquisition: { timeout: 5 } }, 'tokenAcquisition.timeout', /did you mean "tokenAcquisition\.timeoutMs"\?/],
    ['downstreamApis.<name>', { clientSecret: 's', downstreamApis: { graph: { baseUrl: 'https://x.test', scope: ['a'] } } }, 'downstreamApis.graph.scope', /did you mean "downstreamApis\.graph\.scopes"\?/],
    ['downstreamApis.<name>, wrong case', { clientSecret: 's', downstreamApis: { graph: { baseURL: 'https://x.test', scopes: ['a'] } } }, 'downstreamApis.graph.baseURL', /did you mean "downstreamApis\.graph\.baseUrl"\?/],
    ['distributedCache', { distributedCache: { redis: 'redis://x', encryptionKey: KEY } }, 'distributedCache.encryptionKey', /did you mean "distributedCache\.encryptionKeys"\?/],
    ['clientCertificate', { clientCertificate: { privateKey: 'PRIVATE KEY', thumbprint: 'a' } }, 'clientCertificate.thumbprint', /did you mean "clientCertificate\.thumbprintSha256"\?/],
    ['top level, nothing close', { zebra: 1 }, 'zebra', /no option has a close name \(the options object takes: instance, /],
    ['a module extra from an options factory', { isGlobal: true }, 'isGlobal', /is a module extra, not an option: pass it to forRoot\(\)/],
  ])('refuses an unknown key: %s', (_level, options, option, message) => {
    const error = failure(options);
    expect(error.code).toBe('ERR_OBO_CONFIG_INVALID');
    expect(error.option).toBe(option);
    expect(error.message).toContain(`OboModule option "${option}" is `);
    expect(error.message).toMatch(message);
  });

  it('refuses an unknown key even when its value is undefined (a misspelling is still a misspelling)', () => {
    expect(failure({ jwks: { cacheMaxAge: undefined } }).option).toBe('jwks.cacheMaxAge');
  });

  it('checks keys before values, so the misspelling is what the error names', () => {
    expect(failure({ clientId: 'not-a-guid', clientid: clientId }).option).toBe('clientid');
  });

  it('does not walk objects the user owns: an ioredis-like client, functions, class instances', () => {
    class FakeRedis {
      readonly status = 'ready';
      readonly options = { host: '127.0.0.1', anything: true };
      get(): void {}
    }
    const options = { ...base, clientAssertion: async () => 'assertion', distributedCache: { redis: new FakeRedis() as never, encryptionKeys: [KEY] } };
    expect(() => resolveOboOptions(options)).not.toThrow();
  });

  it('measures optimal string alignment distance, case-insensitively', () => {
    expect(editDistance('tenantID', 'tenantId')).toBe(0);
    expect(editDistance('clientSecert', 'clientSecret')).toBe(1);
    expect(editDistance('scope', 'scopes')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it('is typed so that an option added to an options interface but not to the key shape fails to compile', () => {
    // Each line below is a compile error (tsc and ts-jest fail on an unused @ts-expect-error).
    // @ts-expect-error a new top-level option
    const added: KeyShape<OboModuleOptions & { retryPolicy?: number }> = OBO_OPTION_KEYS;
    // @ts-expect-error a new option in a nested options interface
    const nestedAdded: KeyShape<Omit<OboModuleOptions, 'jwks'> & { jwks?: JwksOptions & { jwksUri?: string } }> = OBO_OPTION_KEYS;
    // @ts-expect-error a new option in each value of a record
    const recordAdded: KeyShape<Omit<OboModuleOptions, 'downstreamApis'> & { downstreamApis?: Record<string, DownstreamApiOptions & { retries?: number }> }> =
      OBO_OPTION_KEYS;
    // @ts-expect-error an object option must be declared nested, or its type listed as a value the user owns
    const unclassified: KeyShape<{ agent?: Agent }> = { agent: 'value' };
    const current: KeyShape<OboModuleOptions> = OBO_OPTION_KEYS;
    expect([added, nestedAdded, recordAdded, unclassified, current]).toHaveLength(5);
  });
});
