import { readDownstreamChallenge } from './downstream-challenge.js';

const claims = '{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}';
const b64 = Buffer.from(claims).toString('base64');

describe('readDownstreamChallenge', () => {
  it('reads a Microsoft CAE challenge and returns the claims JSON exactly', () => {
    const header = `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="insufficient_claims", claims="${b64}"`;
    expect(readDownstreamChallenge(header)).toEqual({ kind: 'claims', claims });
  });

  it.each([null, '', 'Bearer', 'Bearer error="invalid_token"', 'Bearer realm="api", error="invalid_token", error_description="expired"'])(
    'calls %j a plain refusal',
    (header) => {
      expect(readDownstreamChallenge(header)).toEqual({ kind: 'plain' });
    },
  );

  it.each([
    ['claims that are not base64', 'Bearer error="insufficient_claims", claims="not base64!"'],
    ['claims that decode to something other than JSON', `Bearer error="insufficient_claims", claims="${Buffer.from('hello').toString('base64')}"`],
    ['claims that decode to a JSON array', `Bearer error="insufficient_claims", claims="${Buffer.from('[1]').toString('base64')}"`],
    ['claims over 4 KB', `Bearer error="insufficient_claims", claims="${Buffer.from(JSON.stringify({ a: 'x'.repeat(5000) })).toString('base64')}"`],
    ['two claims parameters', `Bearer error="insufficient_claims", claims="${b64}", claims="${b64}"`],
    ['no claims parameter', 'Bearer error="insufficient_claims"'],
    ['claims with a quote and CR/LF inside', `Bearer error="insufficient_claims", claims="${b64}\\"\r\nX: 1"`],
    ['a header over 8 KB', `Bearer error="insufficient_claims", claims="${b64}", x="${'a'.repeat(9000)}"`],
  ])('calls a challenge with %s hostile', (_case, header) => {
    expect(readDownstreamChallenge(header)).toEqual({ kind: 'hostile' });
  });
});

describe('RFC 9470 step-up challenges from a downstream API', () => {
  it('reads error="insufficient_user_authentication" with its acr_values and max_age', () => {
    expect(readDownstreamChallenge('Bearer error="insufficient_user_authentication", error_description="more", acr_values="urn:mfa phr", max_age="300"')).toEqual({
      kind: 'step-up',
      acrValues: 'urn:mfa phr',
      maxAge: 300,
    });
    expect(readDownstreamChallenge('Bearer error="insufficient_user_authentication", max_age=60')).toEqual({ kind: 'step-up', acrValues: undefined, maxAge: 60 });
  });

  it('drops malformed parameters instead of reflecting them, and calls repeated parameters hostile', () => {
    expect(readDownstreamChallenge('Bearer error="insufficient_user_authentication", acr_values="a\\"b", max_age="-1"')).toEqual({ kind: 'step-up', acrValues: undefined, maxAge: undefined });
    expect(readDownstreamChallenge('Bearer error="insufficient_user_authentication", acr_values="a", acr_values="b"')).toEqual({ kind: 'hostile' });
    expect(readDownstreamChallenge('Bearer error="insufficient_user_authentication", error="insufficient_claims"')).toEqual({ kind: 'hostile' });
  });
});
