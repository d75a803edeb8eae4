// jest 30 cannot `require` an ES module on Node 20 (jose 6 is ESM-only), but jwks-rsa (CommonJS)
// requires jose. Node itself loads it fine (require(esm) since 20.19); only jest's module runtime
// does not. For jwks-rsa's `require('jose')` inside jest we hand it a CommonJS bridge with the
// two jose functions it calls, implemented with node:crypto. Every other import of jose is real.
const path = require('node:path');

module.exports = (request, options) => {
  if (request === 'jose' && options.basedir.includes(`${path.sep}jwks-rsa${path.sep}`)) {
    return path.join(__dirname, 'jose-cjs-bridge.cjs');
  }
  return options.defaultResolver(request, options);
};
