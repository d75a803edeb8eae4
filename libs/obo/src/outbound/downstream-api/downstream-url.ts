import { OboError } from '../../errors/obo.error.js';
import type { DownstreamUrl } from './downstream-client.js';

/**
 * The URL of `path` (and `query`) under a downstream API's `baseUrl` (no trailing slash), checked:
 * the path starts with one `/` and, after normalisation (`..`, encoded slashes), stays under the base URL.
 * @throws {OboError} `ERR_OBO_CONFIG_INVALID`
 */
export function downstreamUrl(baseUrl: string, path: string, query?: Record<string, string>): DownstreamUrl {
  if (typeof path !== 'string' || !path.startsWith('/') || path.startsWith('//')) {
    throw new OboError('ERR_OBO_CONFIG_INVALID', 'Downstream paths must start with a single "/".');
  }
  const url = new URL(`${baseUrl}${path}`);
  if (url.href !== baseUrl && !url.href.startsWith(`${baseUrl}/`)) {
    throw new OboError('ERR_OBO_CONFIG_INVALID', 'Downstream path leaves the configured base URL.');
  }
  for (const [key, value] of Object.entries(query ?? {})) url.searchParams.append(key, value);
  return Object.freeze({ origin: url.origin, path: `${url.pathname}${url.search}`, host: url.host });
}
