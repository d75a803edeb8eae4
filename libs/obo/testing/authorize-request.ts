import { identifierUriOf, type AppRegistration, type AppRegistry } from './app-registrations.js';
import { parseClaimsRequest, type ClaimsDemand } from './claims-request.js';
import { CONSENT_FREE_SCOPES } from './consent-store.js';
import { TokenEndpointError } from './token-errors.js';

/** Where and how the authorization response goes back to the client. */
export interface ClientRedirect {
  readonly redirectUri: string;
  readonly responseMode: 'query' | 'fragment' | 'form_post';
  readonly state?: string;
}

/** A validated authorization request (`GET /{tenant}/oauth2/v2.0/authorize`). */
export interface AuthorizeRequest extends ClientRedirect {
  readonly tenant: string;
  readonly client: AppRegistration;
  readonly nonce?: string;
  /** PKCE S256 `code_challenge`. */
  readonly codeChallenge: string;
  /** Every scope as requested. */
  readonly scopes: readonly string[];
  /** The resource scopes, as full names `<identifier URI>/<name>` (`.default` expanded). */
  readonly resourceScopes: readonly string[];
  /** The resources those scopes belong to. */
  readonly resources: readonly AppRegistration[];
  readonly prompt?: 'login' | 'consent' | 'select_account' | 'none';
  readonly loginHint?: string;
  /** OpenID Connect `max_age` (seconds): an authority session older than this signs the user in again. */
  readonly maxAge?: number;
  /** OpenID Connect `acr_values` as sent (space-separated); recorded for tests, not enforced (Entra ID ignores it). */
  readonly acrValues?: string;
  /** The `claims` request (JSON text) and what it demands. */
  readonly claims?: string;
  readonly demand: ClaimsDemand;
}

/** A refusal shown as an error page: the client or its redirect URI cannot be trusted (RFC 6749 4.1.2.1). */
export class AuthorizePageError extends Error {
  constructor(
    readonly code: number,
    readonly text: string,
  ) {
    super(`AADSTS${code}: ${text}`);
  }
}

/** A refusal sent back to the (trusted) redirect URI as `error`, `error_description`, `state`. */
export class AuthorizeRedirectError extends Error {
  constructor(
    readonly target: ClientRedirect,
    readonly error: string,
    readonly code: number,
    readonly text: string,
  ) {
    super(`${error}: AADSTS${code}: ${text}`);
  }
}

const PROMPTS = new Set(['login', 'consent', 'select_account', 'none']);
const RESPONSE_MODES = new Set(['query', 'fragment', 'form_post']);

/**
 * Validates the parameters of an authorization request: first the client and its exact
 * redirect URI (an {@link AuthorizePageError} otherwise: never redirect to an unchecked URI),
 * then everything else ({@link AuthorizeRedirectError}).
 */
export function parseAuthorizeRequest(query: URLSearchParams, tenant: string, registry: AppRegistry): AuthorizeRequest {
  const clientId = query.get('client_id') ?? '';
  const client = registry.get(clientId);
  if (!client) throw new AuthorizePageError(700016, `Application with identifier '${clientId}' was not found in the directory.`);
  const redirectUri = query.get('redirect_uri') ?? '';
  if (!(client.redirectUris ?? []).includes(redirectUri)) {
    throw new AuthorizePageError(
      50011,
      `The redirect URI '${redirectUri}' specified in the request does not match the redirect URIs configured for the application '${clientId}'.`,
    );
  }
  const mode = query.get('response_mode') ?? 'query';
  const state = query.get('state') ?? undefined;
  const target: ClientRedirect = { redirectUri, responseMode: RESPONSE_MODES.has(mode) ? (mode as ClientRedirect['responseMode']) : 'query', ...(state === null || state === undefined ? {} : { state }) };
  const refuse = (error: string, code: number, text: string) => new AuthorizeRedirectError(target, error, code, text);
  if (!RESPONSE_MODES.has(mode)) throw refuse('invalid_request', 900144, `The response_mode '${mode}' is not supported.`);
  if (query.get('response_type') !== 'code') {
    throw refuse('unsupported_response_type', 700054, `The response_type '${query.get('response_type') ?? ''}' is not enabled for the application; only 'code' is.`);
  }
  const codeChallenge = query.get('code_challenge');
  if (!codeChallenge || query.get('code_challenge_method') !== 'S256') {
    throw refuse('invalid_request', 9002325, 'Proof Key for Code Exchange is required: send code_challenge with code_challenge_method S256.');
  }
  const prompt = query.get('prompt') ?? undefined;
  if (prompt !== undefined && !PROMPTS.has(prompt)) throw refuse('invalid_request', 90023, `Invalid prompt value '${prompt}'.`);
  const scopes = (query.get('scope') ?? '').split(' ').filter((s) => s.length > 0);
  if (scopes.length === 0) throw refuse('invalid_request', 900144, "The request body must contain the following parameter: 'scope'.");
  const { resourceScopes, resources } = resolveScopes(scopes, registry, (text) => refuse('invalid_scope', 70011, text));
  const maxAgeText = query.get('max_age') ?? undefined;
  if (maxAgeText !== undefined && !/^\d{1,10}$/.test(maxAgeText)) throw refuse('invalid_request', 90019, `Invalid max_age value '${maxAgeText}'.`);
  const maxAge = maxAgeText === undefined ? undefined : Number(maxAgeText);
  const claims = query.get('claims') ?? undefined;
  let demand: ClaimsDemand;
  try {
    demand = parseClaimsRequest(claims);
  } catch (error) {
    throw refuse('invalid_request', 90014, error instanceof TokenEndpointError ? error.text : 'The claims parameter is invalid.');
  }
  const optional = (name: string) => query.get(name) ?? undefined;
  return {
    ...target,
    tenant,
    client,
    codeChallenge,
    scopes,
    resourceScopes,
    resources,
    demand,
    ...(optional('nonce') === undefined ? {} : { nonce: optional('nonce') }),
    ...(prompt === undefined ? {} : { prompt: prompt as AuthorizeRequest['prompt'] }),
    ...(optional('login_hint') === undefined ? {} : { loginHint: optional('login_hint') }),
    ...(maxAge === undefined ? {} : { maxAge }),
    ...(optional('acr_values') === undefined ? {} : { acrValues: optional('acr_values') }),
    ...(claims === undefined || claims === '' ? {} : { claims }),
  };
}

/**
 * Resolves resource scopes (`<identifier URI or client id>/<name>` or `/.default`) to full names on
 * the resource's identifier URI; OIDC scopes pass through. Unknown resources or names are refused.
 */
export function resolveScopes(
  scopes: readonly string[],
  registry: AppRegistry,
  invalid: (text: string) => Error,
): { resourceScopes: string[]; resources: AppRegistration[] } {
  const resourceScopes = new Set<string>();
  const resources = new Map<string, AppRegistration>();
  for (const scope of scopes) {
    if (CONSENT_FREE_SCOPES.has(scope)) continue;
    const slash = scope.lastIndexOf('/');
    const app = slash > 0 ? registry.resolveResource(scope.slice(0, slash)) : undefined;
    const name = scope.slice(slash + 1);
    const exposed = app?.scopes ?? [];
    if (!app || (name !== '.default' && !exposed.includes(name)) || exposed.length === 0) {
      throw invalid(`The provided value for the input parameter 'scope' is not valid. The scope '${scope}' is not valid.`);
    }
    for (const each of name === '.default' ? exposed : [name]) resourceScopes.add(`${identifierUriOf(app)}/${each}`);
    resources.set(app.clientId, app);
  }
  return { resourceScopes: [...resourceScopes], resources: [...resources.values()] };
}
