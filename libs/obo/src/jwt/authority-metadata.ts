import { fetchJson } from '../http/fetch-json.js';
import type { AccessTokenVersion } from '../options/obo-module-options.interface.js';
import type { ResolvedOboOptions } from '../options/resolve-obo-options.js';

/** What the authority's OIDC discovery documents tell us. */
export interface AuthorityMetadataDocument {
  /** The JWKS URI of the v2.0 document (or the v1.0 one when only v1 tokens are accepted). */
  readonly jwksUri: string;
  /** Issuer per accepted token version, possibly a `{tenantid}` template (multi-tenant). */
  readonly issuers: Readonly<Partial<Record<AccessTokenVersion, string>>>;
}

/** A discovery document was unusable; the message is safe to log. */
export class MetadataError extends Error {
  override readonly name = 'MetadataError';
}

function httpsUrl(value: unknown, field: string): string {
  if (typeof value === 'string') {
    try {
      if (new URL(value).protocol === 'https:') return value;
    } catch {
      // fall through to the typed error below
    }
  }
  throw new MetadataError(`discovery document has no https "${field}"`);
}

/**
 * Fetches the v1.0 and v2.0 discovery documents of the configured authority (only the versions
 * that are accepted). Metadata comes from configuration, never from a token.
 */
export async function loadAuthorityMetadata(options: ResolvedOboOptions): Promise<AuthorityMetadataDocument> {
  const fetchOptions = { timeoutMs: options.jwks.timeoutMs, maxBytes: options.jwks.maxResponseBytes };
  const versions = Object.keys(options.discoveryUrls) as AccessTokenVersion[];
  const documents = await Promise.all(versions.map((v) => fetchJson(options.discoveryUrls[v]!, { ...fetchOptions, dispatcher: options.egress.dispatcher })));
  const issuers: Partial<Record<AccessTokenVersion, string>> = {};
  let jwksUri: string | undefined;
  versions.forEach((version, i) => {
    const doc = documents[i];
    if (typeof doc !== 'object' || doc === null) throw new MetadataError('discovery document is not a JSON object');
    const record = doc as Record<string, unknown>;
    issuers[version] = httpsUrl(record.issuer, 'issuer');
    if (version === '2.0' || jwksUri === undefined) jwksUri = httpsUrl(record.jwks_uri, 'jwks_uri');
  });
  return { jwksUri: jwksUri!, issuers };
}
