import { OboError } from '../../errors/obo.error.js';
import { ACCESS_TOKEN_TYPE } from '../../options/resolve-outbound-options.js';
import { IssuedTokenRefused } from './issued-token-check.js';
import { checkTokenAnswer, CLIENT_CREDENTIALS_TYPES, type IssuedTypeRule } from './rfc8693-answer.js';

const now = 1_800_000_000_000;
const exchangeTypes: IssuedTypeRule = { accepted: new Set([ACCESS_TOKEN_TYPE]), required: true };
const request = { scopes: ['orders:read'], tenantId: 'https://issuer.example/', audience: 'https://orders.example' };

/** An unsigned JWT with these claims (the answer check decodes only: the token is not for us). */
function jwt(claims: Record<string, unknown>): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256', typ: 'at+jwt' })}.${part(claims)}.c2ln`;
}

function answer(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { access_token: 'opaque-token', token_type: 'Bearer', issued_token_type: ACCESS_TOKEN_TYPE, expires_in: 3600, ...overrides };
}

function refusal(body: Record<string, unknown>, types = exchangeTypes): OboError | undefined {
  try {
    checkTokenAnswer(body, request, types, now, now);
    return undefined;
  } catch (error) {
    return error as OboError;
  }
}

describe('#119 checkTokenAnswer: RFC 8693 response checks', () => {
  it('accepts a Bearer access token and keeps it until request start + expires_in', () => {
    expect(checkTokenAnswer(answer(), request, exchangeTypes, now - 2_000, now)).toEqual({ accessToken: 'opaque-token', expiresOn: now - 2_000 + 3_600_000, scopes: ['orders:read'] });
  });

  it.each(['Bearer', 'bearer', 'BEARER'])('compares token_type %s case-insensitively', (tokenType) => {
    expect(refusal(answer({ token_type: tokenType }))).toBeUndefined();
  });

  it.each([['DPoP'], ['N_A'], ['mac'], [undefined], [42]])('refuses token_type %p', (tokenType) => {
    const error = refusal(answer({ token_type: tokenType }));
    expect(error?.code).toBe('ERR_OBO_PROVIDER_BAD_RESPONSE');
    expect(error?.message).toMatch(/token_type/);
  });

  it.each([[''], [undefined], [17]])('refuses an access_token of %p', (token) => {
    expect(refusal(answer({ access_token: token }))?.code).toBe('ERR_OBO_PROVIDER_BAD_RESPONSE');
  });

  it('refuses an issued_token_type other than the access-token type, and a missing one where it is required', () => {
    expect(refusal(answer({ issued_token_type: 'urn:ietf:params:oauth:token-type:id_token' }))?.message).toMatch(/issued_token_type/);
    expect(refusal(answer({ issued_token_type: undefined }))?.message).toMatch(/issued_token_type missing/);
    expect(refusal(answer({ issued_token_type: undefined }), { accepted: exchangeTypes.accepted, required: false })).toBeUndefined();
  });

  it('takes a client-credentials answer without issued_token_type, but not one naming another type', () => {
    expect(refusal(answer({ issued_token_type: undefined }), CLIENT_CREDENTIALS_TYPES)).toBeUndefined();
    expect(refusal(answer({ issued_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' }), CLIENT_CREDENTIALS_TYPES)?.code).toBe('ERR_OBO_PROVIDER_BAD_RESPONSE');
  });

  it.each([[3600], ['3600'], [1], [48 * 3600]])('accepts expires_in %p', (expiresIn) => {
    expect(refusal(answer({ expires_in: expiresIn }))).toBeUndefined();
  });

  it.each([[0], [-5], [1.5], ['1e3'], [' 3600'], ['3600s'], [48 * 3600 + 1], [undefined], [null]])('refuses expires_in %p', (expiresIn) => {
    expect(refusal(answer({ expires_in: expiresIn }))?.message).toMatch(/expires_in/);
  });

  it('caps the lifetime at a JWT’s own exp', () => {
    const exp = Math.floor(now / 1000) + 600;
    const token = checkTokenAnswer(answer({ access_token: jwt({ aud: request.audience, exp }) }), request, exchangeTypes, now, now);
    expect(token.expiresOn).toBe(exp * 1000);
  });

  it('refuses a JWT whose aud does not name the requested audience or resource, and one already expired', () => {
    expect(refusal(answer({ access_token: jwt({ aud: 'https://elsewhere.example' }) }))).toBeInstanceOf(IssuedTokenRefused);
    expect(refusal(answer({ access_token: jwt({ aud: ['https://elsewhere.example', request.audience] }) }))).toBeUndefined();
    expect(refusal(answer({ access_token: jwt({ aud: request.audience, exp: Math.floor(now / 1000) - 1 }) }))).toBeInstanceOf(IssuedTokenRefused);
  });

  it('takes a JWT issued for the requested resource when audience and resource were both asked', () => {
    const both = { ...request, resource: 'https://orders.example/v2' };
    expect(() => checkTokenAnswer(answer({ access_token: jwt({ aud: 'https://orders.example/v2' }) }), both, exchangeTypes, now, now)).not.toThrow();
  });

  it('keeps the scopes the authority granted when it names them', () => {
    expect(checkTokenAnswer(answer({ scope: 'orders:read  audit' }), request, exchangeTypes, now, now).scopes).toEqual(['orders:read', 'audit']);
  });
});
