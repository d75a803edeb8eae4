import { ACCESS_TOKEN_TYPE } from '../../options/resolve-outbound-options.js';
import { actorDepth, MAX_SUBJECT_ACTORS } from './delegation-depth.js';
import { clientCredentialsForm, TOKEN_EXCHANGE_GRANT, tokenExchangeForm } from './rfc8693-request.js';

const request = { assertion: 'the.user.token', scopes: ['a', 'b'], tenantId: 'https://issuer.example/' };

describe('#118 RFC 8693 request bodies', () => {
  it('a token exchange: grant, subject token and type, requested type, audience, resource and space-joined scopes', () => {
    const form = tokenExchangeForm({ ...request, audience: 'aud', resource: 'https://res.example/' }, { subjectTokenType: ACCESS_TOKEN_TYPE, requestedTokenType: ACCESS_TOKEN_TYPE });
    expect(Object.fromEntries(form)).toEqual({
      grant_type: TOKEN_EXCHANGE_GRANT,
      subject_token: 'the.user.token',
      subject_token_type: ACCESS_TOKEN_TYPE,
      requested_token_type: ACCESS_TOKEN_TYPE,
      audience: 'aud',
      resource: 'https://res.example/',
      scope: 'a b',
    });
  });

  it('omits requested_token_type when none is configured, and scope when there is none', () => {
    const form = tokenExchangeForm({ ...request, scopes: [], audience: 'aud' }, { subjectTokenType: 'urn:example:custom' });
    expect(form.has('requested_token_type')).toBe(false);
    expect(form.has('scope')).toBe(false);
    expect(form.get('subject_token_type')).toBe('urn:example:custom');
  });

  it('client credentials: the grant and the target, no subject token', () => {
    expect(Object.fromEntries(clientCredentialsForm({ scopes: [], tenantId: request.tenantId, audience: 'aud' }))).toEqual({ grant_type: 'client_credentials', audience: 'aud' });
  });
});

describe('#117 actorDepth: nested act levels of a subject token', () => {
  const token = (payload: object) => `e30.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.c2ln`;
  const chain = (levels: number): object | undefined => (levels === 0 ? undefined : { sub: `a${levels}`, act: chain(levels - 1) });

  it.each([0, 1, 4, 5, 7])('counts %i levels', (levels) => {
    expect(actorDepth(token({ sub: 'u', act: chain(levels) }))).toBe(levels);
  });

  it('refuses from 5 levels on: a token exchange accepts at most 4', () => {
    expect(MAX_SUBJECT_ACTORS).toBe(4);
  });

  it('stops counting at 32 levels and reads an opaque token as none', () => {
    expect(actorDepth(token({ act: chain(100) }))).toBe(32);
    expect(actorDepth('opaque')).toBe(0);
  });
});
