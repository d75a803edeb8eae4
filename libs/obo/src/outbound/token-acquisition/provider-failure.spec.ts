import { InteractionRequiredAuthError, ServerError } from '@azure/msal-node';
import { ClaimsChallengeError, ProviderUnavailableError, ScopedOboError } from '../../errors/obo.error.js';
import { ProviderCall, toProviderAnswer } from './provider-call.js';
import { classifyProviderFailure } from './provider-failure.js';

const scopes = ['api://downstream/Read'];
const claims = '{"access_token":{"capolids":{"essential":true,"values":["c1"]}}}';

function callAnswering(status: number, body: object, retryAfter: string | null = null): ProviderCall {
  const call = new ProviderCall('c', new AbortController().signal);
  call.lastErrorAnswer = toProviderAnswer(status, body, retryAfter);
  return call;
}

describe('classifyProviderFailure', () => {
  it('keeps the claims challenge of invalid_grant without a suberror, which msal turns into a ServerError without claims (#73)', () => {
    const failure = classifyProviderFailure(callAnswering(400, { error: 'invalid_grant', error_codes: [50076], claims }), new ServerError('invalid_grant', ''), scopes, false);
    expect(failure.error).toBeInstanceOf(ClaimsChallengeError);
    expect((failure.error as ClaimsChallengeError).claims).toBe(claims);
    expect(failure.retryable).toBe(false);
  });

  it.each([
    ['interaction_required with claims', 400, { error: 'interaction_required', claims }, 'ERR_OBO_CLAIMS_CHALLENGE'],
    ['invalid_grant basic_action with claims', 400, { error: 'invalid_grant', suberror: 'basic_action', claims }, 'ERR_OBO_CLAIMS_CHALLENGE'],
    ['consent_required', 400, { error: 'invalid_grant', suberror: 'consent_required', error_codes: [65001] }, 'ERR_OBO_CONSENT_REQUIRED'],
    ['an expired assertion (500133)', 400, { error: 'invalid_grant', error_codes: [500133] }, 'ERR_OBO_ASSERTION_REJECTED'],
    ['a bad assertion signature (50013)', 400, { error: 'invalid_grant', error_codes: [50013] }, 'ERR_OBO_ASSERTION_REJECTED'],
    ['interaction_required without claims', 400, { error: 'interaction_required' }, 'ERR_OBO_ASSERTION_REJECTED'],
    ['invalid_client', 401, { error: 'invalid_client', error_codes: [7000215] }, 'ERR_OBO_CLIENT_CREDENTIALS_INVALID'],
    ['unauthorized_client', 400, { error: 'unauthorized_client' }, 'ERR_OBO_CLIENT_CREDENTIALS_INVALID'],
    ['invalid_scope (#113)', 400, { error: 'invalid_scope', error_codes: [70011] }, 'ERR_OBO_INVALID_SCOPE'],
    ['several resources in one request (AADSTS28000, #113)', 400, { error: 'invalid_request', error_codes: [28000] }, 'ERR_OBO_INVALID_SCOPE'],
    ['client credentials without .default (AADSTS1002012, #113)', 400, { error: 'invalid_scope', error_codes: [1002012] }, 'ERR_OBO_INVALID_SCOPE'],
    ['an unknown error', 400, { error: 'invalid_target' }, 'ERR_OBO_PROVIDER_BAD_RESPONSE'],
  ])('maps %s to %s', (_name, status, body, code) => {
    expect(classifyProviderFailure(callAnswering(status, body), new ServerError('x', ''), scopes, false).error.code).toBe(code);
  });

  it('treats 429 as throttling: retryable, with the provider Retry-After', () => {
    const failure = classifyProviderFailure(callAnswering(429, { error: 'temporarily_unavailable' }, '30'), new ServerError('x', ''), scopes, false);
    expect(failure).toMatchObject({ retryable: true, throttled: true, retryAfterSeconds: 30 });
    expect(failure.error).toBeInstanceOf(ProviderUnavailableError);
  });

  it('treats 5xx as unavailable and retryable, not as throttling', () => {
    const failure = classifyProviderFailure(callAnswering(503, {}), new ServerError('x', ''), scopes, false);
    expect(failure).toMatchObject({ retryable: true, throttled: false });
    expect(failure.error.code).toBe('ERR_OBO_PROVIDER_UNAVAILABLE');
  });

  it('calls an expired deadline a timeout, whatever else happened', () => {
    expect(classifyProviderFailure(callAnswering(503, {}), new Error('aborted'), scopes, true).error.code).toBe('ERR_OBO_PROVIDER_TIMEOUT');
  });

  it('uses msal InteractionRequiredAuthError claims when no raw answer was seen', () => {
    const call = new ProviderCall('c', new AbortController().signal);
    const failure = classifyProviderFailure(call, new InteractionRequiredAuthError('interaction_required', '', '', '', '', '', claims), scopes, false);
    expect(failure.error).toBeInstanceOf(ClaimsChallengeError);
  });

  it('names the downstream scopes when consent is required', () => {
    const failure = classifyProviderFailure(callAnswering(400, { error: 'consent_required' }), new ServerError('x', ''), scopes, false);
    expect((failure.error as ScopedOboError).scopes).toEqual(scopes);
  });
});
