import { SignInFailedError } from '../errors/sign-in-failed.error.js';
import type { PendingAuthorization, SignedInAccount } from './sign-in-client.js';
import { checkAuthTime, stepUpParameters } from './step-up-parameters.js';

const pending = (extra: Partial<PendingAuthorization>): PendingAuthorization => ({ state: 's', nonce: 'n', codeVerifier: 'v', scopes: [], returnUrl: '/', createdAt: 0, ...extra });
const account = (authTime?: number): SignedInAccount => ({ accountKey: 'k', ...(authTime === undefined ? {} : { authTime }) }) as SignedInAccount;
const NOW = 1_800_000_000;

describe('#140 step-up parameters of an authorization request and the ID token check after it', () => {
  it('sends acr_values and max_age only when a challenge asked for them', () => {
    expect(stepUpParameters(pending({}))).toEqual({});
    expect(stepUpParameters(pending({ acrValues: 'urn:a phr', maxAge: 0 }))).toEqual({ acr_values: 'urn:a phr', max_age: '0' });
  });

  it('accepts an auth_time within max_age (60 s tolerance) and refuses one that is missing, too old or in the future', () => {
    expect(() => checkAuthTime(account(), pending({}), NOW)).not.toThrow(); // no max_age sent: nothing to check
    expect(() => checkAuthTime(account(NOW - 300), pending({ maxAge: 300 }), NOW)).not.toThrow();
    expect(() => checkAuthTime(account(NOW - 60), pending({ maxAge: 0 }), NOW)).not.toThrow();
    for (const authTime of [undefined, NOW - 361, NOW + 61]) {
      expect(() => checkAuthTime(account(authTime), pending({ maxAge: 300 }), NOW)).toThrow(SignInFailedError);
    }
  });
});
