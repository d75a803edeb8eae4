import { isAbsolute } from 'node:path';
import { MULTI_TENANT_SEGMENTS } from '../authority/entra-authority.js';
import { OboConfigurationError } from '../errors/obo.error.js';
import { scopeRuleViolation } from '../token-acquisition/scope-resource.js';
import { describeValue, wholeNumber } from './option-checks.js';
import { resolveDistributedCache, type ResolvedDistributedCache } from './resolve-distributed-cache.js';
import type { ClientCertificateCredential, DownstreamApiOptions, OboModuleOptions } from './obo-module-options.interface.js';

/** This API's own credential, exactly one kind. */
export type ResolvedCredential =
  | { readonly kind: 'secret'; readonly clientSecret: string }
  | { readonly kind: 'certificate'; readonly certificate: ClientCertificateCredential }
  | ResolvedAssertionCredential;

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
  readonly downstreamApis: ReadonlyMap<string, Required<DownstreamApiOptions>>;
  /** Hosts (`host[:port]`, lower case) msal-node trusts as authorities and issuers: the instance host, then the configured ones. */
  readonly knownAuthorities: readonly string[];
  readonly distributedCache?: ResolvedDistributedCache;
}


function resolveCredential(options: OboModuleOptions): ResolvedCredential | undefined {
  const given = [options.clientSecret, options.clientCertificate, options.clientAssertion].filter((c) => c !== undefined).length;
  if (given > 1) throw new OboConfigurationError('clientSecret', 'conflicts with clientCertificate / clientAssertion: give exactly one client credential.');
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

function resolveDownstreamApi(name: string, api: DownstreamApiOptions, configuredTenant: string): Required<DownstreamApiOptions> {
  const option = `downstreamApis.${name}`;
  let url: URL;
  try {
    url = new URL(api.baseUrl);
  } catch {
    throw new OboConfigurationError(`${option}.baseUrl`, 'must be an absolute http(s) URL.');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new OboConfigurationError(`${option}.baseUrl`, 'must be an absolute http(s) URL.');
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
    scopes: [...scopes],
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
export function resolveOutboundOptions(options: OboModuleOptions): ResolvedOutboundOptions {
  const credential = resolveCredential(options);
  const settings = options.tokenAcquisition ?? {};
  const capabilities = settings.clientCapabilities ?? [];
  if (!Array.isArray(capabilities) || !capabilities.every((c) => typeof c === 'string' && /^[A-Za-z0-9]+$/.test(c))) {
    throw new OboConfigurationError('tokenAcquisition.clientCapabilities', 'must be a list of capability names such as "CP1".');
  }
  const downstreamApis = new Map<string, Required<DownstreamApiOptions>>();
  for (const [name, api] of Object.entries(options.downstreamApis ?? {})) downstreamApis.set(name, resolveDownstreamApi(name, api, options.tenantId));
  if (downstreamApis.size > 0 && !credential) {
    throw new OboConfigurationError('clientSecret', 'is required for downstreamApis: give clientSecret, clientCertificate or clientAssertion.');
  }
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
    knownAuthorities: resolveKnownAuthorities(options),
  };
}
