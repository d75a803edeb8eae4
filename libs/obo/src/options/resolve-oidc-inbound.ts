import { oidcMetadataUrls } from '../authority/oidc-authority.js';
import type { ResolvedOidcAuthority } from '../authority/resolve-authority.js';
import { OboConfigurationError } from '../errors/obo.error.js';
import { describeValue } from './option-checks.js';
import type { ClaimMappingOptions, OboModuleOptions, TokenProfileName } from './obo-module-options.interface.js';

/** Token profiles of generic authorities. */
export const TOKEN_PROFILES: readonly TokenProfileName[] = ['rfc9068', 'auth0', 'okta', 'keycloak'];

/** Entra-only options, refused next to `issuer` (each names what replaces it, if anything). */
const ENTRA_ONLY: ReadonlyArray<[keyof OboModuleOptions, string]> = [
  ['instance', 'the issuer names the authority'],
  ['tenantId', 'the issuer names the authority'],
  ['azureCloudInstance', 'it names an Entra cloud'],
  ['allowedTenants', 'tenants are an Entra concept'],
  ['acceptedTokenVersions', 'token versions are an Entra concept'],
  ['knownAuthorities', 'it configures msal-node, which only talks to Entra ID'],
  ['scopeClaim', 'use claimMapping.scopes'],
  ['roleClaim', 'use claimMapping.appPermissions'],
  ['clientCertificate', 'use clientPrivateKey for private_key_jwt'],
];

/** Generic-only options, refused on an Entra configuration. */
export const OIDC_ONLY: ReadonlyArray<keyof OboModuleOptions> = ['tokenProfile', 'claimMapping', 'clientAuthentication', 'clientPrivateKey', 'tokenExchange'];

/** Claim-mapping overrides, checked; unset members take the profile's defaults. */
export type ResolvedClaimMapping = Readonly<Omit<ClaimMappingOptions, 'appPermissions'> & { appPermissions?: readonly string[] }>;

const CLAIM_PATH = /^[A-Za-z_][A-Za-z0-9_:-]{0,63}(?:\.[A-Za-z_][A-Za-z0-9_:-]{0,63}){0,3}$/;

function claimPath(option: string, value: unknown): string {
  if (typeof value !== 'string' || !CLAIM_PATH.test(value)) {
    throw new OboConfigurationError(option, `must be a claim name, or a dot path of up to 4 names such as "realm_access.roles" (got ${describeValue(value)}).`);
  }
  return value;
}

/** @throws {OboConfigurationError} */
export function resolveClaimMapping(value: unknown): ResolvedClaimMapping {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null) throw new OboConfigurationError('claimMapping', 'must be an object such as { scopes: "scope" }.');
  const mapping = value as ClaimMappingOptions;
  const permissions = mapping.appPermissions;
  const list = permissions === undefined ? undefined : typeof permissions === 'string' ? [permissions] : permissions;
  if (list !== undefined && (!Array.isArray(list) || list.length === 0)) throw new OboConfigurationError('claimMapping.appPermissions', 'must be a claim path or a non-empty list of claim paths.');
  if (mapping.isAppOnly !== undefined && typeof mapping.isAppOnly !== 'function') {
    throw new OboConfigurationError('claimMapping.isAppOnly', 'must be a function (claims) => boolean.');
  }
  return {
    scopes: mapping.scopes === undefined ? undefined : claimPath('claimMapping.scopes', mapping.scopes),
    appPermissions: list?.map((p, i) => claimPath(`claimMapping.appPermissions[${i}]`, p)),
    clientId: mapping.clientId === undefined ? undefined : claimPath('claimMapping.clientId', mapping.clientId),
    userId: mapping.userId === undefined ? undefined : claimPath('claimMapping.userId', mapping.userId),
    isAppOnly: mapping.isAppOnly,
  };
}

/**
 * The configured issuer: an https URL without query, fragment or credentials, kept byte for byte
 * (Auth0's trailing slash included: tokens carry the issuer exactly).
 * @throws {OboConfigurationError}
 */
export function resolveOidcAuthority(options: OboModuleOptions): ResolvedOidcAuthority {
  for (const [option, why] of ENTRA_ONLY) {
    if (options[option] !== undefined) throw new OboConfigurationError(option, `applies to Entra ID only and cannot be combined with issuer (${why}); remove it.`);
  }
  if (options.jwks?.appSpecificKeys !== undefined) throw new OboConfigurationError('jwks.appSpecificKeys', 'applies to Entra ID only and cannot be combined with issuer; remove it.');
  if (options.tokenAcquisition?.clientCapabilities !== undefined) {
    throw new OboConfigurationError('tokenAcquisition.clientCapabilities', 'applies to Entra ID only (client capabilities such as CP1) and cannot be combined with issuer; remove it.');
  }
  const issuer: unknown = options.issuer;
  let url: URL | undefined;
  try {
    url = typeof issuer === 'string' ? new URL(issuer) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || url.protocol !== 'https:' || url.username || url.password || url.search || url.hash || typeof issuer !== 'string' || issuer.trim() !== issuer) {
    throw new OboConfigurationError(
      'issuer',
      `must be the authority's issuer, an https URL without query or fragment, exactly as its tokens carry it, such as "https://example.eu.auth0.com/" (got ${describeValue(issuer)}).`,
    );
  }
  const profile: unknown = options.tokenProfile ?? 'rfc9068';
  if (!TOKEN_PROFILES.includes(profile as TokenProfileName)) {
    throw new OboConfigurationError('tokenProfile', `must be one of ${TOKEN_PROFILES.map((p) => `"${p}"`).join(', ')} (got ${describeValue(profile)}).`);
  }
  if (options.audience === undefined) {
    throw new OboConfigurationError('audience', 'is required with issuer: give the identifier your authority puts in aud for this API (Auth0: the API identifier; Okta: the authorization server audience; Keycloak: the client id).');
  }
  return { kind: 'oidc', issuer, metadataUrls: oidcMetadataUrls(issuer) };
}

/** The generic client id: any non-empty string without spaces, or '' when none is configured (validation only). */
export function resolveOidcClientId(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value !== 'string' || !/^[\x21-\x7e]{1,256}$/.test(value)) {
    throw new OboConfigurationError('clientId', `must be the client id this API has at the authority: printable characters without spaces (got ${describeValue(value)}).`);
  }
  return value;
}
