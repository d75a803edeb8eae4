// RFC 8693 token exchange for oidc-provider, which has none built in: registered with its
// `registerGrantType` as its README shows, so its own client authentication, AccessToken class,
// signing keys and error classes do the work; this file adds only the exchange policy.
import { jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { errors, type Provider, type ResourceServerInfo } from 'oidc-provider';
import { ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT } from 'nestjs-obo/testing';

/** The RFC 8693 parameters the grant accepts (oidc-provider strips every other one before the handler). */
const PARAMETERS = ['audience', 'resource', 'scope', 'requested_token_type', 'subject_token', 'subject_token_type', 'actor_token', 'actor_token_type'];
/** RFC 8693 §2.1: `audience` and `resource` may repeat. */
const REPEATABLE = ['audience', 'resource'];

type Params = Record<string, string | string[] | undefined>;

/** Every value of a parameter oidc-provider hands over as a string or, when it may repeat, an array. */
export function paramValues(params: Params, name: string): string[] {
  const value = params[name];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** The first value of a parameter. */
export function paramValue(params: Params, name: string): string | undefined {
  return paramValues(params, name)[0];
}

/** What the grant needs from the authority that registers it. */
export interface TokenExchangeGrantOptions {
  /** The provider's own public keys (what its `jwks_uri` publishes): subject tokens must verify with them. */
  readonly keys: JWTVerifyGetKey;
  /** The `aud` a subject token must have: the API of the clients that exchange. */
  readonly subjectAudience: string;
  /** The resource server behind an `audience`/`resource` value; throws oidc-provider's `InvalidTarget` when unknown. */
  readonly resourceServerInfo: (indicator: string) => ResourceServerInfo;
  /** Claims for a token that `extraTokenClaims` returns for it (here: `act`). */
  readonly extraClaims: WeakMap<object, Record<string, unknown>>;
}

/**
 * Registers `urn:ietf:params:oauth:grant-type:token-exchange`. Policy: the subject token must be an
 * access token of this provider (`subject_token_type` the access-token type; its signature, `iss`,
 * `typ: at+jwt`, `exp`, and `aud` = {@link TokenExchangeGrantOptions.subjectAudience}), else
 * `invalid_request` (RFC 8693 §2.2.2); exactly one target by `audience` and/or `resource` (else
 * `invalid_target`); `scope` within the target's (else `invalid_scope`; default: all of them);
 * `requested_token_type` absent or the access-token type; no `actor_token`. The issued token is
 * oidc-provider's AccessToken for the target: same `sub`, `client_id` = the exchanging client, and
 * `act: { sub: <client id> }` with the subject token's own `act` nested under it (§4.1).
 */
export function registerTokenExchangeGrant(provider: Provider, options: TokenExchangeGrantOptions): void {
  // oidc-provider authenticates the client before any grant handler and checks the grant is in its `grant_types`.
  provider.registerGrantType(TOKEN_EXCHANGE_GRANT, async (ctx) => {
    const params = ctx.oidc.params ?? {};
    const client = ctx.oidc.client!;
    const subjectToken = paramValue(params, 'subject_token');
    if (!subjectToken) throw new errors.InvalidRequest("missing required parameter 'subject_token'");
    if (paramValue(params, 'subject_token_type') !== ACCESS_TOKEN_TYPE) {
      throw new errors.InvalidRequest(`unsupported subject_token_type, only ${ACCESS_TOKEN_TYPE} is accepted`);
    }
    const requested = paramValue(params, 'requested_token_type');
    if (requested !== undefined && requested !== ACCESS_TOKEN_TYPE) throw new errors.InvalidRequest('unsupported requested_token_type');
    if (params.actor_token !== undefined) throw new errors.InvalidRequest('actor_token is not supported');

    let subject: JWTPayload;
    try {
      ({ payload: subject } = await jwtVerify(subjectToken, options.keys, {
        issuer: provider.issuer,
        audience: options.subjectAudience,
        typ: 'at+jwt',
        algorithms: ['RS256'],
        requiredClaims: ['sub', 'exp', 'client_id'],
      }));
    } catch {
      throw new errors.InvalidRequest('subject_token is invalid, expired, or not for this client');
    }

    const targets = new Set([...paramValues(params, 'audience'), ...paramValues(params, 'resource')]);
    if (targets.size !== 1) throw new errors.InvalidTarget('exactly one audience or resource (the same value when both are sent) is required');
    const [target] = targets as Set<string>;
    const resourceServer = new provider.ResourceServer(target, options.resourceServerInfo(target));
    const requestedScopes = paramValues(params, 'scope').flatMap((scope) => scope.split(' ')).filter(Boolean);
    const foreign = requestedScopes.filter((scope) => !resourceServer.scopes.has(scope));
    if (foreign.length) throw new errors.InvalidScope('requested scope is not available for the target', foreign.join(' '));
    const scope = (requestedScopes.length ? requestedScopes : [...resourceServer.scopes]).join(' ');

    const token = new provider.AccessToken({ accountId: subject.sub!, client, scope, gty: TOKEN_EXCHANGE_GRANT, resourceServer });
    options.extraClaims.set(token, { act: { sub: client.clientId, ...(subject.act ? { act: subject.act } : {}) } });
    const accessToken = await token.save();
    ctx.body = { access_token: accessToken, issued_token_type: ACCESS_TOKEN_TYPE, token_type: token.tokenType, expires_in: token.expiration, scope };
  }, PARAMETERS, REPEATABLE);
}
