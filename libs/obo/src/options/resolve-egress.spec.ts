import { Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { readFileSync } from 'node:fs';
import { Agent, EnvHttpProxyAgent, ProxyAgent } from 'undici';
import { OboConfigurationError } from '../errors/obo.error.js';
import { OboModule } from '../obo.module.js';
import type { EgressOptions, OboModuleOptions } from './obo-module-options.interface.js';
import { resolveEgress, type ResolvedEgress } from './resolve-egress.js';
import { resolveOboOptions } from './resolve-obo-options.js';

const tenantId = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const clientId = '6e74172b-be56-4843-9ff4-e66a39bb12e3';
/** A real certificate: the local authority's, which scripts/test.mjs names in NODE_EXTRA_CA_CERTS. */
const certificate = (): string => readFileSync(process.env.NODE_EXTRA_CA_CERTS!, 'utf8');

const created: ResolvedEgress[] = [];
function resolve(options: EgressOptions | undefined): ResolvedEgress {
  const egress = resolveEgress(options);
  if (egress.owned) created.push(egress);
  return egress;
}
afterEach(async () => {
  for (const egress of created.splice(0)) await egress.dispatcher.close();
});

function failure(options: unknown): OboConfigurationError {
  try {
    resolve(options as EgressOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(OboConfigurationError);
    expect((error as OboConfigurationError).code).toBe('ERR_OBO_CONFIG_INVALID');
    return error as OboConfigurationError;
  }
  throw new Error('expected a configuration error');
}

describe('#112 resolveEgress', () => {
  it('by default owns one direct keep-alive Agent (closed at shutdown)', () => {
    const egress = resolve(undefined);
    expect(egress).toEqual({ dispatcher: expect.any(Agent), owned: true, mode: 'direct' });
  });

  it('uses undici\u2019s EnvHttpProxyAgent for proxyFromEnvironment, owned by the module', () => {
    expect(resolve({ proxyFromEnvironment: true })).toEqual({ dispatcher: expect.any(EnvHttpProxyAgent), owned: true, mode: 'proxy-from-environment' });
    expect(resolve({ proxyFromEnvironment: false })).toEqual({ dispatcher: expect.any(Agent), owned: true, mode: 'direct' });
  });

  it('takes the user\u2019s dispatcher as it is and does not own it', async () => {
    const dispatcher = new ProxyAgent('http://127.0.0.1:9');
    try {
      expect(resolve({ dispatcher })).toEqual({ dispatcher, owned: false, mode: 'dispatcher' });
      expect(resolve({ dispatcher, proxyFromEnvironment: false })).toEqual({ dispatcher, owned: false, mode: 'dispatcher' });
    } finally {
      await dispatcher.close();
    }
  });

  it('accepts extra CAs as one PEM string or a list', () => {
    expect(resolve({ ca: certificate() }).owned).toBe(true);
    expect(resolve({ ca: [certificate(), certificate()], proxyFromEnvironment: true }).mode).toBe('proxy-from-environment');
  });

  it.each([
    ['proxyFromEnvironment', { proxyFromEnvironment: true }],
    ['ca', { ca: 'x' }],
  ])('refuses dispatcher together with %s, naming egress.dispatcher and the fix', async (_name, extra) => {
    const dispatcher = new Agent();
    try {
      const error = failure({ dispatcher, ...extra });
      expect(error.option).toBe('egress.dispatcher');
      expect(error.message).toMatch(/conflicts with egress\.proxyFromEnvironment \/ egress\.ca.*Configure them on it/);
    } finally {
      await dispatcher.close();
    }
  });

  it.each([
    ['egress', 'a string', 'direct'],
    ['egress.dispatcher', 'an object without dispatch()', { dispatcher: {} }],
    ['egress.dispatcher', 'null', { dispatcher: null }],
    ['egress.proxyFromEnvironment', 'a string', { proxyFromEnvironment: 'yes' }],
    ['egress.ca', 'an empty list', { ca: [] }],
    ['egress.ca', 'text without a PEM certificate', { ca: 'not a certificate' }],
    ['egress.ca[1]', 'a number in the list', { ca: [certificate(), 42] }],
  ])('refuses %s given as %s', (option, _what, value) => {
    expect(failure(value).option).toBe(option);
  });

  it('refuses a PEM block that is not a certificate, naming its place in the list', () => {
    const error = failure({ ca: [certificate(), '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----'] });
    expect(error.option).toBe('egress.ca[1]');
    expect(error.message).toMatch(/not a readable X\.509 certificate/);
  });

  describe('with a proxy variable that is not a URL', () => {
    const saved = { HTTPS_PROXY: process.env.HTTPS_PROXY, https_proxy: process.env.https_proxy };
    afterEach(() => {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    });

    it('fails at startup without showing the value (it may hold credentials)', () => {
      delete process.env.https_proxy;
      process.env.HTTPS_PROXY = 'user:s3cret-password@@ not a url';
      const error = failure({ proxyFromEnvironment: true });
      expect(error.option).toBe('egress.proxyFromEnvironment');
      expect(error.message).toMatch(/HTTPS_PROXY/);
      expect(error.message).not.toContain('s3cret');
    });
  });
});

describe('#112 egress through the module: bad combinations fail at startup', () => {
  const base: OboModuleOptions = { tenantId, clientId };

  it('resolveOboOptions exposes the resolved egress', async () => {
    const resolved = resolveOboOptions(base);
    created.push(resolved.egress);
    expect(resolved.egress).toEqual({ dispatcher: expect.any(Agent), owned: true, mode: 'direct' });
  });

  it('a module with dispatcher and proxyFromEnvironment does not start (OboConfigurationError)', async () => {
    const dispatcher = new Agent();
    @Module({ imports: [OboModule.forRoot({ ...base, egress: { dispatcher, proxyFromEnvironment: true } })] })
    class BadEgressModule {}
    try {
      await expect(Test.createTestingModule({ imports: [BadEgressModule] }).compile()).rejects.toMatchObject({
        code: 'ERR_OBO_CONFIG_INVALID',
        option: 'egress.dispatcher',
      });
    } finally {
      await dispatcher.close();
    }
  });
});
