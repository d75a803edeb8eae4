import { MULTI_TENANT_SEGMENTS } from '../authority/entra-authority.js';
import { flavourOfHost } from '../authority/authority-flavour.js';
import { resolveAuthority, type ResolvedAuthority } from '../authority/resolve-authority.js';
import { OboConfigurationError } from '../errors/obo.error.js';
import { checkOptionKeys } from './check-option-keys.js';
import { describeValue, wholeNumber } from './option-checks.js';
import type { AccessTokenVersion, JwksOptions, OboModuleOptions, TokenProfileName } from './obo-module-options.interface.js';
import { OIDC_ONLY, resolveClaimMapping, resolveOidcAuthority, resolveOidcClientId, type ResolvedClaimMapping } from './resolve-oidc-inbound.js';
import { resolveAppSpecificKeys } from './resolve-app-specific-keys.js';
import { resolveEgress, type ResolvedEgress } from './resolve-egress.js';
import { resolveOutboundOptions, type ResolvedOutboundOptions } from './resolve-outbound-options.js';
import { resolveProtectedResource, type ResolvedProtectedResource } from './resolve-protected-resource.js';

/** Options with every default applied and every value checked: the inbound part, the outbound part and egress. Internal. */
export interface ResolvedOboOptions extends ResolvedInboundOptions, ResolvedOutboundOptions {
  readonly egress: ResolvedEgress;
}

/**
 * What validating incoming tokens needs. On a generic authority (`provider: 'oidc'`) the Entra
 * fields hold neutral values: `instance` the issuer's origin, `tenantId` the issuer (the key every
 * user of that authority shares: cache keys and `Principal.tenantId`), `multiTenant` false, no
 * token versions. Internal.
 */
export interface ResolvedInboundOptions {
  /** `entra`: Entra ID (msal-node On-Behalf-Of); `oidc`: any other authority (RFC 8693). */
  readonly provider: 'entra' | 'oidc';
  /** The token dialect: `entra`, or a generic profile. */
  readonly tokenProfile: 'entra' | TokenProfileName;
  /** Generic profiles: the user's claim-mapping overrides. */
  readonly claimMapping: ResolvedClaimMapping;
  readonly delegation: { readonly maxActors: number; readonly allowedActors?: ReadonlySet<string> };
  readonly instance: string;
  readonly tenantId: string;
  readonly multiTenant: boolean;
  readonly allowedTenants: ReadonlySet<string>;
  readonly clientId: string;
  readonly audience: readonly string[];
  readonly acceptedTokenVersions: ReadonlySet<AccessTokenVersion>;
  readonly clockToleranceSeconds: number;
  readonly algorithms: readonly string[];
  readonly maxTokenLength: number;
  readonly maxTokenLifetimeSeconds: number;
  readonly validatedTokenCacheMaxEntries: number;
  readonly allowedClientApplications?: ReadonlySet<string>;
  readonly scopeClaim: string;
  readonly roleClaim: string;
  readonly realm?: string;
  /** RFC 9728 metadata to publish, when configured. */
  readonly protectedResource?: ResolvedProtectedResource;
  /** The `resource_metadata` every challenge names (RFC 9728 §5.1): the metadata's URL, when published. */
  readonly resourceMetadata?: string;
  readonly authority: ResolvedAuthority;
  readonly jwks: Readonly<Required<JwksOptions>>;
}

export const DEFAULT_INSTANCE = 'https://login.microsoftonline.com/';
/**
 * Node's default `maxHeaderSize` (16,384 bytes, counting the URL and every header name and value):
 * the longest token Node can deliver is 16,384 - 1 - 20 (`Authorization` and `Bearer `) - the URL and
 * the other headers, so with Node's defaults this cap never refuses a token Node accepted. It only
 * binds once the operator raises `--max-http-header-size` (users in hundreds of groups); raise both.
 */
export const DEFAULT_MAX_TOKEN_LENGTH = 16_384;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MULTI_TENANT = MULTI_TENANT_SEGMENTS;
/** Generic authorities sign with RS256 by default; PS256 and ES256 are common alternatives (the key's type must still fit). */
const OIDC_ALGORITHMS = ['RS256', 'PS256', 'ES256'];
const ASYMMETRIC = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']);
const CLAIM_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/;

function guid(option: string, value: unknown): string {
  if (typeof value !== 'string' || !GUID.test(value)) {
    throw new OboConfigurationError(option, `must be a GUID such as "00000000-0000-0000-0000-000000000000" (got ${describeValue(value)}).`);
  }
  return value.toLowerCase();
}


function nonEmptyStrings(option: string, value: unknown): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || !list.every((v) => typeof v === 'string' && v.length > 0 && v.trim() === v)) {
    throw new OboConfigurationError(option, 'must be a non-empty list of non-empty strings without surrounding spaces.');
  }
  return [...new Set(list as string[])];
}

function resolveInstance(value: unknown): string {
  if (value === undefined) return DEFAULT_INSTANCE;
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw new OboConfigurationError('instance', `must be an absolute https URL such as "${DEFAULT_INSTANCE}" (got ${describeValue(value)}).`);
  }
  if (url.protocol !== 'https:' || url.username || url.password || url.search || url.hash || url.pathname !== '/') {
    throw new OboConfigurationError('instance', `must be an https origin with no path, query or credentials, such as "${DEFAULT_INSTANCE}" (got ${describeValue(value)}).`);
  }
  return `${url.origin}/`;
}

function resolveTenant(options: OboModuleOptions): Pick<ResolvedOboOptions, 'tenantId' | 'multiTenant' | 'allowedTenants'> {
  const { tenantId, allowedTenants } = options;
  if (typeof tenantId === 'string' && MULTI_TENANT.has(tenantId)) {
    if (!allowedTenants || allowedTenants.length === 0) {
      throw new OboConfigurationError('allowedTenants', `is required when tenantId is "${tenantId}": list the tenant GUIDs whose tokens this API accepts.`);
    }
    return { tenantId, multiTenant: true, allowedTenants: new Set(allowedTenants.map((t, i) => guid(`allowedTenants[${i}]`, t))) };
  }
  if (typeof tenantId !== 'string' || !GUID.test(tenantId)) {
    throw new OboConfigurationError('tenantId', `must be the directory (tenant) GUID, or "organizations" / "common" together with allowedTenants (got ${describeValue(tenantId)}).`);
  }
  if (allowedTenants !== undefined) {
    throw new OboConfigurationError('allowedTenants', 'only applies to a multi-tenant API: set tenantId to "organizations" or "common", or remove allowedTenants.');
  }
  const id = tenantId.toLowerCase();
  return { tenantId: id, multiTenant: false, allowedTenants: new Set([id]) };
}

function resolveAlgorithms(value: unknown, fallback: readonly string[]): string[] {
  if (value === undefined) return [...fallback];
  const list = nonEmptyStrings('algorithms', value);
  const bad = list.find((alg) => !ASYMMETRIC.has(alg));
  if (bad) throw new OboConfigurationError('algorithms', `accepts only asymmetric JWS algorithms (${[...ASYMMETRIC].join(', ')}); remove ${describeValue(bad)}.`);
  return list;
}

function resolveVersions(value: unknown, instance: string): Set<AccessTokenVersion> {
  // External ID apps get v2.0 access tokens; accepting v1.0 there is an explicit choice.
  if (value === undefined) return new Set(flavourOfHost(new URL(instance).host) === 'external-id' ? ['2.0'] : ['1.0', '2.0']);
  const list = nonEmptyStrings('acceptedTokenVersions', value);
  const bad = list.find((v) => v !== '1.0' && v !== '2.0');
  if (bad) throw new OboConfigurationError('acceptedTokenVersions', `accepts "1.0" and "2.0" only (got ${describeValue(bad)}).`);
  return new Set(list as AccessTokenVersion[]);
}

function claimName(option: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !CLAIM_NAME.test(value)) throw new OboConfigurationError(option, `must be a claim name such as "${fallback}".`);
  return value;
}

function resolveDelegation(options: OboModuleOptions): ResolvedInboundOptions['delegation'] {
  const delegation = options.delegation ?? {};
  return {
    maxActors: wholeNumber('delegation.maxActors', delegation.maxActors, 4, 0, 16),
    allowedActors: delegation.allowedActors === undefined ? undefined : new Set(nonEmptyStrings('delegation.allowedActors', delegation.allowedActors)),
  };
}

/** Options both kinds of authority share. */
function resolveCommonInbound(options: OboModuleOptions): Omit<ResolvedInboundOptions, 'provider' | 'tokenProfile' | 'claimMapping' | 'instance' | 'tenantId' | 'multiTenant' | 'allowedTenants' | 'clientId' | 'audience' | 'acceptedTokenVersions' | 'algorithms' | 'scopeClaim' | 'roleClaim' | 'authority'> {
  const realm = options.realm;
  if (realm !== undefined && (typeof realm !== 'string' || /[^\x20\x21\x23-\x5b\x5d-\x7e]/.test(realm))) {
    throw new OboConfigurationError('realm', 'must be printable ASCII without quotes or backslashes.');
  }
  const jwks = options.jwks ?? {};
  return {
    delegation: resolveDelegation(options),
    clockToleranceSeconds: wholeNumber('clockToleranceSeconds', options.clockToleranceSeconds, 60, 0, 300),
    maxTokenLength: wholeNumber('maxTokenLength', options.maxTokenLength, DEFAULT_MAX_TOKEN_LENGTH, 256, 65_536),
    maxTokenLifetimeSeconds: wholeNumber('maxTokenLifetimeSeconds', options.maxTokenLifetimeSeconds, 108_000, 60, 604_800),
    validatedTokenCacheMaxEntries: wholeNumber('validatedTokenCacheMaxEntries', options.validatedTokenCacheMaxEntries, 10_000, 0, 1_000_000),
    allowedClientApplications:
      options.allowedClientApplications === undefined ? undefined : new Set(nonEmptyStrings('allowedClientApplications', options.allowedClientApplications)),
    realm,
    jwks: {
      cacheMaxAgeSeconds: wholeNumber('jwks.cacheMaxAgeSeconds', jwks.cacheMaxAgeSeconds, 600, 1, 86_400),
      cooldownSeconds: wholeNumber('jwks.cooldownSeconds', jwks.cooldownSeconds, 30, 0, 3_600),
      failureBackoffSeconds: wholeNumber('jwks.failureBackoffSeconds', jwks.failureBackoffSeconds, 5, 0, 300),
      timeoutMs: wholeNumber('jwks.timeoutMs', jwks.timeoutMs, 5_000, 100, 60_000),
      maxResponseBytes: wholeNumber('jwks.maxResponseBytes', jwks.maxResponseBytes, 524_288, 1_024, 16_777_216),
      appSpecificKeys: resolveAppSpecificKeys(options),
    },
  };
}

/** Entra ID: instance, tenant, GUID client id, versions, the cloud. */
function resolveEntraInbound(options: OboModuleOptions): ResolvedInboundOptions {
  const present = OIDC_ONLY.find((option) => options[option] !== undefined);
  if (present) throw new OboConfigurationError(present, 'applies only to an authority other than Entra ID (set issuer instead of tenantId), or remove it.');
  const instance = resolveInstance(options.instance);
  const tenant = resolveTenant(options);
  const clientId = guid('clientId', options.clientId);
  const versions = resolveVersions(options.acceptedTokenVersions, instance);
  return {
    provider: 'entra',
    tokenProfile: 'entra',
    claimMapping: {},
    instance,
    ...tenant,
    clientId,
    audience: options.audience === undefined ? [clientId, `api://${clientId}`] : nonEmptyStrings('audience', options.audience),
    acceptedTokenVersions: versions,
    algorithms: resolveAlgorithms(options.algorithms, ['RS256']),
    scopeClaim: claimName('scopeClaim', options.scopeClaim, 'scp'),
    roleClaim: claimName('roleClaim', options.roleClaim, 'roles'),
    authority: resolveAuthority(instance, tenant.tenantId, versions, options.azureCloudInstance),
    ...resolveCommonInbound(options),
  };
}

/** Any other authority: the issuer, its token profile and claim mapping. */
function resolveOidcInbound(options: OboModuleOptions): ResolvedInboundOptions {
  const authority = resolveOidcAuthority(options);
  return {
    provider: 'oidc',
    tokenProfile: options.tokenProfile ?? 'rfc9068',
    claimMapping: resolveClaimMapping(options.claimMapping),
    instance: `${new URL(authority.issuer).origin}/`,
    tenantId: authority.issuer,
    multiTenant: false,
    allowedTenants: new Set([authority.issuer]),
    clientId: resolveOidcClientId(options.clientId),
    audience: nonEmptyStrings('audience', options.audience),
    acceptedTokenVersions: new Set(),
    algorithms: resolveAlgorithms(options.algorithms, OIDC_ALGORITHMS),
    scopeClaim: 'scope',
    roleClaim: 'roles',
    authority,
    ...resolveCommonInbound(options),
  };
}

/** Entra ID scopes are requested as `<App ID URI>/<scope>`: the first audience that is not the bare client id. */
export function entraScopePrefix(inbound: Pick<ResolvedInboundOptions, 'audience' | 'clientId'>): string {
  const appIdUri = inbound.audience.find((aud) => aud !== inbound.clientId) ?? `api://${inbound.clientId}`;
  return appIdUri.endsWith('/') ? appIdUri : `${appIdUri}/`;
}

/**
 * Applies defaults and validates options once, at startup: the inbound part (Entra ID when
 * `tenantId` is set, a generic authority when `issuer` is), the outbound part and egress.
 * @throws {OboConfigurationError} naming the first bad option and how to fix it.
 */
export function resolveOboOptions(options: OboModuleOptions): ResolvedOboOptions {
  if (!options || typeof options !== 'object') throw new OboConfigurationError('options', 'must be an object: tenantId and clientId (Entra ID), or issuer and audience (another authority).');
  checkOptionKeys(options);
  if (options.issuer !== undefined && options.tenantId !== undefined) {
    throw new OboConfigurationError('issuer', 'and tenantId name two authorities: keep tenantId (and instance) for Entra ID, or issuer for another authority.');
  }
  const resolved = options.issuer !== undefined ? resolveOidcInbound(options) : resolveEntraInbound(options);
  const protectedResource = resolveProtectedResource(options.protectedResource, resolved.provider === 'entra' ? entraScopePrefix(resolved) : '');
  const inbound: ResolvedInboundOptions = { ...resolved, protectedResource, resourceMetadata: protectedResource?.metadataUrl };
  return {
    ...inbound,
    ...resolveOutboundOptions(options, inbound),
    egress: resolveEgress(options.egress),
  };
}
