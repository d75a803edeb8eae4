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
