// The benchmarks' world: a LocalAuthority (Entra) or a LocalOidcAuthority (Auth0 dialect) in this
// process, users' tokens minted by it, our providers built through the real OboModule (Nest DI,
// `Test.createTestingModule`), and the baselines' clients (msal-node, openid-client).
import { randomBytes, randomUUID } from 'node:crypto';
import { ConfidentialClientApplication } from '@azure/msal-node';
import { Test, type TestingModule } from '@nestjs/testing';
import * as client from 'openid-client';
import { Agent, fetch as undiciFetch } from 'undici';
import { AccessTokenValidator, OboModule, Principal, RequestContext, TokenAcquisition, type AccessTokenClaims, type OboModuleOptions } from '../../libs/obo/src/index.js';
import { SigningKeyStore } from '../../libs/obo/src/inbound/jwt/signing-key.store.js';
import { RESOLVED_OBO_OPTIONS } from '../../libs/obo/src/options/obo-options.constants.js';
import type { ResolvedOboOptions } from '../../libs/obo/src/options/resolve-obo-options.js';
import { TokenExchanger, type ExchangedToken, type ExchangeRequest } from '../../libs/obo/src/outbound/token-acquisition/token-exchanger.js';
import { TokenCache } from '../../libs/obo/src/outbound/token-cache/token-cache.js';
import { ACCESS_TOKEN_TYPE, LocalAuthority, LocalOidcAuthority, pairwiseSubject, TOKEN_EXCHANGE_GRANT } from '../../libs/obo/testing/index.js';

// ---- our providers, through the module ----

/** The providers of one `OboModule.forRoot(options)`, as an app gets them. */
export interface Ours {
  module: TestingModule;
  options: ResolvedOboOptions;
  acquisition: TokenAcquisition;
  cache: TokenCache;
  /** The module's TokenExchanger (msal-node on Entra, RFC 8693 elsewhere), or the stub given. */
  exchanger: TokenExchanger & { providerCalls?: number };
  keys: SigningKeyStore;
  validator: AccessTokenValidator;
  /** A second TokenAcquisition on the same TokenCache whose exchanger is `stub` (population of synthetic users only). */
  populator(stub: TokenExchanger): TokenAcquisition;
}

/**
 * `Test.createTestingModule({ imports: [OboModule.forRoot(options)] }).compile()`, not initialised:
 * nothing is fetched from the authority until the first call (a "cold" client). `exchanger`
 * replaces the module's TokenExchanger (a stubbed provider).
 */
export async function oboModule(options: OboModuleOptions, exchanger?: TokenExchanger): Promise<Ours> {
  const builder = Test.createTestingModule({ imports: [OboModule.forRoot(options)] });
  const module = await (exchanger ? builder.overrideProvider(TokenExchanger).useValue(exchanger) : builder).compile();
  const resolved = module.get<ResolvedOboOptions>(RESOLVED_OBO_OPTIONS);
  const cache = module.get(TokenCache);
  const context = module.get(RequestContext);
  return {
    module,
    options: resolved,
    acquisition: module.get(TokenAcquisition),
    cache,
    exchanger: module.get(TokenExchanger),
    keys: module.get(SigningKeyStore),
    validator: module.get(AccessTokenValidator),
    populator: (stub) => new TokenAcquisition(resolved, context, cache, stub),
  };
}

/** The module options of the Entra fixture. */
export function entraOptions(fixture: Fixture, extra: Partial<OboModuleOptions> = {}): OboModuleOptions {
  const { authority } = fixture;
  return { instance: authority.instance, tenantId: authority.tenantId, clientId: fixture.originalId, clientSecret: fixture.clientSecret, ...extra };
}

// ---- Entra: LocalAuthority ----

/** The authority, the Original API (the OBO caller) and the Downstream API (the resource) it calls. */
export interface Fixture {
  authority: LocalAuthority;
  originalId: string;
  downstreamId: string;
  clientSecret: string;
  /** `api://<downstream>/Downstream.Read`. */
  scope: string;
}

export async function startFixture(): Promise<Fixture> {
  const originalId = randomUUID();
  const downstreamId = randomUUID();
  const clientSecret = `secret-${randomUUID()}`;
  const authority = await LocalAuthority.start({ clientId: originalId });
  authority.registerApp({ clientId: originalId, clientSecret, scopes: ['access_as_user'] });
  authority.registerApp({ clientId: downstreamId, scopes: ['Downstream.Read', 'Downstream.Write'] });
  return { authority, originalId, downstreamId, clientSecret, scope: `api://${downstreamId}/Downstream.Read` };
}

const b64 = (bytes: number) => randomBytes(bytes).toString('base64url');

/**
 * A user access token for the Original API, signed by the authority (RS256), with the claims an
 * Entra v2.0 token usually carries besides the minted defaults (aio, rh, names, ipaddr, ...), so
 * its size (~1.4 KB) is close to a real one.
 */
export function mintAssertion(fixture: Fixture, n: number): string {
  return fixture.authority.mintUserToken({
    audience: fixture.originalId,
    claims: {
      aio: `AVQAq/8${b64(54)}`,
      given_name: 'Test',
      family_name: `User ${n}`,
      name: `Test User ${n}`,
      preferred_username: `user${n}@contoso.example`,
      ipaddr: '203.0.113.7',
      rh: `1.AR8A${b64(48)}AA.`,
      uti: b64(16),
      ver: '2.0',
      xms_tcdt: 1_600_000_000,
    },
  });
}

export function claimsOf(token: string): AccessTokenClaims {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as AccessTokenClaims;
}

/** The Principal the module's guard would build from a validated `assertion`. */
export function principalFor(assertion: string): Principal {
  const claims = claimsOf(assertion);
  return new Principal(
    {
      objectId: claims.oid!,
      tenantId: claims.tid!,
      subject: claims.sub,
      clientAppId: claims.azp,
      scopes: (claims.scp ?? '').split(' ').filter(Boolean),
      roles: [],
      isAppOnly: false,
      claims,
    },
    assertion,
  );
}

/**
 * Population only: answers an On-Behalf-Of request with what the local authority's token endpoint
 * would issue (an access token for the downstream API, signed by the authority, with the user's
 * claims), without the HTTP round trip and msal. Hits never reach any exchanger.
 */
export class MintingExchanger extends TokenExchanger {
  calls = 0;

  constructor(private fixture: Fixture) {
    super();
  }

  async onBehalfOf(request: ExchangeRequest): Promise<ExchangedToken> {
    this.calls++;
    const user = claimsOf(request.assertion!);
    const { authority, downstreamId, originalId } = this.fixture;
    const lifetime = authority.tokenLifetimeSeconds;
    const accessToken = authority.mintUserToken({
      audience: downstreamId,
      tenantId: user.tid,
      lifetimeSeconds: lifetime,
      claims: { oid: user.oid, tid: user.tid, sub: pairwiseSubject(user.oid!, downstreamId), name: user.name, preferred_username: user.preferred_username, azp: originalId, azpacr: '1', scp: 'Downstream.Read' },
    });
    return { accessToken, expiresOn: Math.floor(Date.now() / 1000 + lifetime) * 1000, scopes: [...request.scopes] };
  }

  clientCredentials(): Promise<ExchangedToken> {
    return Promise.reject(new Error('not used'));
  }
}

/** Baseline 1: one shared msal-node ConfidentialClientApplication with its defaults (the msal-node lab's recipe, §1). */
export function newMsalClient(fixture: Fixture): ConfidentialClientApplication {
  const { authority } = fixture;
  return new ConfidentialClientApplication({
    auth: { clientId: fixture.originalId, authority: `${authority.instance}${authority.tenantId}`, clientSecret: fixture.clientSecret, knownAuthorities: [authority.authorityHost] },
  });
}

// ---- synthetic users ----

/**
 * `template` with `i` written into its signature part: a new flat string per user. Only for entries that no authority ever verifies again.
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
export class VariantExchanger extends TokenExchanger {
  calls = 0;
  constructor(
    private template: string,
    private lifetimeMs: number,
  ) {
    super();
  }
  async onBehalfOf(request: ExchangeRequest): Promise<ExchangedToken> {
    return { accessToken: variant(this.template, this.calls++), expiresOn: Date.now() + this.lifetimeMs, scopes: [...request.scopes] };
  }
  clientCredentials(): Promise<ExchangedToken> {
    return Promise.reject(new Error('not used'));
  }
}

// ---- RFC 8693: LocalOidcAuthority in the Auth0 dialect ----

/** The Auth0-shaped authority, the middle-tier API (our API, also the exchanging client) and the downstream API. */
export interface OidcFixture {
  authority: LocalOidcAuthority;
  /** Our API's audience (the authority's default API, scope `access_as_user`). */
  apiAudience: string;
  /** Our API's client id and secret at the token endpoint. */
  clientId: string;
  clientSecret: string;
  /** The downstream API's identifier (the exchange's `audience`). */
  downstreamAudience: string;
  /** Scopes asked for the downstream API. */
  scopes: string[];
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

/** The module options of the OIDC fixture (`provider: 'oidc'`, Auth0 profile, client_secret_basic). */
export function oidcOptions(fixture: OidcFixture, extra: Partial<OboModuleOptions> = {}): OboModuleOptions {
  return { issuer: fixture.authority.issuer, audience: fixture.apiAudience, tokenProfile: 'auth0', clientId: fixture.clientId, clientSecret: fixture.clientSecret, ...extra };
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
