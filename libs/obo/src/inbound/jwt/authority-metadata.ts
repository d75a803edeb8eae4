import { FetchJsonError, fetchJson, type FetchJsonOptions } from '../../http/fetch-json.js';
import { inSpan } from '../../observability/obo-telemetry.js';
import { ATTR_SERVER_ADDRESS, SPAN_METADATA_REFRESH } from '../../observability/telemetry-names.js';
import type { AccessTokenVersion } from '../../options/obo-module-options.interface.js';
import type { ResolvedOboOptions } from '../../options/resolve-obo-options.js';
import type { ResolvedOidcAuthority } from '../../authority/resolve-authority.js';

/** What the authority's discovery documents (and the cloud table) tell the validator. */
export interface AuthorityMetadataDocument {
  /** `jwks_uri` of the v2.0 discovery document. */
  readonly jwksUri: string;
  /**
   * Entra: `issuer` of the v2.0 discovery document, byte for byte (a `{tenantid}` template when
   * multi-tenant). Generic authority: the metadata's `issuer`, equal to the configured one.
   */
  readonly issuerV2: string;
  /** `token_endpoint` of the v2.0 discovery document, when it names one (for the startup log). */
  readonly tokenEndpoint?: string;
  /** `authorization_endpoint` of the same document, when it names one (for the OpenAPI document). */
  readonly authorizationEndpoint?: string;
  /** Issuer per accepted token version; a version missing here has its tokens refused. */
  readonly issuers: Readonly<Partial<Record<AccessTokenVersion, string>>>;
  /** Why v1.0 tokens are refused although accepted by configuration (the v1.0 document failed). Safe to log. */
  readonly v1Unavailable?: string;
}

/** A discovery document was unusable; the message names the URL and the reason and is safe to log. */
export class MetadataError extends Error {
  override readonly name = 'MetadataError';
}

/**
 * `error.type` of a failed metadata or JWKS load: the HTTP status (`"503"`), `timeout`, `network`,
 * `too_large`, `not_json`, or `invalid_document` (it arrived but is not usable).
 */
export function metadataFailureType(error: unknown): string {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 4; cause = cause.cause, depth++) {
    if (cause instanceof FetchJsonError) return cause.reason === 'status' ? String(cause.status) : cause.reason.replace('-', '_');
  }
  return 'invalid_document';
}

/** "the v2.0 discovery document <url> answered 404", "... timed out", ...: what an operator needs. */
export function describeFetchFailure(what: string, url: string, error: unknown): string {
  if (error instanceof MetadataError) return error.message;
  if (!(error instanceof FetchJsonError)) return `${what} ${url} could not be used (${error instanceof Error ? error.message : 'unknown error'})`;
  switch (error.reason) {
    case 'status':
      return `${what} ${url} answered ${error.status}`;
    case 'timeout':
      return `${what} ${url} did not answer in time`;
    case 'network':
      return `${what} ${url} is unreachable`;
    case 'too-large':
      return `${what} ${url} is larger than jwks.maxResponseBytes`;
    case 'not-json':
      return `${what} ${url} is not JSON`;
  }
}

function httpsUrl(document: Record<string, unknown>, field: string, url: string): string {
  const value = document[field];
  if (typeof value === 'string') {
    try {
      if (new URL(value).protocol === 'https:') return value;
    } catch {
      // not a URL: the typed error below names the field
    }
  }
  throw new MetadataError(`the discovery document ${url} has no https "${field}"`);
}

async function fetchDocument(url: string, version: AccessTokenVersion, fetchOptions: FetchJsonOptions): Promise<Record<string, unknown>> {
  const what = `the v${version} discovery document`;
  let document: unknown;
  try {
    document = await fetchJson(url, fetchOptions);
  } catch (error) {
    const notFound = error instanceof FetchJsonError && error.status === 404 && version === '2.0';
    // Azure AD B2C on a custom domain serves discovery only under a user-flow path, so it lands here.
    const hint = notFound ? ' (check instance and tenantId; an Azure AD B2C custom domain is not supported)' : '';
    throw new MetadataError(`${describeFetchFailure(what, url, error)}${hint}`, { cause: error });
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) throw new MetadataError(`${what} ${url} is not a JSON object`);
  return document as Record<string, unknown>;
}

/**
 * Loads what validation needs, asking the authority only for what it must:
 * - the v2.0 discovery document, always (every Entra flavour serves it; External ID and B2C serve
 *   nothing else): its `issuer` byte for byte and its `jwks_uri`;
 * - the v1.0 issuer, when v1.0 tokens are accepted: from the cloud table when the instance is a
 *   known cloud (or `azureCloudInstance` names one), otherwise from the v1.0 discovery document;
 *   a failure there only refuses v1.0 tokens (`v1Unavailable`), never every token.
 * Metadata comes from configuration, never from a token. Runs in an `obo.authority.metadata.refresh` span.
 * @throws {MetadataError} when the v2.0 document is unusable.
 */
export function loadAuthorityMetadata(options: ResolvedOboOptions): Promise<AuthorityMetadataDocument> {
  const { authority } = options;
  const url = authority.kind === 'oidc' ? authority.metadataUrls[0]! : authority.discoveryUrlV2;
  return inSpan(SPAN_METADATA_REFRESH, { [ATTR_SERVER_ADDRESS]: new URL(url).hostname }, () => loadMetadata(options), metadataFailureType);
}

async function loadMetadata(options: ResolvedOboOptions): Promise<AuthorityMetadataDocument> {
  const { authority } = options;
  const fetchOptions = { timeoutMs: options.jwks.timeoutMs, maxBytes: options.jwks.maxResponseBytes, dispatcher: options.egress.dispatcher };
  if (authority.kind === 'oidc') return loadOidcMetadata(authority, fetchOptions);
  const v1 = authority.discoveryUrlV1 === undefined ? undefined : fetchDocument(authority.discoveryUrlV1, '1.0', fetchOptions);
  v1?.catch(() => undefined); // awaited below; this only keeps an early failure from being reported as unhandled
  const v2 = await fetchDocument(authority.discoveryUrlV2, '2.0', fetchOptions);
  const issuerV2 = httpsUrl(v2, 'issuer', authority.discoveryUrlV2);
  const jwksUri = httpsUrl(v2, 'jwks_uri', authority.discoveryUrlV2);
  const tokenEndpoint = typeof v2.token_endpoint === 'string' ? v2.token_endpoint : undefined;
  const issuers: Partial<Record<AccessTokenVersion, string>> = {};
  if (options.acceptedTokenVersions.has('2.0')) issuers['2.0'] = issuerV2;
  let v1Unavailable: string | undefined;
  if (authority.issuerV1 !== undefined) {
    issuers['1.0'] = authority.issuerV1;
  } else if (v1) {
    try {
      issuers['1.0'] = httpsUrl(await v1, 'issuer', authority.discoveryUrlV1!);
    } catch (error) {
      v1Unavailable = error instanceof Error ? error.message : 'the v1.0 discovery document could not be used';
    }
  }
  return { jwksUri, issuerV2, tokenEndpoint, issuers, v1Unavailable };
}

/**
 * A generic authority's metadata: the first of its metadata URLs that exists (a 404 moves on to the
 * next; any other failure stops, naming the URL), whose `issuer` must equal the configured issuer
 * byte for byte (OpenID Connect Discovery §4.3, RFC 8414 §3.3: a different issuer is a mix-up, never
 * normalised), with an https `jwks_uri`.
 * @throws {MetadataError}
 */
async function loadOidcMetadata(authority: ResolvedOidcAuthority, fetchOptions: FetchJsonOptions): Promise<AuthorityMetadataDocument> {
  const missing: string[] = [];
  for (const url of authority.metadataUrls) {
    let document: unknown;
    try {
      document = await fetchJson(url, fetchOptions);
    } catch (error) {
      if (error instanceof FetchJsonError && error.status === 404) {
        missing.push(url);
        continue;
      }
      throw new MetadataError(describeFetchFailure('the metadata document', url, error), { cause: error });
    }
    if (typeof document !== 'object' || document === null || Array.isArray(document)) throw new MetadataError(`the metadata document ${url} is not a JSON object`);
    const record = document as Record<string, unknown>;
    if (record.issuer !== authority.issuer) {
      const named = typeof record.issuer === 'string' ? JSON.stringify(record.issuer.slice(0, 200)) : 'no issuer';
      throw new MetadataError(`the metadata document ${url} names ${named}, not the configured issuer ${JSON.stringify(authority.issuer)} (compared byte for byte; check the trailing slash)`);
    }
    const jwksUri = httpsUrl(record, 'jwks_uri', url);
    const tokenEndpoint = typeof record.token_endpoint === 'string' ? record.token_endpoint : undefined;
    const authorizationEndpoint = typeof record.authorization_endpoint === 'string' ? record.authorization_endpoint : undefined;
    return { jwksUri, issuerV2: authority.issuer, tokenEndpoint, authorizationEndpoint, issuers: {} };
  }
  throw new MetadataError(`no metadata document for the issuer ${authority.issuer}: ${missing.join(' and ')} answered 404 (check issuer)`);
}
