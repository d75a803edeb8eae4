import { createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import type { SigningKey } from './signing-key.store.js';

/** A published key that is not used, and why (one warning per key per refresh). */
export interface UnusableKey {
  /** The key's `kid`, quoted and shortened for a log line, or `(no kid)`. */
  readonly kid: string;
  readonly reason: string;
}

/** The usable signing keys of one JWKS document, by `kid`, and every key left out. */
export interface ParsedKeySet {
  readonly keys: Map<string, SigningKey>;
  readonly unusable: UnusableKey[];
}

const FAMILY: Record<string, (kty: unknown) => boolean> = {
  RS: (kty) => kty === 'RSA',
  PS: (kty) => kty === 'RSA',
  ES: (kty) => kty === 'EC',
  Ed: (kty) => kty === 'OKP',
};
/** The `asymmetricKeyType`s a `kty` may hold. */
const KEY_TYPES: Record<string, readonly string[]> = { RSA: ['rsa'], EC: ['ec'], OKP: ['ed25519', 'ed448'] };
const MIN_RSA_BITS = 2048;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

class Unusable extends Error {}

function refuse(reason: string): never {
  throw new Unusable(reason);
}

/** The key in `n`/`e` (RSA) or `crv`/`x`/`y` (EC, OKP), if the JWK has any. */
function keyFromMembers(k: Record<string, unknown>): KeyObject | undefined {
  if (k.n === undefined && k.e === undefined && k.x === undefined && k.y === undefined) return undefined;
  try {
    return createPublicKey({ key: { kty: k.kty, n: k.n, e: k.e, crv: k.crv, x: k.x, y: k.y } as never, format: 'jwk' });
  } catch {
    return refuse('malformed key material (n/e or crv/x/y)');
  }
}

/**
 * The public key of the FIRST certificate in `x5c`, as Microsoft.IdentityModel takes it. No chain
 * is fetched, built or trusted and no validity dates are checked: the JWKS itself, fetched over TLS
 * from the configured authority, is what vouches for the key; the certificate only carries it.
 */
function keyFromCertificate(x5c: unknown): KeyObject | undefined {
  if (x5c === undefined) return undefined;
  const first: unknown = Array.isArray(x5c) ? x5c[0] : undefined;
  if (typeof first !== 'string' || !BASE64.test(first)) refuse('x5c is not a list of base64 DER certificates');
  try {
    return new X509Certificate(Buffer.from(first, 'base64')).publicKey;
  } catch {
    return refuse('x5c[0] is not an X.509 certificate');
  }
}

function checkAlgorithms(k: Record<string, unknown>, algorithms: readonly string[]): void {
  if (k.alg !== undefined && (typeof k.alg !== 'string' || !algorithms.includes(k.alg))) {
    refuse(`alg ${JSON.stringify(String(k.alg).slice(0, 20))} is not in the accepted algorithms (${algorithms.join(', ')})`);
  }
  if (!algorithms.some((alg) => FAMILY[alg.slice(0, 2)]?.(k.kty))) {
    refuse(`kty ${JSON.stringify(String(k.kty).slice(0, 20))} fits none of the accepted algorithms (${algorithms.join(', ')})`);
  }
}

/** The key of one JWK. @throws {Unusable} with the reason it cannot be used. */
function toSigningKey(k: Record<string, unknown>, kid: string, algorithms: readonly string[]): SigningKey {
  if (k.use !== undefined && k.use !== 'sig') refuse(`use is ${JSON.stringify(String(k.use).slice(0, 20))}, not "sig"`);
  checkAlgorithms(k, algorithms);
  const fromMembers = keyFromMembers(k);
  const fromCertificate = keyFromCertificate(k.x5c);
  if (fromMembers && fromCertificate && !fromMembers.equals(fromCertificate)) refuse('n/e and the public key of its x5c certificate differ');
  const key = fromMembers ?? fromCertificate ?? refuse('no key material (neither n/e, crv/x/y nor x5c)');
  if (!KEY_TYPES[k.kty as string]?.includes(key.asymmetricKeyType ?? '')) refuse(`its key is ${key.asymmetricKeyType ?? 'of no known type'}, not kty ${String(k.kty)}`);
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (key.asymmetricKeyType === 'rsa' && bits < MIN_RSA_BITS) refuse(`RSA modulus of ${bits} bits is under ${MIN_RSA_BITS}`);
  return { kid, key, alg: k.alg as string | undefined, issuer: typeof k.issuer === 'string' ? k.issuer : undefined };
}

/** A `kid` as it may appear in a log line: quoted (no line breaks survive) and at most 80 characters. */
function logKid(kid: unknown): string {
  return typeof kid === 'string' && kid.length > 0 ? JSON.stringify(kid.slice(0, 80)) : '(no kid)';
}

/**
 * Reads a JWKS `keys` array into the usable signing keys by `kid`. Every key left out is listed
 * with its reason (bad material, a short RSA modulus, `use` not `sig`, an algorithm not accepted, a
 * certificate that disagrees with `n`/`e`, a repeated `kid`...), so no key is ever skipped silently.
 */
export function parseJwks(raw: unknown, algorithms: readonly string[]): ParsedKeySet {
  const keys = new Map<string, SigningKey>();
  const unusable: UnusableKey[] = [];
  for (const jwk of Array.isArray(raw) ? raw : []) {
    const k = (typeof jwk === 'object' && jwk !== null ? jwk : {}) as Record<string, unknown>;
    try {
      if (typeof k.kid !== 'string' || k.kid.length === 0) refuse('it has no kid');
      if (keys.has(k.kid)) refuse('an earlier key has the same kid (that one is used)');
      keys.set(k.kid, toSigningKey(k, k.kid, algorithms));
    } catch (error) {
      if (!(error instanceof Unusable)) throw error;
      unusable.push({ kid: logKid(k.kid), reason: error.message });
    }
  }
  return { keys, unusable };
}

/**
 * The JWKS URI to fetch: the discovered one, or with `appSpecificKeys` the app-specific key set
 * `?appid=<clientId>` (SAML SSO or claims-mapping apps; Entra publishes their keys only there).
 */
export function jwksUriFor(discovered: string, clientId: string, appSpecificKeys: boolean): string {
  if (!appSpecificKeys) return discovered;
  const url = new URL(discovered);
  url.searchParams.set('appid', clientId);
  return url.href;
}
