import { Principal } from '../../context/principal.js';
import { PrincipalKeys, tokenCacheKey } from './cache-key.js';

const base = { kind: 'user' as const, assertion: 'header.payload.signature', tenantId: 'https://issuer.example/', scopes: ['orders:read'] };

describe('#121 cache keys at a generic authority: the target is part of the key', () => {
  it('two audiences, two resources, or an audience and a resource of the same text never share a key', () => {
    const keys = [
      tokenCacheKey(base),
      tokenCacheKey({ ...base, audience: 'https://a.example' }),
      tokenCacheKey({ ...base, audience: 'https://b.example' }),
      tokenCacheKey({ ...base, resource: 'https://a.example' }),
      tokenCacheKey({ ...base, audience: 'https://a.example', resource: 'https://a.example' }),
      tokenCacheKey({ ...base, audience: '' }),
    ];
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('an Entra key (no target) is what it was: the target adds nothing when absent', () => {
    expect(tokenCacheKey({ ...base, audience: undefined, resource: undefined })).toBe(tokenCacheKey(base));
  });

  it('PrincipalKeys.userKey remembers keys per target and equals tokenCacheKey for each', () => {
    const principal = new Principal(
      { objectId: 'u', tenantId: base.tenantId, subject: 'u', scopes: [], roles: [], isAppOnly: false, claims: { iss: '', aud: '', sub: 'u', tid: '', exp: 0, nbf: 0, iat: 0, ver: '' } },
      base.assertion,
    );
    const keys = new PrincipalKeys();
    const a = keys.userKey(principal, base.tenantId, base.scopes, { audience: 'https://a.example' });
    const b = keys.userKey(principal, base.tenantId, base.scopes, { audience: 'https://b.example' });
    expect(a).toBe(tokenCacheKey({ ...base, audience: 'https://a.example' }));
    expect(b).toBe(tokenCacheKey({ ...base, audience: 'https://b.example' }));
    expect(keys.userKey(principal, base.tenantId, base.scopes, { audience: 'https://a.example' })).toBe(a);
    expect(keys.userKey(principal, base.tenantId, base.scopes)).toBe(tokenCacheKey(base));
  });
});

describe('PrincipalKeys: what a principal remembers', () => {
  const principal = new Principal({ objectId: 'u', tenantId: base.tenantId, subject: 'u', scopes: [], roles: [], isAppOnly: false }, base.assertion);

  it('a frozen scope array (a configured downstream API) is matched by identity: the same key again', () => {
    const keys = new PrincipalKeys();
    const scopes = Object.freeze(['orders:read']);
    const first = keys.userKey(principal, base.tenantId, scopes);
    expect(first).toBe(tokenCacheKey(base));
    expect(keys.userKey(principal, base.tenantId, scopes)).toBe(first);
    // Same array, another tenant or a target: another key, never the remembered one.
    expect(keys.userKey(principal, 'other-tenant', scopes)).toBe(tokenCacheKey({ ...base, tenantId: 'other-tenant' }));
    expect(keys.userKey(principal, base.tenantId, scopes, { audience: 'https://a.example' })).toBe(tokenCacheKey({ ...base, audience: 'https://a.example' }));
    // An equal array that is another object still finds the first key (by text).
    expect(keys.userKey(principal, base.tenantId, ['orders:read'])).toBe(first);
  });

  it('an array the caller changes between calls gives the key of what it holds now, never the remembered one', () => {
    const keys = new PrincipalKeys();
    const scopes = ['orders:read'];
    expect(keys.userKey(principal, base.tenantId, scopes)).toBe(tokenCacheKey(base));
    scopes[0] = 'orders:write';
    expect(keys.userKey(principal, base.tenantId, scopes)).toBe(tokenCacheKey({ ...base, scopes: ['orders:write'] }));
    scopes.push('orders:read');
    expect(keys.userKey(principal, base.tenantId, scopes)).toBe(tokenCacheKey({ ...base, scopes: ['orders:write', 'orders:read'] }));
  });

  it('two principals never share remembered keys', () => {
    const keys = new PrincipalKeys();
    const other = new Principal({ objectId: 'v', tenantId: base.tenantId, subject: 'v', scopes: [], roles: [], isAppOnly: false }, 'header.other.signature');
    const scopes = Object.freeze(['orders:read']);
    expect(keys.userKey(principal, base.tenantId, scopes)).toBe(tokenCacheKey(base));
    expect(keys.userKey(other, base.tenantId, scopes)).toBe(tokenCacheKey({ ...base, assertion: 'header.other.signature' }));
    expect(keys.owner(principal)).not.toBe(keys.owner(other));
  });
});
