import { explainResolutionFailure } from './authority-resolution.js';

const url = 'https://contoso.ciamlogin.com/tid/v2.0/.well-known/openid-configuration';
const known = ['contoso.ciamlogin.com'];

describe('#102 why msal-node could not resolve an authority', () => {
  it.each<[string, Parameters<typeof explainResolutionFailure>[0], string, boolean]>([
    ['an issuer on an untrusted host: the host to add', { url, answer: { status: 200, issuer: 'https://0c0ffee0.ciamlogin.com/tid/v2.0' } }, `its discovery document ${url} names the issuer https://0c0ffee0.ciamlogin.com/tid/v2.0, on host 0c0ffee0.ciamlogin.com, which msal-node does not trust; add "0c0ffee0.ciamlogin.com" to the knownAuthorities option`, false],
    ['a discovery status: the URL and the status', { url, answer: { status: 404 } }, `the discovery document ${url} answered 404`, false],
    ['a 503 from discovery: transient', { url, answer: { status: 503 } }, `the discovery document ${url} answered 503`, true],
    ['an unreachable discovery: transient', { url, answer: { failure: 'network' } }, `the discovery document ${url} could not be read (network)`, true],
    ['no issuer', { url, answer: { status: 200 } }, `the discovery document ${url} names no issuer`, false],
    ['nothing fetched', undefined, 'endpoints_resolution_error, before any discovery document was fetched', false],
  ])('explains %s', (_name, seen, reason, transient) => {
    expect(explainResolutionFailure(seen, known, 'endpoints_resolution_error')).toEqual({ reason, transient });
  });
});
