// The RFC 8693 path of the benchmarks: a LocalOidcAuthority in the Auth0 dialect (in this process,
// like bench/lib/fixture.ts's LocalAuthority), our providers for it built the way OboModule wires
// them (without Nest DI), the module's own AccessTokenValidator to turn user tokens into Principals,
// and the baseline: openid-client v6 `genericGrantRequest` per call, no cache.
import { randomUUID } from 'node:crypto';
import * as client from 'openid-client';
import { Agent, fetch as undiciFetch } from 'undici';
import { Principal } from '../../libs/obo/src/context/principal.js';
import { RequestContext } from '../../libs/obo/src/context/request-context.service.js';
import { AccessTokenValidator } from '../../libs/obo/src/inbound/access-token-validator.service.js';
import { SigningKeyStore } from '../../libs/obo/src/inbound/jwt/signing-key.store.js';
import { ValidatedTokenCache } from '../../libs/obo/src/inbound/jwt/validated-token.cache.js';
import type { TokenAcquisitionOptions } from '../../libs/obo/src/options/obo-module-options.interface.js';
import { resolveOboOptions, type ResolvedOboOptions } from '../../libs/obo/src/options/resolve-obo-options.js';
import { Rfc8693TokenExchanger } from '../../libs/obo/src/outbound/token-acquisition/rfc8693-token-exchanger.js';
import { TokenAcquisition } from '../../libs/obo/src/outbound/token-acquisition/token-acquisition.service.js';
import type { ExchangedToken, ExchangeRequest, TokenExchanger } from '../../libs/obo/src/outbound/token-acquisition/token-exchanger.js';
import { TokenCache } from '../../libs/obo/src/outbound/token-cache/token-cache.js';
import { LocalOidcAuthority } from '../../libs/obo/testing/index.js';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** The Auth0-shaped authority, the middle-tier API (our API, also the exchanging client) and the downstream API. */
export interface OidcFixture {
  readonly authority: LocalOidcAuthority;
  /** Our API's audience (the authority's default API, scope `access_as_user`). */
  readonly apiAudience: string;
  /** Our API's client id and secret at the token endpoint. */
  readonly clientId: string;
  readonly clientSecret: string;
  /** The downstream API's identifier (the exchange's `audience`). */
  readonly downstreamAudience: string;
  /** Scopes asked for the downstream API. */
  readonly scopes: readonly string[];
}

export async function startOidcFixture(): Promise<OidcFixture> {
  const authority = await LocalOidcAuthority.start({ dialect: 'auth0' });
  const downstreamAudience = 'https://downstream.example.test/';
  authority.registerApi({ audience: downstreamAudience, scopes: ['read:data', 'write:data'] });
  const clientId = randomUUID();
  const clientSecret = `secret-${randomUUID()}`;
  // Auth0's "Custom API client": our API may exchange tokens issued for it.
  authority.registerClient({ clientId, clientSecret, apis: [authority.audience], grants: ['token_exchange'] });
  return { authority, apiAudience: authority.audience, clientId, clientSecret, downstreamAudience, scopes: ['read:data'] };
}

/** A user's access token for our API, in Auth0's default dialect (RS256, `typ` JWT, `scope`, `permissions`, `azp`), with the claims Auth0 usually adds. */
export function mintOidcAssertion(fixture: OidcFixture, n: number): string {
  return fixture.authority.mintUserToken({
    audience: [fixture.apiAudience, `${fixture.authority.issuer}userinfo`],
    subject: `auth0|${n.toString(16).padStart(24, '0')}`,
    scopes: ['openid', 'profile', 'email', 'access_as_user'],
    permissions: ['access_as_user'],
  });
}

/** Module options for the fixture (`provider: 'oidc'`, Auth0 profile, client_secret_basic by default). */
export function oidcOptions(fixture: OidcFixture, tokenAcquisition?: TokenAcquisitionOptions): ResolvedOboOptions {
  return resolveOboOptions({
    issuer: fixture.authority.issuer,
    audience: fixture.apiAudience,
    tokenProfile: 'auth0',
    clientId: fixture.clientId,
    clientSecret: fixture.clientSecret,
    tokenAcquisition,
  });
}

export interface OursRfc8693 {
  readonly options: ResolvedOboOptions;
  /** Shared by inbound validation and the exchanger (the token endpoint comes from its metadata), as in OboModule. */
  readonly keys: SigningKeyStore;
  readonly cache: TokenCache;
  readonly exchanger: Rfc8693TokenExchanger;
  readonly acquisition: TokenAcquisition;
}

/** A fresh ("cold") set of our providers on the RFC 8693 path: options, SigningKeyStore (nothing loaded), TokenCache, exchanger, TokenAcquisition. */
export function buildRfc8693(fixture: OidcFixture, tokenAcquisition?: TokenAcquisitionOptions): OursRfc8693 {
  const options = oidcOptions(fixture, tokenAcquisition);
  const keys = new SigningKeyStore(options);
  const cache = new TokenCache(options);
  const exchanger = new Rfc8693TokenExchanger(options, keys);
  return { options, keys, cache, exchanger, acquisition: new TokenAcquisition(options, new RequestContext(), cache, exchanger) };
}

/** The module's AccessTokenValidator (Auth0 profile) on its own key store: Principals exactly as the guard builds them. */
export function oidcValidator(fixture: OidcFixture): AccessTokenValidator {
  const options = oidcOptions(fixture);
  const keys = new SigningKeyStore(options);
  return new AccessTokenValidator(options, keys, new ValidatedTokenCache(options, keys));
}

/**
 * `template` with `i` written into its signature part: a new flat string per user (see
 * bench/resilience-churn.bench.ts). Only for entries that no authority ever verifies again.
 */
export function variant(template: string, i: number): string {
  const buf = Buffer.from(template, 'latin1');
  buf.write(i.toString(36).padStart(10, '0'), template.lastIndexOf('.') + 4, 'latin1');
  return buf.toString('latin1');
}

/** A synthetic user `i` from a validated `template` Principal: its own user id (`sub`) and its own assertion text. */
export function syntheticPrincipal(template: Principal, i: number, userId: (i: number) => string, claim: 'sub' | 'oid'): Principal {
  const id = userId(i);
  const claims = { ...template.claims, [claim]: id };
  return new Principal(
    {
      objectId: id,
      tenantId: template.tenantId,
      subject: claim === 'sub' ? id : template.subject,
      clientAppId: template.clientAppId,
      scopes: template.scopes,
      roles: template.roles,
      isAppOnly: template.isAppOnly,
      claims,
      actors: template.actors,
    },
    variant(template.assertion, i),
  );
}

/**
 * Population of synthetic users only: answers every exchange at once with `template` (a token the
 * authority issued) with the call's number written into its signature part, so each entry holds its
 * own token text. Plugged into a second TokenAcquisition that shares the measured one's TokenCache;
 * hits never reach any exchanger.
 */
export class VariantExchanger {
  calls = 0;
  constructor(
    private readonly template: string,
    private readonly lifetimeMs: number,
  ) {}
  async onBehalfOf(request: ExchangeRequest): Promise<ExchangedToken> {
    return { accessToken: variant(this.template, this.calls++), expiresOn: Date.now() + this.lifetimeMs, scopes: [...request.scopes] };
  }
  clientCredentials(): Promise<ExchangedToken> {
    return Promise.reject(new Error('not used'));
  }
  asExchanger(): TokenExchanger {
    return this as unknown as TokenExchanger;
  }
}

/**
 * The baseline: what a Node service does today for an RFC 8693 exchange (Auth0's
 * `@auth0/auth0-api-js` `getTokenOnBehalfOf` likewise): openid-client v6, `discovery()` once at
 * startup, then `genericGrantRequest` per call, nothing cached. Its fetch goes through an undici
 * Agent of `connections` sockets (openid-client's `customFetch`): with fetch's defaults every
 * concurrent call opens its own connection, and 10,000 at once overrun this one process's file
 * descriptors (client and authority share it). `timeoutSeconds` replaces openid-client's default
 * timeout (30 s).
 */
export async function openidClientBaseline(fixture: OidcFixture, connections: number, timeoutSeconds?: number): Promise<{ config: client.Configuration; close: () => Promise<void> }> {
  const agent = new Agent({ connections });
  const customFetch = ((url: string, init: Parameters<typeof undiciFetch>[1]) => undiciFetch(url, { ...init, dispatcher: agent })) as unknown as client.CustomFetch;
  const config = await client.discovery(new URL(fixture.authority.issuer), fixture.clientId, undefined, client.ClientSecretBasic(fixture.clientSecret), { [client.customFetch]: customFetch });
  config[client.customFetch] = customFetch;
  if (timeoutSeconds !== undefined) config.timeout = timeoutSeconds;
  return { config, close: () => agent.close() };
}

/** One baseline exchange of `subjectToken` for the downstream API: `access_token` of the answer. */
export async function baselineExchange(config: client.Configuration, fixture: OidcFixture, subjectToken: string): Promise<string> {
  const answer = await client.genericGrantRequest(config, TOKEN_EXCHANGE_GRANT, {
    subject_token: subjectToken,
    subject_token_type: ACCESS_TOKEN_TYPE,
    requested_token_type: ACCESS_TOKEN_TYPE,
    audience: fixture.downstreamAudience,
    scope: fixture.scopes.join(' '),
  });
  return answer.access_token;
}
