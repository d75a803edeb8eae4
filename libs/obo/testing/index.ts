export { LocalAuthority } from './local-authority.js';
export type { EndpointFault, LocalAuthorityOptions, RequestCounters } from './local-authority.js';
export type { MintOptions } from './mint-options.js';
export { generateAuthorityKey } from './authority-keys.js';
export type { AuthorityKey } from './authority-keys.js';
export { signCompact } from './sign-jwt.js';
export { ensureDevCertificate, certificateFromEnvironment } from './dev-certificate.js';
export type { DevCertificate } from './dev-certificate.js';
export { assertLoopback } from './loopback.js';
