import { ProviderUnavailableError, ScopedOboError, StepUpRequiredError } from '../../errors/obo.error.js';
import { classifyTokenEndpointError } from './rfc8693-failure.js';

const request = { scopes: ['orders:read'], tenantId: 'https://issuer.example/', audience: 'https://orders.example' };

function classify(status: number, body: Record<string, unknown>, kind: 'exchange' | 'app' = 'exchange', retryAfterSeconds?: number) {
  return classifyTokenEndpointError({ status, body, retryAfterSeconds }, request, kind);
}

describe('#120 classifyTokenEndpointError: RFC 8693 errors mapped', () => {
  it.each([
    ['invalid_grant', 400, { error: 'invalid_grant' }, 'ERR_OBO_ASSERTION_REJECTED'],
    ['invalid_request "Invalid token" (Keycloak)', 400, { error: 'invalid_request', error_description: 'Invalid token' }, 'ERR_OBO_ASSERTION_REJECTED'],
    ['invalid_request about the subject_token', 400, { error: 'invalid_request', error_description: 'subject_token is expired' }, 'ERR_OBO_ASSERTION_REJECTED'],
    ['invalid_request: delegation chain too deep (Auth0)', 400, { error: 'invalid_request', error_description: 'Delegation chain (`act` claim) depth exceeds limit of 5' }, 'ERR_OBO_ASSERTION_REJECTED'],
    ['invalid_request about our subject_token_type', 400, { error: 'invalid_request', error_description: 'Invalid subject token type' }, 'ERR_OBO_CONFIG_INVALID'],
    ['invalid_request about the requested audience', 400, { error: 'invalid_request', error_description: 'Requested audience not available: x' }, 'ERR_OBO_CONFIG_INVALID'],
    ['invalid_request without a description', 400, { error: 'invalid_request' }, 'ERR_OBO_CONFIG_INVALID'],
    ['invalid_target', 400, { error: 'invalid_target' }, 'ERR_OBO_INVALID_SCOPE'],
    ['invalid_scope', 400, { error: 'invalid_scope' }, 'ERR_OBO_INVALID_SCOPE'],
    ['unauthorized_client', 400, { error: 'unauthorized_client' }, 'ERR_OBO_CLIENT_CREDENTIALS_INVALID'],
    ['invalid_client', 401, { error: 'invalid_client' }, 'ERR_OBO_CLIENT_CREDENTIALS_INVALID'],
    ['unsupported_grant_type', 400, { error: 'unsupported_grant_type' }, 'ERR_OBO_CONFIG_INVALID'],
    ['consent_required', 400, { error: 'consent_required' }, 'ERR_OBO_CONSENT_REQUIRED'],
    ['access_denied', 403, { error: 'access_denied' }, 'ERR_OBO_CONSENT_REQUIRED'],
    ['an unknown code', 400, { error: 'server_is_confused' }, 'ERR_OBO_PROVIDER_BAD_RESPONSE'],
    ['no code at all', 401, {}, 'ERR_OBO_PROVIDER_BAD_RESPONSE'],
  ])('%s (%i) -> %s, not retried', (_name, status, body, code) => {
    const failure = classify(status, body);
    expect(failure.error.code).toBe(code);
    expect(failure.retryable).toBe(false);
  });

  it('consent and access denial name the scopes for the 403 challenge', () => {
    const failure = classify(403, { error: 'access_denied' });
    expect(failure.error).toBeInstanceOf(ScopedOboError);
    expect((failure.error as ScopedOboError).scopes).toEqual(['orders:read']);
  });

  it('429 closes the gate for its Retry-After and may be retried; 5xx may be retried once', () => {
    const throttled = classify(429, {}, 'exchange', 12);
    expect(throttled).toMatchObject({ retryable: true, throttled: true, retryAfterSeconds: 12 });
    expect(throttled.error).toBeInstanceOf(ProviderUnavailableError);
    const failing = classify(503, { error: 'temporarily_unavailable' });
    expect(failing).toMatchObject({ retryable: true, throttled: false, retryAfterSeconds: 5 });
    expect(failing.error.code).toBe('ERR_OBO_PROVIDER_UNAVAILABLE');
  });

  it('insufficient_user_authentication carries acr_values and max_age (a digit string too)', () => {
    const error = classify(401, { error: 'insufficient_user_authentication', acr_values: 'urn:mfa phr', max_age: '300' }).error;
    expect(error).toBeInstanceOf(StepUpRequiredError);
    expect(error).toMatchObject({ code: 'ERR_OBO_STEP_UP_REQUIRED', acrValues: 'urn:mfa phr', maxAge: 300 });
  });

  it('insufficient_user_authentication drops acr_values and max_age that are not well formed instead of relaying them', () => {
    const error = classify(401, { error: 'insufficient_user_authentication', acr_values: 'a"b\r\nX: 1', max_age: -3 }).error as StepUpRequiredError;
    expect(error.acrValues).toBeUndefined();
    expect(error.maxAge).toBeUndefined();
  });

  it('for client credentials, invalid_grant and access_denied are about this API, not a user (500)', () => {
    expect(classify(400, { error: 'invalid_grant' }, 'app').error.code).toBe('ERR_OBO_CLIENT_CREDENTIALS_INVALID');
    expect(classify(403, { error: 'access_denied' }, 'app').error.code).toBe('ERR_OBO_CLIENT_CREDENTIALS_INVALID');
  });

  it('never puts the provider’s text in the error unescaped: control characters are replaced', () => {
    const { message } = classify(400, { error: 'invalid_client', error_description: 'bad\r\nInjected: yes' }).error;
    expect(message).not.toMatch(/[\r\n]/);
  });
});
