import { resolveOboOptions } from '../../options/resolve-obo-options.js';
import type { OboModuleOptions, TokenProfileName } from '../../options/obo-module-options.interface.js';
import { ClaimsRejection } from '../jwt/validate-claims.js';
import { genericProfile } from './generic.profile.js';

const now = 1_900_000_000;
const ISSUERS: Record<TokenProfileName, string> = {
  rfc9068: 'https://as.example.test',
  auth0: 'https://tenant.eu.auth0.com/',
  okta: 'https://org.okta.com/oauth2/default',
  keycloak: 'https://kc.example.test/realms/demo',
};

function profile(tokenProfile: TokenProfileName, extra: Partial<OboModuleOptions> = {}) {
  return genericProfile(resolveOboOptions({ issuer: ISSUERS[tokenProfile], audience: 'orders-api', clientId: 'orders-api', tokenProfile, ...extra }));
}

function times(): Record<string, number> {
  return { iat: now - 60, exp: now + 3600 };
}

function run(name: TokenProfileName, payload: Record<string, unknown>, typ: string | undefined, extra: Partial<OboModuleOptions> = {}) {
  const p = profile(name, extra);
  const header = typ === undefined ? {} : { typ };
  p.checkType(typ);
  return p.principal({ iss: ISSUERS[name], aud: 'orders-api', ...times(), ...payload }, header, { issuers: {}, issuerV2: ISSUERS[name], now });
}

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ClaimsRejection);
    return (error as ClaimsRejection).reason;
  }
  throw new Error('expected a ClaimsRejection');
}

describe('#116 token profiles', () => {
  describe('rfc9068', () => {
    const user = { sub: 'user-1', client_id: 'spa', jti: 'j1', scope: 'access_as_user read' };

    it('takes an at+jwt user token: scope string, client_id the client, sub the user', () => {
      const principal = run('rfc9068', user, 'at+jwt');
      expect(principal).toMatchObject({ objectId: 'user-1', subject: 'user-1', clientAppId: 'spa', scopes: ['access_as_user', 'read'], roles: [], isAppOnly: false, tenantId: ISSUERS.rfc9068 });
      expect(run('rfc9068', user, 'application/AT+JWT').isAppOnly).toBe(false);
    });

    it('refuses JWT, a missing typ, and tokens without client_id or jti (RFC 9068 §2.2)', () => {
      expect(reason(() => run('rfc9068', user, 'JWT'))).toBe('typ not accepted');
      expect(reason(() => run('rfc9068', user, undefined))).toBe('typ not accepted');
      expect(reason(() => run('rfc9068', { ...user, client_id: undefined }, 'at+jwt'))).toBe('client_id missing');
      expect(reason(() => run('rfc9068', { ...user, jti: undefined }, 'at+jwt'))).toBe('jti missing');
    });

    it('an app-only token (sub = client_id): its scopes become app permissions, never delegated scopes', () => {
      const principal = run('rfc9068', { sub: 'daemon', client_id: 'daemon', jti: 'j', scope: 'orders.read', roles: ['Orders.Admin'] }, 'at+jwt');
      expect(principal).toMatchObject({ isAppOnly: true, objectId: 'daemon', scopes: [], roles: ['Orders.Admin', 'orders.read'] });
    });

    it('checks iss byte for byte, aud as a string or an array, exp and iat required, nbf honoured', () => {
      expect(reason(() => run('rfc9068', { ...user, iss: `${ISSUERS.rfc9068}/` }, 'at+jwt'))).toBe('issuer mismatch');
      expect(run('rfc9068', { ...user, aud: ['other', 'orders-api'] }, 'at+jwt').subject).toBe('user-1');
      expect(reason(() => run('rfc9068', { ...user, aud: ['other'] }, 'at+jwt'))).toBe('audience mismatch');
      expect(reason(() => run('rfc9068', { ...user, iat: undefined }, 'at+jwt'))).toBe('iat missing or not a positive integer');
      expect(reason(() => run('rfc9068', { ...user, exp: now - 3600 }, 'at+jwt'))).toBe('expired');
      expect(reason(() => run('rfc9068', { ...user, nbf: now + 3600 }, 'at+jwt'))).toBe('nbf in the future');
      expect(reason(() => run('rfc9068', { ...user, sub: undefined }, 'at+jwt'))).toBe('sub missing');
      expect(reason(() => run('rfc9068', { ...user, scope: ['a'] }, 'at+jwt'))).toBe('scope claim scope has the wrong type');
    });
  });

  describe('auth0', () => {
    it('default dialect: typ JWT, azp the client, permissions as app permissions', () => {
      const principal = run('auth0', { sub: 'auth0|123', azp: 'spa', scope: 'openid access_as_user', permissions: ['read:orders'] }, 'JWT');
      expect(principal).toMatchObject({ objectId: 'auth0|123', clientAppId: 'spa', scopes: ['openid', 'access_as_user'], roles: ['read:orders'], isAppOnly: false });
    });

    it('machine tokens: gty client-credentials and sub <client>@clients; the two disagreeing is refused', () => {
      const machine = { sub: 'm2m@clients', azp: 'm2m', gty: 'client-credentials', scope: 'read:orders', permissions: ['read:orders'] };
      expect(run('auth0', machine, 'JWT')).toMatchObject({ isAppOnly: true, objectId: 'm2m', scopes: [], roles: ['read:orders'] });
      expect(reason(() => run('auth0', { ...machine, sub: 'auth0|123' }, 'JWT'))).toBe('gty and sub disagree about the caller kind');
      expect(reason(() => run('auth0', { ...machine, gty: 'password' }, 'JWT'))).toBe('gty and sub disagree about the caller kind');
    });

    it('RFC 9068 dialect (at+jwt): client_id and jti required, azp ignored', () => {
      const principal = run('auth0', { sub: 'auth0|1', client_id: 'spa', jti: 'j', scope: 'access_as_user' }, 'at+jwt');
      expect(principal.clientAppId).toBe('spa');
      expect(reason(() => run('auth0', { sub: 'auth0|1', azp: 'spa', scope: 'access_as_user' }, 'at+jwt'))).toBe('client_id missing');
    });
  });

  describe('okta', () => {
    const user = { sub: 'jane@example.test', uid: '00u1', cid: 'spa', jti: 'AT.1', scp: ['access_as_user'] };

    it('scp is an array, cid the client, uid the user (sub is the login); no typ is fine', () => {
      expect(run('okta', user, undefined)).toMatchObject({ objectId: '00u1', subject: 'jane@example.test', clientAppId: 'spa', scopes: ['access_as_user'], isAppOnly: false });
      expect(reason(() => run('okta', { ...user, scp: 'access_as_user' }, undefined))).toBe('scope claim scp has the wrong type');
      expect(reason(() => run('okta', { ...user, uid: undefined }, undefined))).toBe('user id claim missing');
    });

    it('a client-credentials token (no uid, sub = cid) is app-only', () => {
      expect(run('okta', { sub: 'svc', cid: 'svc', jti: 'AT.2', scp: ['orders.read'] }, undefined)).toMatchObject({ isAppOnly: true, roles: ['orders.read'], scopes: [] });
    });
  });

  describe('keycloak', () => {
    const user = { sub: 'f1c2', azp: 'spa', typ: 'Bearer', scope: 'openid access_as_user', realm_access: { roles: ['user'] }, resource_access: { 'orders-api': { roles: ['orders.reader'] }, other: { roles: ['x'] } } };

    it('roles from realm_access and this API’s resource_access only; the payload typ must be Bearer', () => {
      expect(run('keycloak', user, 'JWT')).toMatchObject({ objectId: 'f1c2', clientAppId: 'spa', scopes: ['openid', 'access_as_user'], roles: ['user', 'orders.reader'], isAppOnly: false });
      expect(reason(() => run('keycloak', { ...user, typ: 'ID' }, 'JWT'))).toBe('Keycloak token kind is not Bearer');
      expect(reason(() => run('keycloak', user, 'at+jwt+x'))).toBe('typ not accepted');
    });

    it('a service-account token is app-only', () => {
      const service = { sub: 'sa-1', azp: 'batch', client_id: 'batch', typ: 'Bearer', scope: 'profile', realm_access: { roles: ['orders.writer'] } };
      expect(run('keycloak', service, 'JWT')).toMatchObject({ isAppOnly: true, objectId: 'batch', roles: ['orders.writer', 'profile'] });
    });
  });

  describe('claimMapping overrides', () => {
    it('moves scopes, permissions, client, user and the app-only rule to other claims', () => {
      const principal = run(
        'rfc9068',
        { sub: 's', client_id: 'c', jti: 'j', perms: { api: ['p1'] }, scp: ['a'], employee: 'e1', via: 'gateway' },
        'at+jwt',
        { claimMapping: { scopes: 'scp', appPermissions: 'perms.api', clientId: 'via', userId: 'employee', isAppOnly: () => false } },
      );
      expect(principal).toMatchObject({ objectId: 'e1', clientAppId: 'gateway', scopes: ['a'], roles: ['p1'], isAppOnly: false });
    });
  });
});
