import { ClaimsRejection } from '../jwt/validate-claims.js';
import { outermostActorAllowed, readDelegationChain } from './delegation-chain.js';

function nested(depth: number): Record<string, unknown> | undefined {
  let act: Record<string, unknown> | undefined;
  for (let i = depth; i >= 1; i--) act = { sub: `actor-${i}`, ...(act ? { act } : {}) };
  return act;
}

describe('#117 delegation chains', () => {
  it('reads act outermost first, without the nested act in each level’s claims', () => {
    const actors = readDelegationChain({ act: nested(3) }, 4);
    expect(actors.map((a) => a.subject)).toEqual(['actor-1', 'actor-2', 'actor-3']);
    expect(actors[0]!.claims).toEqual({ sub: 'actor-1' });
    expect(readDelegationChain({}, 4)).toEqual([]);
  });

  it('refuses more than maxActors levels (Auth0 refuses to exchange a token with five), and malformed levels', () => {
    expect(readDelegationChain({ act: nested(4) }, 4)).toHaveLength(4);
    expect(() => readDelegationChain({ act: nested(5) }, 4)).toThrow(new ClaimsRejection('delegation chain longer than delegation.maxActors (4)'));
    expect(() => readDelegationChain({ act: nested(1) }, 0)).toThrow(ClaimsRejection);
    expect(() => readDelegationChain({ act: 'agent' }, 4)).toThrow(new ClaimsRejection('act is not an object'));
    expect(() => readDelegationChain({ act: [{ sub: 'a' }] }, 4)).toThrow(new ClaimsRejection('act is not an object'));
    expect(() => readDelegationChain({ act: { iss: 'x' } }, 4)).toThrow(new ClaimsRejection('act names no actor'));
    expect(() => readDelegationChain({ act: { sub: 7 } }, 4)).toThrow(new ClaimsRejection('act.sub is not a non-empty string'));
  });

  it('allowedActors decides on the outermost actor only; a token without act passes', () => {
    const allowed = new Set(['agent']);
    expect(outermostActorAllowed(readDelegationChain({ act: { sub: 'agent', act: { sub: 'intruder' } } }, 4), allowed)).toBe(true);
    expect(outermostActorAllowed(readDelegationChain({ act: { sub: 'intruder', act: { sub: 'agent' } } }, 4), allowed)).toBe(false);
    expect(outermostActorAllowed(readDelegationChain({ act: { client_id: 'agent' } }, 4), allowed)).toBe(true);
    expect(outermostActorAllowed([], allowed)).toBe(true);
    expect(outermostActorAllowed(readDelegationChain({ act: { sub: 'anyone' } }, 4), undefined)).toBe(true);
  });
});
