// One authority per token profile behind one small interface, so a catalogue case can run under every
// profile with describe.each: Entra ID (our LocalAuthority) and RFC 9068 (panva's oidc-provider, an
// authority we did not write). Tokens are always signed by the authority's own key; variants change
// claims or header members before it signs.
import type { OboModuleOptions } from 'nestjs-obo';
import { LocalAuthority } from 'nestjs-obo/testing';
import { optionsFor } from './api-under-test.js';
import { ORIGINAL_API, OidcProviderAuthority } from './oidc-provider-authority.js';

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

/** An authority of one profile, and what the catalogue cases need from it. */
export interface ProfileFixture {
  readonly name: string;
  /** The profile's scope claim, for assertions. */
  readonly scopeClaim: string;
  start(): Promise<void>;
  close(): Promise<void>;
  /** OboModule options for the test API (audience: the API; `/delegated` needs `access_as_user`). */
  options(overrides?: Partial<OboModuleOptions>): OboModuleOptions;
  /** A user token for the test API, or a variant of it. */
  userToken(variant?: TokenVariant): Promise<string>;
  /** An app-only token for the test API with the app permission `Data.Read.All`. */
  appToken(): Promise<string>;
}

/** Entra ID v2.0 through the local authority. */
export function entraFixture(): ProfileFixture {
  let authority: LocalAuthority;
  return {
    name: 'entra',
    scopeClaim: 'scp',
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
  };
}

/** RFC 9068 through oidc-provider (panva, OpenID Certified). */
export function oidcProviderFixture(): ProfileFixture {
  let op: OidcProviderAuthority;
  return {
    name: 'rfc9068 (oidc-provider)',
    scopeClaim: 'scope',
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
  };
}

/** Every profile the cross-profile cases run under. */
export const PROFILE_FIXTURES: ReadonlyArray<[string, () => ProfileFixture]> = [
  ['entra', entraFixture],
  ['rfc9068 (oidc-provider)', oidcProviderFixture],
];
