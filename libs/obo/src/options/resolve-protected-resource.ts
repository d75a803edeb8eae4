import { OboConfigurationError } from '../errors/obo.error.js';
import type { ProtectedResourceOptions } from './obo-module-options.interface.js';
import { describeValue } from './option-checks.js';

/** {@link ProtectedResourceOptions} checked, with the metadata's location worked out. Internal. */
export interface ResolvedProtectedResource {
  /** The resource identifier, byte for byte as configured (clients compare it exactly, RFC 9728 §3.3). */
  readonly resource: string;
  /**
   * The paths the metadata is served at: `/.well-known/oauth-protected-resource` + the resource's
   * path (RFC 9728 §3.1), and the same without a trailing slash (MCP clients drop it).
   */
  readonly metadataPaths: readonly string[];
  /** The metadata's absolute URL: the `resource_metadata` of every challenge (RFC 9728 §5.1). */
  readonly metadataUrl: string;
  /** Prepended to a route's scope to name the scope a client requests. */
  readonly scopePrefix: string;
  readonly resourceName?: string;
  readonly resourceDocumentation?: string;
  readonly jwksUri?: string;
  readonly resourceSigningAlgValuesSupported?: readonly string[];
}

/** The well-known suffix of RFC 9728 §3. */
export const PROTECTED_RESOURCE_WELL_KNOWN = '/.well-known/oauth-protected-resource';
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);
/** Printable ASCII without `"` and `\`: it travels inside a quoted challenge parameter. */
const QUOTABLE = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const ALGORITHM = /^[A-Za-z0-9+._-]{1,32}$/;

function urlOption(option: string, value: unknown, allowLoopbackHttp: boolean): URL {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url) throw new OboConfigurationError(option, `must be an absolute https URL (got ${describeValue(value)}).`);
  const loopbackHttp = allowLoopbackHttp && url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
  if (url.protocol !== 'https:' && !loopbackHttp) throw new OboConfigurationError(option, `must use https (plain http only on 127.0.0.1, [::1] or localhost) (got ${describeValue(value)}).`);
  if (url.username || url.password) throw new OboConfigurationError(option, 'must not carry credentials.');
  if (url.search || url.hash || String(value).includes('#') || String(value).includes('?')) throw new OboConfigurationError(option, 'must have no query or fragment (RFC 9728 §1.2).');
  if (!QUOTABLE.test(String(value))) throw new OboConfigurationError(option, 'must be printable ASCII without quotes or backslashes.');
  return url;
}

function optionalText(option: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > 256 || !QUOTABLE.test(value)) {
    throw new OboConfigurationError(option, `must be printable ASCII, 1 to 256 characters, without quotes or backslashes (got ${describeValue(value)}).`);
  }
  return value;
}

/**
 * Checks `protectedResource` and locates its metadata (RFC 9728 §3.1: the well-known suffix goes
 * between the host and the resource's path). `undefined` when the option is absent.
 * @param defaultScopePrefix the authority's default {@link ProtectedResourceOptions.scopePrefix}.
 * @throws {OboConfigurationError} naming the option and what to fix.
 */
export function resolveProtectedResource(options: ProtectedResourceOptions | undefined, defaultScopePrefix: string): ResolvedProtectedResource | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null) throw new OboConfigurationError('protectedResource', 'must be an object: { resource: "https://api.example.com" }.');
  const url = urlOption('protectedResource.resource', options.resource, true);
  const path = url.pathname === '/' ? '' : url.pathname;
  const metadataPath = `${PROTECTED_RESOURCE_WELL_KNOWN}${path}`;
  const algs = options.resourceSigningAlgValuesSupported;
  if (algs !== undefined && (!Array.isArray(algs) || algs.length === 0 || !algs.every((a) => typeof a === 'string' && ALGORITHM.test(a) && a !== 'none'))) {
    throw new OboConfigurationError('protectedResource.resourceSigningAlgValuesSupported', 'must be a non-empty list of JWS algorithm names, never "none" (RFC 9728 §2).');
  }
  if (algs !== undefined && options.jwksUri === undefined) {
    throw new OboConfigurationError('protectedResource.resourceSigningAlgValuesSupported', 'names algorithms this resource signs responses with; set protectedResource.jwksUri to the keys that verify them, or remove it.');
  }
  return {
    resource: options.resource,
    metadataPaths: metadataPath.endsWith('/') ? [metadataPath, metadataPath.replace(/\/+$/, '')] : [metadataPath],
    metadataUrl: `${url.origin}${metadataPath}`,
    scopePrefix: options.scopePrefix === undefined ? defaultScopePrefix : (optionalText('protectedResource.scopePrefix', options.scopePrefix) ?? ''),
    resourceName: optionalText('protectedResource.resourceName', options.resourceName),
    resourceDocumentation: options.resourceDocumentation === undefined ? undefined : urlOption('protectedResource.resourceDocumentation', options.resourceDocumentation, false).href,
    jwksUri: options.jwksUri === undefined ? undefined : urlOption('protectedResource.jwksUri', options.jwksUri, true).href,
    resourceSigningAlgValuesSupported: algs === undefined ? undefined : Object.freeze([...algs]),
  };
}
