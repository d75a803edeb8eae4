import { inspect } from 'node:util';
import { Principal, type AccessTokenClaims } from './principal.js';

const token = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJl';
const claims = { oid: 'o', tid: 't', sub: 's', scp: 'a b' } as unknown as AccessTokenClaims;
const principal = new Principal(
  { objectId: 'o', tenantId: 't', subject: 's', clientAppId: 'c', scopes: ['a', 'b'], roles: [], isAppOnly: false, claims },
  token,
);

describe('Principal', () => {
  it('keeps the raw token reachable for On-Behalf-Of through `assertion`', () => {
    expect(principal.assertion).toBe(token);
  });

  it('never shows the raw token in JSON, util.inspect, Object.keys or a spread', () => {
    expect(JSON.stringify(principal)).not.toContain(token);
    expect(inspect(principal, { depth: 10, showHidden: true })).not.toContain(token);
    expect(Object.keys(principal)).not.toContain('assertion');
    expect(JSON.stringify({ ...principal })).not.toContain(token);
  });

  it('serialises to identity, scopes and roles only, without the claim set', () => {
    expect(JSON.parse(JSON.stringify(principal))).toEqual({
      objectId: 'o', tenantId: 't', subject: 's', clientAppId: 'c', scopes: ['a', 'b'], roles: [], isAppOnly: false, actors: [],
    });
  });

  it('#117 serialises the delegation chain as actor identities only, outermost first, never their other claims', () => {
    const delegated = new Principal(
      { objectId: 'o', tenantId: 't', subject: 's', scopes: ['a'], roles: [], isAppOnly: false, claims, actors: [{ subject: 'agent', claims: { sub: 'agent', secret_claim: 'x' } }, { clientId: 'first', claims: { client_id: 'first' } }] },
      'raw.token.value',
    );
    const json = JSON.stringify(delegated);
    expect(JSON.parse(json).actors).toEqual([{ subject: 'agent' }, { clientId: 'first' }]);
    expect(json).not.toContain('secret_claim');
    expect(Object.isFrozen(delegated.actors)).toBe(true);
  });

  it('is frozen, so a handler cannot widen its own scopes', () => {
    expect(() => (principal.scopes as string[]).push('Admin')).toThrow(TypeError);
    expect(() => Object.assign(principal, { isAppOnly: true })).toThrow(TypeError);
  });

  it('built without `claims`, reads them from the token payload on first use: the same claims, frozen, one object', () => {
    const payload = { iss: 'https://issuer.example/', sub: 'user', exp: 2_000_000_000, scp: 'a', name: 'Zoë' };
    const jwt = `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.c2ln`;
    const lazy = new Principal({ objectId: 'o', tenantId: 't', subject: 'user', scopes: ['a'], roles: [], isAppOnly: false }, jwt);
    expect(lazy.claims).toEqual(payload);
    expect(Object.isFrozen(lazy.claims)).toBe(true);
    expect(lazy.claims).toBe(lazy.claims);
    expect(JSON.stringify(lazy)).not.toContain('Zoë');
  });

  it('built without `claims` from text that is not a JWS, says so when the claims are read', () => {
    const opaque = new Principal({ objectId: 'o', tenantId: 't', subject: 's', scopes: ['a'], roles: [], isAppOnly: false }, 'opaque-token');
    expect(() => opaque.claims).toThrow(TypeError);
    const notObject = new Principal({ objectId: 'o', tenantId: 't', subject: 's', scopes: ['a'], roles: [], isAppOnly: false }, `h.${Buffer.from('[1]').toString('base64url')}.s`);
    expect(() => notObject.claims).toThrow('no JWT payload');
  });
});

