import { OboError } from '../../errors/obo.error.js';
import { tokenTarget } from './token-target.js';

function code(run: () => unknown): string {
  try {
    run();
    return 'accepted';
  } catch (error) {
    return (error as OboError).code;
  }
}

describe('#121 tokenTarget: audience and resource of a token request', () => {
  it('on Entra ID refuses either (the scopes name the resource) and passes when neither is given', () => {
    expect(code(() => tokenTarget('m', 'entra', { audience: 'api' }))).toBe('ERR_OBO_CONFIG_INVALID');
    expect(code(() => tokenTarget('m', 'entra', { resource: 'https://api.example' }))).toBe('ERR_OBO_CONFIG_INVALID');
    expect(tokenTarget('m', 'entra', {})).toEqual({});
  });

  it('at another authority keeps a printable audience and an absolute resource URI without fragment', () => {
    expect(tokenTarget('m', 'oidc', { audience: 'orders api', resource: 'https://orders.example/' })).toEqual({ audience: 'orders api', resource: 'https://orders.example/' });
  });

  it.each([
    ['an empty audience', { audience: '' }],
    ['an audience with a line break', { audience: 'a\nb' }],
    ['an audience with surrounding spaces', { audience: ' a' }],
    ['a relative resource', { resource: '/orders' }],
    ['a resource with a fragment', { resource: 'https://orders.example/#x' }],
  ])('refuses %s', (_name, target) => {
    expect(code(() => tokenTarget('m', 'oidc', target))).toBe('ERR_OBO_CONFIG_INVALID');
  });
});
