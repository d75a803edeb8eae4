import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { errors, jwtVerify } from 'jose';
import type { AppRegistration, AppRegistry } from './app-registrations.js';
import { basicCredentials } from './form-body.js';
import { invalidClient, invalidRequest, type TokenEndpointError } from './token-errors.js';

/** The `client_assertion_type` of RFC 7523 private-key JWT client authentication. */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Skew allowed on a client assertion's `nbf` (Entra allows five minutes); `exp` must still be in the future. */
const CLOCK_SKEW_SECONDS = 300;

/** How a client proved its identity: a secret (`azpacr` 1) or a signed assertion (`azpacr` 2). */
export type ClientAuthMethod = 'client_secret_post' | 'client_secret_basic' | 'private_key_jwt';

/** A client the token endpoint has authenticated. */
export interface AuthenticatedClient {
  /** Its registration. */
  readonly app: AppRegistration;
  /** How it authenticated. */
  readonly method: ClientAuthMethod;
  /** `azpacr` / `appidacr` of tokens issued to it. */
  readonly acr: '1' | '2';
}

/**
 * Authenticates the calling client of a token request: `client_secret` (post body or HTTP Basic)
 * equal to the registered secret, or a `client_assertion` JWT (RS256/PS256) verified with the
 * registered `clientAssertionKey`, with `iss` = `sub` = client id, `aud` = `tokenEndpoint` and a
 * future `exp`. Every failure is 401 `invalid_client`.
 */
export async function authenticateClient(
  req: IncomingMessage,
  form: Readonly<Record<string, string>>,
  registry: AppRegistry,
  tokenEndpoint: string,
): Promise<AuthenticatedClient> {
  const basic = basicCredentials(req);
  const clientId = form.client_id ?? basic?.clientId;
  if (!clientId) throw invalidRequest("The request body must contain the following parameter: 'client_id'.");
  if (basic && basic.clientId !== clientId) throw invalidClient(clientId, 700016, 'The client id of the Authorization header does not match client_id.');
  const app = registry.get(clientId);
  if (!app) {
    throw invalidClient(clientId, 700016, `Application with identifier '${clientId}' was not found in the directory.`);
  }
  const secret = form.client_secret ?? basic?.clientSecret;
  if (secret !== undefined) {
    if (!app.clientSecret || !sameText(secret, app.clientSecret)) throw invalidClient(clientId);
    return { app, method: form.client_secret !== undefined ? 'client_secret_post' : 'client_secret_basic', acr: '1' };
  }
  if (form.client_assertion !== undefined) {
    if (form.client_assertion_type !== JWT_BEARER_ASSERTION_TYPE) {
      throw invalidClient(clientId, 7000219, "The 'client_assertion_type' must be 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'.");
    }
    await verifyClientAssertion(form.client_assertion, app, tokenEndpoint);
    return { app, method: 'private_key_jwt', acr: '2' };
  }
  throw invalidClient(clientId, 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
}

async function verifyClientAssertion(assertion: string, app: AppRegistration, tokenEndpoint: string): Promise<void> {
  if (!app.clientAssertionKey) {
    throw invalidClient(app.clientId, 700027, `No certificate or key is registered for application '${app.clientId}'.`);
  }
  let exp: number;
  let nbf: number | undefined;
  try {
    const { payload } = await jwtVerify(assertion, app.clientAssertionKey, {
      algorithms: ['RS256', 'PS256'],
      issuer: app.clientId,
      subject: app.clientId,
      audience: tokenEndpoint,
      requiredClaims: ['exp'],
      clockTolerance: CLOCK_SKEW_SECONDS, // for nbf/iat: msal rounds "now" to the nearest second
    });
    exp = payload.exp!;
    nbf = payload.nbf;
  } catch (error) {
    if (error instanceof errors.JWTExpired || (error instanceof errors.JWTClaimValidationFailed && error.claim === 'nbf')) throw notInTimeRange(app.clientId);
    const reason = error instanceof Error ? error.message : 'invalid';
    throw invalidClient(app.clientId, 700027, `Client assertion failed signature or claim validation. [Reason - ${reason}]`);
  }
  const now = Math.floor(Date.now() / 1000);
  if (exp <= now) throw notInTimeRange(app.clientId, now, nbf, exp);
}

/** AADSTS700024, as Entra answers an expired or not yet valid client assertion. */
function notInTimeRange(clientId: string, now?: number, nbf?: number, exp?: number): TokenEndpointError {
  const times = now === undefined ? '' : ` Current time: ${now}, assertion valid from ${nbf ?? 'unset'}, expiry time of assertion ${exp}.`;
  return invalidClient(clientId, 700024, `Client assertion is not within its valid time range.${times}`);
}

/** Compares a given secret with the registered one in constant time. */
export function sameText(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
