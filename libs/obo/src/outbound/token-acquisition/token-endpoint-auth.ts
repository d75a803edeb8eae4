import { createPrivateKey, randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { OboError } from '../../errors/obo.error.js';
import type { ClientAuthenticationMethod, ResolvedCredential } from '../../options/resolve-outbound-options.js';
import { ClientAssertionSource } from './client-assertion-source.js';

/** RFC 7523 §2.2: `client_assertion_type` of a JWT client assertion. */
export const JWT_CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Lifetime of the client assertions we sign, in seconds: one request's worth. */
export const CLIENT_ASSERTION_LIFETIME_SECONDS = 60;

/** RFC 6749 Appendix B: a value encoded as `application/x-www-form-urlencoded` (what §2.3.1 asks of the id and secret before base64). */
export function formEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}

/**
 * How this API authenticates at a generic authority's token endpoint (RFC 6749 §2.3):
 * - `client_secret_basic`: `Authorization: Basic base64(form(client_id) ":" form(client_secret))` (§2.3.1);
 * - `client_secret_post`: `client_id` and `client_secret` in the body;
 * - `private_key_jwt` (RFC 7523 §2.2): `client_id`, `client_assertion_type` and a `client_assertion`,
 *   either signed here with `clientPrivateKey` (`iss` = `sub` = client id, `aud` = the token endpoint,
 *   `exp` a minute away, a unique `jti`) or taken from `clientAssertion` (a callback or a federated
 *   token file).
 * Secrets, keys and assertions never reach a log or an error message.
 */
export class TokenEndpointAuth {
  private readonly assertions?: ClientAssertionSource;
  private signingKey?: KeyObject;

  constructor(
    private readonly clientId: string,
    private readonly method: ClientAuthenticationMethod,
    private readonly credential: ResolvedCredential,
  ) {
    if (credential.kind === 'assertion') this.assertions = new ClientAssertionSource(credential);
  }

  /**
   * Adds this API's authentication to a token request for `tokenEndpoint`.
   * @throws {OboError} `ERR_OBO_CLIENT_CREDENTIALS_INVALID` when no assertion can be had or the key cannot sign.
   */
  async apply(form: URLSearchParams, headers: Record<string, string>, tokenEndpoint: string): Promise<void> {
    const credential = this.credential;
    switch (this.method) {
      case 'client_secret_basic':
        if (credential.kind !== 'secret') break;
        headers.authorization = `Basic ${Buffer.from(`${formEncode(this.clientId)}:${formEncode(credential.clientSecret)}`).toString('base64')}`;
        return;
      case 'client_secret_post':
        if (credential.kind !== 'secret') break;
        form.set('client_id', this.clientId);
        form.set('client_secret', credential.clientSecret);
        return;
      case 'private_key_jwt':
        if (credential.kind !== 'private-key' && credential.kind !== 'assertion') break;
        form.set('client_id', this.clientId);
        form.set('client_assertion_type', JWT_CLIENT_ASSERTION_TYPE);
        form.set('client_assertion', credential.kind === 'assertion' ? await this.assertions!.get() : await this.sign(credential.privateKey, tokenEndpoint));
        return;
    }
    // Option resolution pairs methods and credentials; this is a guard for direct construction.
    throw new OboError('ERR_OBO_CONFIG_INVALID', `clientAuthentication "${this.method}" does not fit the configured ${credential.kind} credential.`);
  }

  /** The authority refused our credentials: the next request reads a fresh client assertion. */
  discardAssertion(): void {
    this.assertions?.discard();
  }

  private async sign(key: { privateKey: string; algorithm: string; keyId?: string }, tokenEndpoint: string): Promise<string> {
    try {
      this.signingKey ??= createPrivateKey(key.privateKey);
      return await new SignJWT({})
        .setProtectedHeader({ alg: key.algorithm, typ: 'JWT', ...(key.keyId === undefined ? {} : { kid: key.keyId }) })
        .setIssuer(this.clientId)
        .setSubject(this.clientId)
        .setAudience(tokenEndpoint)
        .setJti(randomUUID())
        .setIssuedAt()
        .setExpirationTime(`${CLIENT_ASSERTION_LIFETIME_SECONDS}s`)
        .sign(this.signingKey);
    } catch (error) {
      throw new OboError('ERR_OBO_CLIENT_CREDENTIALS_INVALID', `clientPrivateKey cannot sign a ${key.algorithm} client assertion (${error instanceof Error ? error.name : 'error'}); check that the key fits the algorithm.`, { cause: error });
    }
  }
}
