import { OboConfigurationError } from '../errors/obo.error.js';
import type { OboModuleOptions } from './obo-module-options.interface.js';
import { resolveOboOptions } from './resolve-obo-options.js';

const issuer = 'https://example.eu.auth0.com/';
const base: OboModuleOptions = { issuer, audience: 'https://api.example.test' };
const PEM = '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n';

function failure(options: Record<string, unknown>): OboConfigurationError {
  try {
    resolveOboOptions({ ...base, ...options } as OboModuleOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(OboConfigurationError);
    return error as OboConfigurationError;
  }
  throw new Error('expected a configuration error');
}

describe('resolveOboOptions with a generic authority (issuer)', () => {
  it('keeps the issuer byte for byte and defaults to the rfc9068 profile, RS256/PS256/ES256 and the issuer as the tenant key', () => {
    const resolved = resolveOboOptions(base);
    expect(resolved.provider).toBe('oidc');
    expect(resolved.tokenProfile).toBe('rfc9068');
    expect(resolved.authority).toEqual({
      kind: 'oidc',
      issuer,
      metadataUrls: ['https://example.eu.auth0.com/.well-known/openid-configuration', 'https://example.eu.auth0.com/.well-known/oauth-authorization-server'],
    });
    expect(resolved.tenantId).toBe(issuer);
    expect(resolved.audience).toEqual(['https://api.example.test']);
    expect(resolved.algorithms).toEqual(['RS256', 'PS256', 'ES256']);
    expect(resolved.knownAuthorities).toEqual([]);
    expect(resolved.delegation).toEqual({ maxActors: 4, allowedActors: undefined });
    expect(resolved.credential).toBeUndefined();
  });

  it.each([
    ['http scheme', 'http://example.test/'],
    ['query', 'https://example.test/?x=1'],
    ['fragment', 'https://example.test/#x'],
    ['credentials', 'https://u:p@example.test/'],
    ['surrounding space', ' https://example.test/'],
    ['not a URL', 'example.test'],
  ])('refuses an issuer with %s', (_name, value) => {
    expect(failure({ issuer: value }).message).toMatch(/^OboModule option "issuer" must be the authority's issuer, an https URL/);
  });

  it('requires audience, naming where each authority keeps it', () => {
    expect(failure({ audience: undefined }).message).toMatch(/"audience" is required with issuer: .*Auth0: the API identifier/);
  });

  it.each(['instance', 'azureCloudInstance', 'allowedTenants', 'acceptedTokenVersions', 'knownAuthorities', 'scopeClaim', 'roleClaim'])('refuses the Entra-only option %s next to issuer', (option) => {
    const value = option === 'allowedTenants' || option === 'acceptedTokenVersions' || option === 'knownAuthorities' ? ['x'] : 'x';
    expect(failure({ [option]: value }).message).toContain(`"${option}" applies to Entra ID only and cannot be combined with issuer`);
  });

  it('refuses issuer and tenantId together', () => {
    expect(failure({ tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47' }).message).toMatch(/"issuer" and tenantId name two authorities/);
  });

  it.each(['tokenProfile', 'claimMapping', 'clientAuthentication', 'tokenExchange'])('refuses the generic-only option %s on Entra ID', (option) => {
    const error = (() => {
      try {
        resolveOboOptions({ tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47', clientId: '6e74172b-be56-4843-9ff4-e66a39bb12e3', [option]: option === 'claimMapping' || option === 'tokenExchange' ? {} : 'okta' });
      } catch (e) {
        return e as Error;
      }
      throw new Error('expected a configuration error');
    })();
    expect(error.message).toContain(`"${option}" applies only to an authority other than Entra ID`);
  });

  it('refuses an unknown profile and bad claim paths', () => {
    expect(failure({ tokenProfile: 'ping' }).message).toMatch(/"tokenProfile" must be one of "rfc9068", "auth0", "okta", "keycloak"/);
    expect(failure({ claimMapping: { scopes: 'a b' } }).message).toMatch(/"claimMapping\.scopes" must be a claim name, or a dot path/);
    expect(failure({ claimMapping: { appPermissions: [] } }).message).toMatch(/"claimMapping\.appPermissions" must be a claim path or a non-empty list/);
    expect(resolveOboOptions({ ...base, claimMapping: { appPermissions: 'realm_access.roles' } }).claimMapping.appPermissions).toEqual(['realm_access.roles']);
  });

  describe('outbound', () => {
    const api = { baseUrl: 'https://downstream.example.test', audience: 'https://downstream', scopes: ['read:orders'] };

    it('a secret means client_secret_basic, and the RFC 8693 token types default to the access-token type', () => {
      const resolved = resolveOboOptions({ ...base, clientId: 'abc', clientSecret: 's', downstreamApis: { orders: api } });
      expect(resolved.clientAuthentication).toBe('client_secret_basic');
      expect(resolved.tokenExchange).toEqual({ subjectTokenType: 'urn:ietf:params:oauth:token-type:access_token', requestedTokenType: 'urn:ietf:params:oauth:token-type:access_token' });
      expect(resolved.downstreamApis.get('orders')).toMatchObject({ audience: 'https://downstream', resource: undefined, scopes: ['read:orders'], tokenKind: 'user' });
    });

    it('a private key means private_key_jwt; Okta omits requested_token_type; null omits it anywhere', () => {
      const resolved = resolveOboOptions({ ...base, tokenProfile: 'okta', clientId: 'abc', clientPrivateKey: { privateKey: PEM, keyId: 'k1' } });
      expect(resolved.clientAuthentication).toBe('private_key_jwt');
      expect(resolved.credential).toEqual({ kind: 'private-key', privateKey: { privateKey: PEM, keyId: 'k1', algorithm: 'RS256' } });
      expect(resolved.tokenExchange?.requestedTokenType).toBeUndefined();
      expect(resolveOboOptions({ ...base, tokenExchange: { requestedTokenType: null } }).tokenExchange?.requestedTokenType).toBeUndefined();
    });

    it('refuses a method that does not fit the credential, and a credential without clientId', () => {
      expect(failure({ clientId: 'abc', clientSecret: 's', clientAuthentication: 'private_key_jwt' }).message).toMatch(/"private_key_jwt" needs clientPrivateKey or clientAssertion/);
      expect(failure({ clientId: 'abc', clientPrivateKey: { privateKey: PEM }, clientAuthentication: 'client_secret_post' }).message).toMatch(/"client_secret_post" needs clientSecret/);
      expect(failure({ clientSecret: 's' }).message).toMatch(/"clientId" is required with a client credential/);
    });

    it('a downstream API needs audience or resource, takes plain scopes (or none), and refuses tenantId and a resource with a fragment', () => {
      expect(failure({ clientId: 'abc', clientSecret: 's', downstreamApis: { orders: { baseUrl: 'https://x.test', scopes: ['read'] } } }).message).toMatch(
        /"downstreamApis\.orders\.audience" or resource is required/,
      );
      expect(failure({ clientId: 'abc', clientSecret: 's', downstreamApis: { orders: { ...api, tenantId: 'x' } } }).message).toMatch(/"downstreamApis\.orders\.tenantId" applies to Entra ID only/);
      expect(failure({ clientId: 'abc', clientSecret: 's', downstreamApis: { orders: { ...api, resource: 'https://x.test/#a' } } }).message).toMatch(/RFC 8707/);
      const resolved = resolveOboOptions({ ...base, clientId: 'abc', clientSecret: 's', downstreamApis: { orders: { baseUrl: 'https://x.test', resource: 'https://x.test/', scopes: [] } } });
      expect(resolved.downstreamApis.get('orders')).toMatchObject({ resource: 'https://x.test/', scopes: [] });
    });

    it('refuses audience/resource on an Entra downstream API and clientPrivateKey on Entra ID', () => {
      const entra = { tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47', clientId: '6e74172b-be56-4843-9ff4-e66a39bb12e3', clientSecret: 's' };
      expect(() => resolveOboOptions({ ...entra, downstreamApis: { a: { baseUrl: 'https://x.test', scopes: ['api://x/Read'], audience: 'x' } } })).toThrow(/"downstreamApis\.a\.audience" applies only to an authority other than Entra ID/);
      expect(() => resolveOboOptions({ ...entra, clientSecret: undefined, clientPrivateKey: { privateKey: PEM } })).toThrow(/"clientPrivateKey" applies only to an authority other than Entra ID/);
    });
  });
});
