import { parseDemoArgs } from './demo-options.js';

describe('parseDemoArgs (the demo command line)', () => {
  it('plays Entra ID and keeps serving when given nothing', () => {
    expect(parseDemoArgs([])).toEqual({ provider: 'entra', once: false });
  });

  it('reads --provider <name>, --provider=<name> and --once in any order', () => {
    expect(parseDemoArgs(['--provider', 'auth0', '--once'])).toEqual({ provider: 'auth0', once: true });
    expect(parseDemoArgs(['--once', '--provider=auth0'])).toEqual({ provider: 'auth0', once: true });
    expect(parseDemoArgs(['--provider', 'entra'])).toEqual({ provider: 'entra', once: false });
  });

  it('refuses an unknown provider, naming the known ones', () => {
    expect(() => parseDemoArgs(['--provider', 'okta'])).toThrow('Unknown provider "okta": --provider must be one of entra, auth0.');
    expect(() => parseDemoArgs(['--provider=Auth0'])).toThrow('Unknown provider "Auth0"');
    expect(() => parseDemoArgs(['--provider', 'toString'])).toThrow('Unknown provider "toString"');
  });

  it('refuses --provider without a name', () => {
    expect(() => parseDemoArgs(['--provider'])).toThrow('--provider needs a name: one of entra, auth0.');
    expect(() => parseDemoArgs(['--provider', '--once'])).toThrow('--provider needs a name');
    expect(() => parseDemoArgs(['--provider='])).toThrow('--provider needs a name');
  });

  it('refuses an argument it does not know rather than playing the default provider', () => {
    expect(() => parseDemoArgs(['--provder', 'auth0'])).toThrow('Unknown argument "--provder". Usage: npm start -- [--provider entra|auth0] [--once]');
  });
});
