// CommonJS stand-in for the two jose functions jwks-rsa uses (see jest-resolver.cjs): import a
// public JWK, export it as SPKI PEM. Same results as jose's, through node:crypto.
const { createPublicKey } = require('node:crypto');

module.exports = {
  async importJWK(jwk) {
    return createPublicKey({ key: jwk, format: 'jwk' });
  },
  async exportSPKI(key) {
    return key.export({ format: 'pem', type: 'spki' });
  },
};
