// One authority per token profile behind one small interface, so a catalogue case can run under every
// profile with describe.each: Entra ID (our LocalAuthority), RFC 9068 (panva's oidc-provider, an
// authority we did not write) and the Auth0, Okta and Keycloak dialects (our LocalOidcAuthority).
// Tokens are always signed by the authority's own key; variants change claims or header members
// before it signs. Each fixture can also start the On-Behalf-Of chain (the sample controllers).
import { Module } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { OboModule, type OboModuleOptions, type TokenProfileName } from 'nestjs-obo';
import { LocalAuthority, LocalOidcAuthority, type OidcDialect } from 'nestjs-obo/testing';
import { WhoAmIController } from '../../apps/downstream-api/src/whoami.controller.js';
import { ProfileController } from '../../apps/original-api/src/profile.controller.js';
import { listen, optionsFor, type ApiUnderTest } from './api-under-test.js';
import { startOboChain } from './obo-chain.js';
import { DOWNSTREAM_API, ORIGINAL_API, OidcProviderAuthority } from './oidc-provider-authority.js';

/** How a test token differs from the profile's valid user token for the test API. */
export interface TokenVariant {
  /** Claim overrides; `undefined` removes a claim. Applied last. */
  readonly claims?: Record<string, unknown>;
  /** Protected-header overrides; `undefined` removes a member. */
  readonly header?: Record<string, unknown>;
  /** Delegated scopes, written where and how the profile keeps them. Default `['access_as_user']`. */
  readonly scopes?: readonly string[];
  /** The user's id (`Principal.objectId`). Default: a random one. */
  readonly userId?: string;
}

/** The client → Original API → Downstream API chain at one authority (the sample controllers). */
export interface ProfileChain {
  /** The Original API (GET /api/profile calls the Downstream API On-Behalf-Of the user). */
  readonly originalUrl: string;
  /** The client id the Original API has at the authority (what the Downstream API sees as the caller). */
  readonly originalClientId: string;
  /** A user token for the Original API with `access_as_user`, for user `userId` (`Principal.objectId`). */
  userToken(userId: string): Promise<string>;
  /** On-Behalf-Of / token-exchange requests the authority has received. */
  exchanges(): number;
  close(): Promise<void>;
}

/** An authority of one profile, and what the catalogue cases need from it. */
export interface ProfileFixture {
  readonly name: string;
  /** A header `typ` this profile never signs access tokens with. */
  readonly foreignTyp: string;
  start(): Promise<void>;
  close(): Promise<void>;
  /** OboModule options for the test API (`/delegated` needs `access_as_user`). */
  options(overrides?: Partial<OboModuleOptions>): OboModuleOptions;
  /** A user token for the test API, or a variant of it. */
  userToken(variant?: TokenVariant): Promise<string>;
  /** An app-only token for the test API with the app permission `Data.Read.All`. */
  appToken(): Promise<string>;
  /** Starts the On-Behalf-Of chain at this fixture's (started) authority. */
  startChain(): Promise<ProfileChain>;
}

/** Boots the sample Downstream API (WhoAmIController) and Original API (ProfileController) with the given options. */
async function startSampleChain(downstreamOptions: OboModuleOptions, originalOptions: (downstreamUrl: string) => OboModuleOptions): Promise<{ original: ApiUnderTest; downstream: ApiUnderTest }> {
  @Module({ imports: [OboModule.forRoot(downstreamOptions)], controllers: [WhoAmIController] })
  class DownstreamModule {}
  const downstream = await listen(DownstreamModule);
  @Module({ imports: [OboModule.forRoot(originalOptions(downstream.url))], controllers: [ProfileController] })
  class OriginalModule {}
  const original = await listen(OriginalModule);
  return { original, downstream };
}

/** Entra ID v2.0 through the local authority. */
export function entraFixture(): ProfileFixture {
  let authority: LocalAuthority;
  return {
    name: 'entra',
    foreignTyp: 'at+jwt',
    async start() {
      authority = await LocalAuthority.start();
    },
    close: async () => authority?.close(),
    options: (overrides = {}) => optionsFor(authority, overrides),
    async userToken(variant = {}) {
      const identity = variant.userId === undefined ? {} : { oid: variant.userId };
      const scopes = variant.scopes === undefined ? {} : { scp: variant.scopes.join(' ') };
      return authority.mintUserToken({ claims: { ...identity, ...scopes, ...variant.claims }, header: variant.header });
    },
    appToken: async () => authority.mintAppToken({ claims: { roles: ['Data.Read.All'] } }),
    async startChain() {
      const chain = await startOboChain({ authority });
      return {
        originalUrl: chain.original.url,
        originalClientId: chain.originalId,
        userToken: async (userId) => chain.userToken({ claims: { oid: userId } }),
        exchanges: () => authority.tokenRequests.onBehalfOf,
        close: () => chain.close(),
      };
    },
  };
}

/** RFC 9068 through oidc-provider (panva, OpenID Certified). */
export function oidcProviderFixture(): ProfileFixture {
  let op: OidcProviderAuthority;
  return {
    name: 'rfc9068 (oidc-provider)',
    foreignTyp: 'JWT',
    async start() {
      op = await OidcProviderAuthority.start();
    },
    close: async () => op?.close(),
    options: (overrides = {}) => ({ issuer: op.issuer, audience: ORIGINAL_API.audience, tokenProfile: 'rfc9068', ...overrides }),
    async userToken(variant = {}) {
      const scopes = variant.scopes === undefined ? {} : { scope: variant.scopes.join(' ') };
      return op.mintUserToken({ subject: variant.userId, claims: { ...scopes, ...variant.claims }, header: variant.header });
    },
    // RFC 9068 §2.2: no resource owner, so `sub` is the client.
    appToken: async () => op.mintUserToken({ subject: op.spaClientId, claims: { roles: ['Data.Read.All'] } }),
    async startChain() {
      const client = op.originalApiClients.client_secret_basic;
      const { original, downstream } = await startSampleChain({ issuer: op.issuer, audience: DOWNSTREAM_API.audience, tokenProfile: 'rfc9068' }, (url) => ({
        issuer: op.issuer,
        audience: ORIGINAL_API.audience,
        tokenProfile: 'rfc9068',
        clientId: client.clientId,
        clientSecret: client.clientSecret!,
        downstreamApis: { downstream: { baseUrl: url, audience: DOWNSTREAM_API.audience, scopes: [DOWNSTREAM_API.scope] } },
      }));
      return {
        originalUrl: original.url,
        originalClientId: client.clientId,
        userToken: (userId) => op.mintUserToken({ subject: userId }),
        exchanges: () => op.tokenRequests.filter((r) => r.grantType === 'urn:ietf:params:oauth:grant-type:token-exchange').length,
        close: async () => {
          await original.close();
          await downstream.close();
        },
      };
    },
  };
}

/** Auth0, Okta or Keycloak through our generic local authority, in that authority's issuer shape. */
export function localOidcFixture(dialect: Extract<OidcDialect, 'auth0' | 'okta' | 'keycloak'>): ProfileFixture {
  let authority: LocalOidcAuthority;
  const profile: TokenProfileName = dialect;
  // Okta keeps the user's id in `uid` (its `sub` is the login); the others in `sub`.
  const identity = (userId: string | undefined) => (userId === undefined ? {} : dialect === 'okta' ? { userId } : { subject: userId });
  return {
    name: `${dialect} (local)`,
    foreignTyp: 'dpop+jwt',
    async start() {
      authority = await LocalOidcAuthority.start({ dialect });
    },
    close: async () => authority?.close(),
    options: (overrides = {}) => ({ issuer: authority.issuer, audience: authority.audience, tokenProfile: profile, clientId: authority.clientId, ...overrides }),
    userToken: async (variant = {}) => authority.mintUserToken({ ...identity(variant.userId), scopes: variant.scopes, claims: variant.claims, header: variant.header }),
    appToken: async () =>
      dialect === 'auth0'
        ? authority.mintAppToken({ permissions: ['Data.Read.All'] })
        : dialect === 'okta'
          ? authority.mintAppToken({ scopes: ['Data.Read.All'] })
          : authority.mintAppToken({ roles: ['Data.Read.All'] }),
    async startChain() {
      const downstreamAudience = `https://downstream-${randomUUID().slice(0, 8)}.example.test/`;
      const clientId = `original-${randomUUID().slice(0, 8)}`;
      const clientSecret = `secret-${randomUUID()}`;
      authority.registerApi({ audience: downstreamAudience, scopes: ['Downstream.Read'] });
      authority.registerClient({ clientId, clientSecret, apis: [authority.audience], grants: ['token_exchange'], delegatedScopes: { [downstreamAudience]: ['Downstream.Read'] } });
      const users = new Set<string>();
      const { original, downstream } = await startSampleChain({ issuer: authority.issuer, audience: downstreamAudience, tokenProfile: profile }, (url) => ({
        issuer: authority.issuer,
        audience: authority.audience,
        tokenProfile: profile,
        clientId,
        clientSecret,
        downstreamApis: { downstream: { baseUrl: url, audience: downstreamAudience, scopes: ['Downstream.Read'] } },
      }));
      return {
        originalUrl: original.url,
        originalClientId: clientId,
        async userToken(userId) {
          const token = authority.mintUserToken({ ...identity(userId), scopes: ['access_as_user'] });
          const sub = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).sub as string;
          if (!users.has(sub)) authority.grantUserScopes(sub, downstreamAudience, ['Downstream.Read']);
          users.add(sub);
          return token;
        },
        exchanges: () => authority.tokenRequests.tokenExchange,
        close: async () => {
          await original.close();
          await downstream.close();
        },
      };
    },
  };
}

/** Every profile the cross-profile cases run under. */
export const PROFILE_FIXTURES: ReadonlyArray<[string, () => ProfileFixture]> = [
  ['entra', entraFixture],
  ['rfc9068 (oidc-provider)', oidcProviderFixture],
  ['auth0', () => localOidcFixture('auth0')],
  ['okta', () => localOidcFixture('okta')],
  ['keycloak', () => localOidcFixture('keycloak')],
];
