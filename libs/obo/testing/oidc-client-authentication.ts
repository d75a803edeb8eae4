import { createPublicKey, KeyObject } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { errors, jwtVerify } from 'jose';
import type { ClientAssertionReplay } from './client-assertion-replay.js';
import { JWT_BEARER_ASSERTION_TYPE, sameText } from './client-authentication.js';
import { basicCredentials, peekClaims } from './form-body.js';
import { oauthError } from './oidc-errors.js';
import type { OidcClientRegistration, OidcRegistry } from './oidc-registrations.js';
import type { TokenEndpointError } from './token-errors.js';

/** The client authentication methods of the generic authority's token endpoint. */
export type OidcClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';

/** Every method, in the order the metadata lists them. */
export const OIDC_CLIENT_AUTH_METHODS: readonly OidcClientAuthMethod[] = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'];

/** Skew allowed on a client assertion's `iat` and `nbf`, in seconds; `exp` must still be in the future. */
const CLOCK_SKEW_SECONDS = 60;

/** What client authentication needs from the authority. */
export interface OidcClientAuthContext {
  readonly registry: OidcRegistry;
  /** The token endpoint URL and the issuer: the two `aud` values a client assertion may carry. */
  readonly tokenEndpoint: string;
  readonly issuer: string;
  /** Methods the endpoint accepts (the metadata's `token_endpoint_auth_methods_supported`). */
  readonly methods: readonly OidcClientAuthMethod[];
  /** Client-assertion `jti` values already used. */
  readonly replay: ClientAssertionReplay;
}

/** A client the token endpoint has authenticated. */
export interface OidcAuthenticatedClient {
  readonly client: OidcClientRegistration;
  readonly method: OidcClientAuthMethod;
}

/**
 * Authenticates the caller of a token request by exactly one method: HTTP Basic (RFC 6749 §2.3.1),
 * `client_secret` in the body, or a `client_assertion` (RFC 7523 §2.2, §3: `iss` = `sub` = the client,
 * `aud` the token endpoint or the issuer, a future `exp`, a `jti` not used before, signed by the
 * client's registered key). Failures are 401 `invalid_client`; two methods at once, 400 `invalid_request`.
 */
export async function authenticateOidcClient(
  req: IncomingMessage,
  form: Readonly<Record<string, string>>,
  context: OidcClientAuthContext,
): Promise<OidcAuthenticatedClient> {
  const basic = basicCredentials(req);
  const used = [basic !== undefined, form.client_secret !== undefined, form.client_assertion !== undefined].filter(Boolean).length;
  if (used > 1) throw oauthError(400, 'invalid_request', 'The client used more than one authentication method.');
  const assertionSubject = form.client_assertion === undefined ? undefined : peekClaims(form.client_assertion)?.sub;
  const clientId = basic?.clientId ?? form.client_id ?? (typeof assertionSubject === 'string' ? assertionSubject : undefined);
  if (clientId === undefined) throw oauthError(401, 'invalid_client', 'Client authentication is required.');
  if (form.client_id !== undefined && form.client_id !== clientId) throw invalidClient('client_id does not match the client authentication.');
  const client = context.registry.client(clientId);
  if (!client) throw invalidClient('Unknown client.');
  if (basic) return secretClient(client, basic.clientSecret, 'client_secret_basic', context);
  if (form.client_secret !== undefined) return secretClient(client, form.client_secret, 'client_secret_post', context);
  if (form.client_assertion !== undefined) {
    allowed('private_key_jwt', context);
    if (form.client_assertion_type !== JWT_BEARER_ASSERTION_TYPE) throw invalidClient(`client_assertion_type must be '${JWT_BEARER_ASSERTION_TYPE}'.`);
    await verifyAssertion(form.client_assertion, client, context);
    return { client, method: 'private_key_jwt' };
  }
  throw invalidClient('Client authentication is required.');
}

function secretClient(client: OidcClientRegistration, secret: string, method: OidcClientAuthMethod, context: OidcClientAuthContext): OidcAuthenticatedClient {
  allowed(method, context);
  if (client.clientSecret === undefined || !sameText(secret, client.clientSecret)) throw invalidClient('Wrong client credentials.');
  return { client, method };
}

async function verifyAssertion(assertion: string, client: OidcClientRegistration, context: OidcClientAuthContext): Promise<void> {
  if (!client.publicKey) throw invalidClient('The client has no registered key for private_key_jwt.');
  const key = client.publicKey instanceof KeyObject ? client.publicKey : createPublicKey({ key: client.publicKey as never, format: 'jwk' });
  let jti: string;
  let exp: number;
  try {
    const { payload } = await jwtVerify(assertion, key, {
      algorithms: ['RS256', 'PS256', 'ES256'],
      issuer: client.clientId,
      subject: client.clientId,
      audience: [context.tokenEndpoint, context.issuer],
      requiredClaims: ['exp', 'jti'],
      clockTolerance: CLOCK_SKEW_SECONDS,
    });
    jti = String(payload.jti);
    exp = payload.exp!;
  } catch (error) {
    const reason = error instanceof errors.JOSEError ? error.code : 'invalid';
    throw invalidClient(`The client assertion is invalid (${reason}).`);
  }
  if (exp <= Math.floor(Date.now() / 1000)) throw invalidClient('The client assertion has expired.');
  if (!context.replay.firstUse(client.clientId, jti, exp)) throw invalidClient('The client assertion was already used (jti).');
}

function allowed(method: OidcClientAuthMethod, context: OidcClientAuthContext): void {
  if (!context.methods.includes(method)) throw invalidClient(`The token endpoint does not accept ${method}.`);
}

function invalidClient(description: string): TokenEndpointError {
  return oauthError(401, 'invalid_client', description);
}
