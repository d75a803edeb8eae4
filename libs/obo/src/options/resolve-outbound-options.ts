import { isAbsolute } from 'node:path';
import { MULTI_TENANT_SEGMENTS } from '../authority/entra-authority.js';
import { OboConfigurationError } from '../errors/obo.error.js';
import { scopeRuleViolation } from '../outbound/token-acquisition/scope-resource.js';
import { describeValue, wholeNumber } from './option-checks.js';
import { resolveDistributedCache, type ResolvedDistributedCache } from './resolve-distributed-cache.js';
import type { ClientCertificateCredential, ClientPrivateKeyCredential, DownstreamApiOptions, OboModuleOptions } from './obo-module-options.interface.js';
import type { ResolvedInboundOptions } from './resolve-obo-options.js';

/** This API's own credential, exactly one kind. */
export type ResolvedCredential =
  | { readonly kind: 'secret'; readonly clientSecret: string }
  | { readonly kind: 'certificate'; readonly certificate: ClientCertificateCredential }
  | { readonly kind: 'private-key'; readonly privateKey: Required<Omit<ClientPrivateKeyCredential, 'keyId'>> & { readonly keyId?: string } }
  | ResolvedAssertionCredential;

/** How requests authenticate at a generic authority's token endpoint (RFC 6749 §2.3, RFC 7523 §2.2). */
export type ClientAuthenticationMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';

/** A downstream API with defaults applied; `audience` and `resource` only on generic authorities. */
export type ResolvedDownstreamApi = Required<Omit<DownstreamApiOptions, 'audience' | 'resource'>> & Pick<DownstreamApiOptions, 'audience' | 'resource'>;

/** RFC 8693 request settings of a generic authority. */
export interface ResolvedTokenExchange {
  readonly subjectTokenType: string;
  /** Omitted from the request when undefined. */
  readonly requestedTokenType?: string;
}

/** RFC 8693 §3: the access-token type URI. */
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** A client assertion from a callback or from a federated token file: exactly one of the two. */
export interface ResolvedAssertionCredential {
  readonly kind: 'assertion';
  readonly clientAssertion?: () => Promise<string>;
  /** Absolute path of a federated token file, re-read when it changes. */
  readonly federatedTokenFile?: string;
}

/** Outbound settings with defaults applied. */
export interface ResolvedOutboundOptions {
  readonly credential?: ResolvedCredential;
  readonly tokenAcquisition: {
    readonly timeoutMs: number;
    readonly cacheMaxEntries: number;
    readonly refreshMarginSeconds: number;
    readonly refreshAheadSeconds: number;
    readonly clientCapabilities: readonly string[];
  };
  readonly downstreamApis: ReadonlyMap<string, ResolvedDownstreamApi>;
  /** Generic authorities: how the token endpoint authenticates this API (undefined on Entra ID, where msal-node decides). */
  readonly clientAuthentication?: ClientAuthenticationMethod;
  /** Generic authorities: the RFC 8693 token types. */
  readonly tokenExchange?: ResolvedTokenExchange;
  /** Hosts (`host[:port]`, lower case) msal-node trusts as authorities and issuers: the instance host, then the configured ones. */
  readonly knownAuthorities: readonly string[];
  readonly distributedCache?: ResolvedDistributedCache;
}


function resolvePrivateKey(value: ClientPrivateKeyCredential): ResolvedCredential {
  if (typeof value !== 'object' || value === null || typeof value.privateKey !== 'string' || !value.privateKey.includes('PRIVATE KEY')) {
    throw new OboConfigurationError('clientPrivateKey.privateKey', 'must be a PEM private key (-----BEGIN PRIVATE KEY-----).');
  }
  const algorithm = value.algorithm ?? 'RS256';
  if (!['RS256', 'PS256', 'ES256'].includes(algorithm)) throw new OboConfigurationError('clientPrivateKey.algorithm', `must be "RS256", "PS256" or "ES256" (got ${describeValue(algorithm)}).`);
  if (value.keyId !== undefined && (typeof value.keyId !== 'string' || value.keyId.length === 0 || value.keyId.length > 256)) {
    throw new OboConfigurationError('clientPrivateKey.keyId', 'must be the non-empty kid the authority knows the public key by.');
  }
  return { kind: 'private-key', privateKey: { privateKey: value.privateKey, algorithm, keyId: value.keyId } };
}

function resolveCredential(options: OboModuleOptions): ResolvedCredential | undefined {
  const given = [options.clientSecret, options.clientCertificate, options.clientAssertion, options.clientPrivateKey].filter((c) => c !== undefined).length;
  if (given > 1) throw new OboConfigurationError('clientSecret', 'conflicts with clientCertificate / clientPrivateKey / clientAssertion: give exactly one client credential.');
  if (options.clientPrivateKey !== undefined) return resolvePrivateKey(options.clientPrivateKey);
  if (options.clientSecret !== undefined) {
    if (typeof options.clientSecret !== 'string' || options.clientSecret.length === 0) throw new OboConfigurationError('clientSecret', 'must be a non-empty string.');
    return { kind: 'secret', clientSecret: options.clientSecret };
  }
  const certificate = options.clientCertificate;
  if (certificate !== undefined) {
    if (typeof certificate.privateKey !== 'string' || !certificate.privateKey.includes('PRIVATE KEY')) {
      throw new OboConfigurationError('clientCertificate.privateKey', 'must be a PEM private key.');
    }
    if (typeof certificate.thumbprintSha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(certificate.thumbprintSha256)) {
      throw new OboConfigurationError('clientCertificate.thumbprintSha256', 'must be the certificate\u2019s SHA-256 thumbprint in hex (64 characters).');
    }
    return { kind: 'certificate', certificate };
  }
  const assertion: unknown = options.clientAssertion;
  if (assertion !== undefined) {
    if (typeof assertion === 'function') return { kind: 'assertion', clientAssertion: assertion as () => Promise<string> };
    const file = typeof assertion === 'object' && assertion !== null ? (assertion as Record<string, unknown>).federatedTokenFile : undefined;
    if (typeof file !== 'string' || !isAbsolute(file)) {
      throw new OboConfigurationError(
        'clientAssertion',
        'must be a function returning a signed assertion, or { federatedTokenFile: <absolute path> } (on AKS workload identity: process.env.AZURE_FEDERATED_TOKEN_FILE; is it set?).',
      );
    }
    return { kind: 'assertion', federatedTokenFile: file };
  }
  return undefined;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The tenant of an app-only API's tokens: its own `tenantId` (a GUID), else the configured tenant.
 * A multi-tenant configuration (`organizations`/`common`) names no tenant, and client credentials
 * on those segments are refused by Entra: such an API must name one. User APIs ask the user's tenant.
 */
function downstreamTenant(option: string, api: DownstreamApiOptions, tokenKind: 'user' | 'app', configuredTenant: string): string {
  const multiTenant = MULTI_TENANT_SEGMENTS.has(configuredTenant);
  if (api.tenantId === undefined) {
    if (tokenKind === 'app' && multiTenant) {
      throw new OboConfigurationError(`${option}.tenantId`, `is required for an app-only API when tenantId is "${configuredTenant}": an app token is issued by one tenant; give that tenant's GUID.`);
    }
    return configuredTenant.toLowerCase();
  }
  if (tokenKind !== 'app') throw new OboConfigurationError(`${option}.tenantId`, "only applies to app-only APIs (tokenKind 'app'): On-Behalf-Of asks the user's own tenant; remove it.");
  if (typeof api.tenantId !== 'string' || !GUID.test(api.tenantId)) {
    throw new OboConfigurationError(`${option}.tenantId`, 'must be the directory (tenant) GUID that issues the app token (not a domain name, "organizations" or "common").');
  }
  return api.tenantId.toLowerCase();
}

function baseUrlOf(option: string, api: DownstreamApiOptions): URL {
  let url: URL;
  try {
    url = new URL(api.baseUrl);
  } catch {
    throw new OboConfigurationError(`${option}.baseUrl`, 'must be an absolute http(s) URL.');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new OboConfigurationError(`${option}.baseUrl`, 'must be an absolute http(s) URL.');
  return url;
}

/** RFC 6749 §3.3 scope-token characters. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/**
 * A downstream API at a generic authority: `audience` and/or `resource` (RFC 8707: absolute URI, no
 * fragment) name the target; `scopes` are plain scope tokens, possibly none.
 */
function resolveOidcDownstreamApi(name: string, api: DownstreamApiOptions): ResolvedDownstreamApi {
  const option = `downstreamApis.${name}`;
  const url = baseUrlOf(option, api);
  if (api.tenantId !== undefined) throw new OboConfigurationError(`${option}.tenantId`, 'applies to Entra ID only; remove it.');
  const scopes = api.scopes ?? [];
  if (!Array.isArray(scopes) || !scopes.every((s) => typeof s === 'string' && SCOPE_TOKEN.test(s))) {
    throw new OboConfigurationError(`${option}.scopes`, 'must be a list of scope names such as "read:orders" (RFC 6749 scope tokens, no spaces).');
  }
  const tokenKind = api.tokenKind ?? 'user';
  if (tokenKind !== 'user' && tokenKind !== 'app') throw new OboConfigurationError(`${option}.tokenKind`, 'must be "user" or "app".');
  if (api.audience !== undefined && (typeof api.audience !== 'string' || api.audience.length === 0 || api.audience.trim() !== api.audience)) {
    throw new OboConfigurationError(`${option}.audience`, 'must be the identifier of the API at the authority, a non-empty string.');
  }
  if (api.resource !== undefined) {
    let resource: URL | undefined;
    try {
      resource = new URL(api.resource);
    } catch {
      resource = undefined;
    }
    if (!resource || resource.hash || typeof api.resource !== 'string') throw new OboConfigurationError(`${option}.resource`, 'must be an absolute URI without a fragment (RFC 8707 §2).');
  }
  if (api.audience === undefined && api.resource === undefined) {
    throw new OboConfigurationError(`${option}.audience`, 'or resource is required at an authority other than Entra ID: name the API the token is for.');
  }
  return {
    baseUrl: url.href.replace(/\/+$/, ''),
    scopes: Object.freeze([...scopes]),
    tokenKind,
    tenantId: '',
    timeoutMs: wholeNumber(`${option}.timeoutMs`, api.timeoutMs, 10_000, 100, 120_000),
    audience: api.audience,
    resource: api.resource,
  };
}

function resolveDownstreamApi(name: string, api: DownstreamApiOptions, configuredTenant: string): ResolvedDownstreamApi {
  const option = `downstreamApis.${name}`;
  const url = baseUrlOf(option, api);
  if (api.audience !== undefined || api.resource !== undefined) {
    throw new OboConfigurationError(`${option}.${api.audience !== undefined ? 'audience' : 'resource'}`, 'applies only to an authority other than Entra ID (on Entra ID the scopes name the resource); remove it.');
  }
  const scopes = api.scopes;
  if (!Array.isArray(scopes) || scopes.length === 0 || !scopes.every((s) => typeof s === 'string' && /^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s))) {
    throw new OboConfigurationError(`${option}.scopes`, 'must be a non-empty list of scopes such as "api://<id>/Read".');
  }
  const tokenKind = api.tokenKind ?? 'user';
  if (tokenKind !== 'user' && tokenKind !== 'app') throw new OboConfigurationError(`${option}.tokenKind`, 'must be "user" or "app".');
  const violation = scopeRuleViolation(tokenKind, scopes);
  if (violation !== undefined) throw new OboConfigurationError(`${option}.scopes`, violation);
  return {
    baseUrl: url.href.replace(/\/+$/, ''),
    scopes: Object.freeze([...scopes]),
    tokenKind,
    tenantId: downstreamTenant(option, api, tokenKind, configuredTenant),
    timeoutMs: wholeNumber(`${option}.timeoutMs`, api.timeoutMs, 10_000, 100, 120_000),
  };
}

const PUBLIC_CLOUD_INSTANCE = 'https://login.microsoftonline.com/';
const HOST_AND_PORT = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::\d{1,5})?$/;

/** The instance host (already validated) plus the configured extra authority hosts, lower case, each once. */
function resolveKnownAuthorities(options: OboModuleOptions): string[] {
  const instanceHost = new URL(options.instance ?? PUBLIC_CLOUD_INSTANCE).host.toLowerCase();
  const given: unknown = options.knownAuthorities ?? [];
  if (!Array.isArray(given)) throw new OboConfigurationError('knownAuthorities', 'must be a list of authority hosts such as ["<tenant-guid>.ciamlogin.com"].');
  const hosts = given.map((host: unknown, i) => {
    const lower = typeof host === 'string' ? host.toLowerCase() : '';
    if (!HOST_AND_PORT.test(lower) || Number(lower.split(':')[1] ?? 443) > 65_535) {
      throw new OboConfigurationError(
        `knownAuthorities[${i}]`,
        `must be a host name with an optional port, without scheme or path, such as "<tenant-guid>.ciamlogin.com" (got ${describeValue(host)}).`,
      );
    }
    return lower;
  });
  return [...new Set([instanceHost, ...hosts])];
}

/**
 * Resolves credentials, token acquisition settings and downstream APIs.
 * @throws {OboConfigurationError}
 */
export function resolveOutboundOptions(options: OboModuleOptions, inbound: Pick<ResolvedInboundOptions, 'provider' | 'tenantId' | 'clientId' | 'tokenProfile'>): ResolvedOutboundOptions {
  const credential = resolveCredential(options);
  const oidc = inbound.provider === 'oidc';
  const settings = options.tokenAcquisition ?? {};
  const capabilities = settings.clientCapabilities ?? [];
  if (!Array.isArray(capabilities) || !capabilities.every((c) => typeof c === 'string' && /^[A-Za-z0-9]+$/.test(c))) {
    throw new OboConfigurationError('tokenAcquisition.clientCapabilities', 'must be a list of capability names such as "CP1".');
  }
  const downstreamApis = new Map<string, ResolvedDownstreamApi>();
  for (const [name, api] of Object.entries(options.downstreamApis ?? {})) {
    downstreamApis.set(name, oidc ? resolveOidcDownstreamApi(name, api) : resolveDownstreamApi(name, api, inbound.tenantId));
  }
  if (downstreamApis.size > 0 && !credential) {
    throw new OboConfigurationError('clientSecret', `is required for downstreamApis: give clientSecret, ${oidc ? 'clientPrivateKey' : 'clientCertificate'} or clientAssertion.`);
  }
  if (oidc && credential && inbound.clientId === '') {
    throw new OboConfigurationError('clientId', 'is required with a client credential: give the client id this API has at the authority.');
  }
  if (!oidc && credential?.kind === 'private-key') throw new OboConfigurationError('clientPrivateKey', 'applies only to an authority other than Entra ID; on Entra ID use clientCertificate.');
  const timeoutMs = wholeNumber('tokenAcquisition.timeoutMs', settings.timeoutMs, 10_000, 500, 120_000);
  return {
    credential,
    distributedCache: resolveDistributedCache(options.distributedCache, timeoutMs),
    tokenAcquisition: {
      timeoutMs,
      cacheMaxEntries: wholeNumber('tokenAcquisition.cacheMaxEntries', settings.cacheMaxEntries, 10_000, 1, 10_000_000),
      refreshMarginSeconds: wholeNumber('tokenAcquisition.refreshMarginSeconds', settings.refreshMarginSeconds, 300, 0, 3_600),
      refreshAheadSeconds: wholeNumber('tokenAcquisition.refreshAheadSeconds', settings.refreshAheadSeconds, 300, 0, 3_600),
      clientCapabilities: [...capabilities],
    },
    downstreamApis,
    knownAuthorities: oidc ? [] : resolveKnownAuthorities(options),
    clientAuthentication: oidc ? resolveClientAuthentication(options.clientAuthentication, credential) : undefined,
    tokenExchange: oidc ? resolveTokenExchange(options, inbound.tokenProfile) : undefined,
  };
}

function resolveClientAuthentication(value: unknown, credential: ResolvedCredential | undefined): ClientAuthenticationMethod | undefined {
  const byCredential: ClientAuthenticationMethod | undefined = credential === undefined ? undefined : credential.kind === 'secret' ? 'client_secret_basic' : 'private_key_jwt';
  if (value === undefined) return byCredential;
  if (value !== 'client_secret_basic' && value !== 'client_secret_post' && value !== 'private_key_jwt') {
    throw new OboConfigurationError('clientAuthentication', `must be "client_secret_basic", "client_secret_post" or "private_key_jwt" (got ${describeValue(value)}).`);
  }
  const secretMethod = value !== 'private_key_jwt';
  if (credential === undefined || (credential.kind === 'secret') !== secretMethod) {
    throw new OboConfigurationError('clientAuthentication', secretMethod ? `"${value}" needs clientSecret.` : '"private_key_jwt" needs clientPrivateKey or clientAssertion.');
  }
  return value;
}

function tokenTypeUri(option: string, value: unknown): string {
  if (typeof value !== 'string' || !/^[a-z][a-z0-9+.-]*:[\x21-\x7e]+$/i.test(value)) throw new OboConfigurationError(option, `must be a token type URI such as "${ACCESS_TOKEN_TYPE}" (got ${describeValue(value)}).`);
  return value;
}

function resolveTokenExchange(options: OboModuleOptions, profile: ResolvedInboundOptions['tokenProfile']): ResolvedTokenExchange {
  const given = options.tokenExchange ?? {};
  const subjectTokenType = given.subjectTokenType === undefined ? ACCESS_TOKEN_TYPE : tokenTypeUri('tokenExchange.subjectTokenType', given.subjectTokenType);
  const requested = given.requestedTokenType;
  // Okta documents its On-Behalf-Of exchange without requested_token_type; the others send it (Auth0 requires it).
  const requestedTokenType = requested === null ? undefined : requested === undefined ? (profile === 'okta' ? undefined : ACCESS_TOKEN_TYPE) : tokenTypeUri('tokenExchange.requestedTokenType', requested);
  return { subjectTokenType, requestedTokenType };
}
