import { formatBearerChallenge } from './www-authenticate.js';

describe('formatBearerChallenge', () => {
  it('is a bare "Bearer" when no parameter is set (RFC 6750 §3.1, no credentials)', () => {
    expect(formatBearerChallenge({})).toBe('Bearer');
  });

  it('writes realm, error, error_description and scope as quoted strings in that order', () => {
    expect(formatBearerChallenge({ realm: 'api', error: 'insufficient_scope', errorDescription: 'no', scope: 'a b' })).toBe(
      'Bearer realm="api", error="insufficient_scope", error_description="no", scope="a b"',
    );
  });

  it('cannot be broken out of: quotes, backslashes, CR/LF and non-ASCII become "_"', () => {
    const value = formatBearerChallenge({ scope: 'a"b\\c\r\nX-Injected: 1\u00e9' });
    expect(value).toBe('Bearer scope="a_b_c__X-Injected: 1_"');
  });

  it('writes the RFC 9470 step-up parameters acr_values and max_age after the error (#120)', () => {
    expect(formatBearerChallenge({ error: 'insufficient_user_authentication', acrValues: 'urn:mfa phr', maxAge: 0 })).toBe('Bearer error="insufficient_user_authentication", acr_values="urn:mfa phr", max_age="0"');
  });
});
