import { importPKCS8 } from 'jose';
import { ClientSecretBasic, ClientSecretPost, PrivateKeyJwt, type ClientAuth } from 'openid-client';
import { OboConfigurationError } from '../../errors/obo.error.js';
import { JWT_CLIENT_ASSERTION_TYPE } from '../../outbound/token-acquisition/token-endpoint-auth.js';

/** How the web app authenticates at the token endpoint (RFC 6749 §2.3, RFC 7523 §2.2). */
export type WebAppClientAuthenticationMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';

/** The web app's client credential: exactly one of them. */
export interface WebAppClientCredential {
  /** The client secret (`client_secret_basic` by default, or `client_secret_post`). */
  readonly clientSecret?: string;
  /** A PEM (PKCS#8) private key whose public key the authority knows: `private_key_jwt`, assertions signed by openid-client. */
  readonly clientPrivateKey?: { readonly privateKey: string; readonly algorithm?: 'RS256' | 'PS256' | 'ES256'; readonly keyId?: string };
  /** A client assertion from elsewhere (workload identity, a federated token file): `private_key_jwt`, called for each request. */
  readonly clientAssertion?: () => Promise<string>;
  /** Default: `client_secret_basic` with a secret, `private_key_jwt` with a key or an assertion. */
  readonly clientAuthentication?: WebAppClientAuthenticationMethod;
}

/**
 * openid-client's client authentication for `credential`. Secrets, keys and assertions never reach
 * a log or an error message.
 * @throws {OboConfigurationError} when not exactly one credential is given, or the method does not fit it
 */
export async function clientAuthOf(credential: WebAppClientCredential): Promise<ClientAuth> {
  const { clientSecret, clientPrivateKey, clientAssertion, clientAuthentication } = credential;
  const given = [clientSecret, clientPrivateKey, clientAssertion].filter((value) => value !== undefined).length;
  if (given !== 1) throw new OboConfigurationError('clientSecret', 'must be given, or clientPrivateKey / clientAssertion instead: exactly one client credential for the web app.');
  if (clientSecret !== undefined) {
    if (typeof clientSecret !== 'string' || clientSecret.length === 0) throw new OboConfigurationError('clientSecret', 'must be a non-empty string.');
    if (clientAuthentication === 'client_secret_post') return ClientSecretPost(clientSecret);
    if (clientAuthentication === undefined || clientAuthentication === 'client_secret_basic') return ClientSecretBasic(clientSecret);
  } else if (clientAuthentication === undefined || clientAuthentication === 'private_key_jwt') {
    if (clientAssertion !== undefined) return assertionAuth(clientAssertion);
    const algorithm = clientPrivateKey!.algorithm ?? 'RS256';
    let key: Awaited<ReturnType<typeof importPKCS8>>;
    try {
      key = await importPKCS8(clientPrivateKey!.privateKey, algorithm);
    } catch (error) {
      throw new OboConfigurationError('clientPrivateKey.privateKey', `must be a PKCS#8 PEM private key fit for ${algorithm} (${error instanceof Error ? error.name : 'unreadable'}).`);
    }
    return PrivateKeyJwt({ key, ...(clientPrivateKey!.keyId === undefined ? {} : { kid: clientPrivateKey!.keyId }) });
  }
  throw new OboConfigurationError('clientAuthentication', `"${String(clientAuthentication)}" does not fit the credential given: client_secret_basic / client_secret_post with clientSecret, private_key_jwt with clientPrivateKey or clientAssertion.`);
}

/** `private_key_jwt` with an assertion made elsewhere (RFC 7523 §2.2), fetched for each request. */
function assertionAuth(assertion: () => Promise<string>): ClientAuth {
  const auth = async (_as: unknown, client: { client_id: string }, body: URLSearchParams): Promise<void> => {
    body.set('client_id', client.client_id);
    body.set('client_assertion_type', JWT_CLIENT_ASSERTION_TYPE);
    body.set('client_assertion', await assertion());
  };
  // openid-client awaits the authentication (oauth4webapi's ClientAuth may return a promise); its own type says void.
  return auth as unknown as ClientAuth;
}
