import { oidcMetadataUrls } from './oidc-authority.js';

describe('oidcMetadataUrls', () => {
  it('tries OpenID discovery first, then RFC 8414 (inserted), then the appended RFC 8414 form', () => {
    expect(oidcMetadataUrls('https://id.example.test/oauth2/default')).toEqual([
      'https://id.example.test/oauth2/default/.well-known/openid-configuration',
      'https://id.example.test/.well-known/oauth-authorization-server/oauth2/default',
      'https://id.example.test/oauth2/default/.well-known/oauth-authorization-server',
    ]);
  });

  it('does not double the trailing slash of an Auth0-style issuer, and lists a path-less RFC 8414 URL once', () => {
    expect(oidcMetadataUrls('https://tenant.eu.auth0.com/')).toEqual([
      'https://tenant.eu.auth0.com/.well-known/openid-configuration',
      'https://tenant.eu.auth0.com/.well-known/oauth-authorization-server',
    ]);
  });
});
