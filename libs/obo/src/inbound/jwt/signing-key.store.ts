import type { KeyObject } from 'node:crypto';
import type { Span } from '@opentelemetry/api';
import { Inject, Injectable, Logger } from '@nestjs/common';
import jwksRsa from 'jwks-rsa';
import { fetchJson } from '../../http/fetch-json.js';
import { RESOLVED_OBO_OPTIONS } from '../../options/obo-options.constants.js';
import type { ResolvedOboOptions } from '../../options/resolve-obo-options.js';
import { inSpan, oboInstruments } from '../../observability/obo-telemetry.js';
import { ATTR_ERROR_TYPE, ATTR_OBO_JWKS_KEY_COUNT, ATTR_OBO_JWKS_REFRESH_REASON, SPAN_JWKS_REFRESH } from '../../observability/telemetry-names.js';
import { describeFetchFailure, loadAuthorityMetadata, metadataFailureType, MetadataError, type AuthorityMetadataDocument } from './authority-metadata.js';
import { jwksUriFor, parseJwks } from './jwks-keys.js';

/** One usable signing key of the authority. */
export interface SigningKey {
  readonly kid: string;
  readonly key: KeyObject;
  /** `alg` of the JWK, when it names one; the token's `alg` must then be the same. */
  readonly alg?: string;
  /** Entra's per-key `issuer` (may hold `{tenantid}`); a token signed with this key must match it. */
  readonly issuer?: string;
}

/** Keys cannot be had right now (cold cache and the authority failing). */
export class SigningKeysUnavailableError extends Error {
  override readonly name = 'SigningKeysUnavailableError';
  constructor(readonly retryAfterSeconds: number) {
    super('signing keys unavailable');
  }
}

/** The key set does not hold this `kid` (and a refetch is not due or did not find it). */
export class UnknownSigningKeyError extends Error {
  override readonly name = 'UnknownSigningKeyError';
}

/** Why a refresh of the signing keys started (`obo.jwks.refresh.reason`). */
export type JwksRefreshReason = 'startup' | 'missing' | 'expired' | 'unknown_kid' | 'health_check';

/** The current key set at a glance (health checks). */
export interface KeySetStatus {
  /** Usable signing keys. */
  readonly keys: number;
  /** Seconds since it was fetched. */
  readonly ageSeconds: number;
  /** Younger than `jwks.cacheMaxAgeSeconds`. */
  readonly fresh: boolean;
}

interface KeySet {
  readonly keys: ReadonlyMap<string, SigningKey>;
  readonly metadata: AuthorityMetadataDocument;
  readonly fetchedAt: number;
}

/** True when `alg` may be used with this key (RFC 8725 §3.1: one key, one algorithm family). */
export function keyFitsAlgorithm(key: SigningKey, alg: string): boolean {
  if (key.alg !== undefined) return key.alg === alg;
  const type = key.key.asymmetricKeyType;
  if (alg.startsWith('RS') || alg.startsWith('PS')) return type === 'rsa';
  if (alg.startsWith('ES')) return type === 'ec';
  return alg === 'EdDSA' && (type === 'ed25519' || type === 'ed448');
}

/**
 * The authority's whole signing-key set, cached. An unknown `kid` refetches at most once per
 * cooldown, so a flood of random `kid`s costs at most a fetch or two while a real key rollover
 * is still picked up. A failed or broken fetch never replaces a good set; with no set at all it
 * becomes {@link SigningKeysUnavailableError} (503) for a short backoff.
 */
@Injectable()
export class SigningKeyStore {
  private readonly logger = new Logger(SigningKeyStore.name);
  private current?: KeySet;
  private inFlight?: Promise<KeySet | undefined>;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private failedUntil = 0;
  private v1Refused = false;
  /** Number of JWKS fetches attempted so far (for tests and benchmarks). */
  fetchCount = 0;
  private readonly refreshes = oboInstruments().jwksRefreshes;

  constructor(@Inject(RESOLVED_OBO_OPTIONS) private readonly options: ResolvedOboOptions) {}

  /** The metadata that came with the current key set, if any. */
  get metadata(): AuthorityMetadataDocument | undefined {
    return this.current?.metadata;
  }

  /** True when `kid` is in a key set younger than its maximum age (no fetch is made). */
  hasFreshKey(kid: string): boolean {
    const set = this.current;
    return set !== undefined && Date.now() - set.fetchedAt < this.options.jwks.cacheMaxAgeSeconds * 1000 && set.keys.has(kid);
  }

  /** Fetches the metadata and key set now (startup); `undefined` when that failed (already logged). */
  async warmUp(): Promise<AuthorityMetadataDocument | undefined> {
    // A failure here starts no backoff: the first request tries again rather than answering 503
    // for a startup hiccup.
    return (await this.refresh('startup', false))?.metadata;
  }

  /** Size, age and freshness of the current key set; `undefined` before the first successful fetch. */
  get status(): KeySetStatus | undefined {
    const set = this.current;
    if (set === undefined) return undefined;
    const ageMs = Date.now() - set.fetchedAt;
    return { keys: set.keys.size, ageSeconds: Math.floor(ageMs / 1000), fresh: ageMs < this.options.jwks.cacheMaxAgeSeconds * 1000 };
  }

  /**
   * Refreshes the key set when it is missing or older than its maximum age, unless a failed
   * refresh's backoff is running (a health check never adds load to a failing authority). Resolves
   * once done; a failure is logged as any refresh's is.
   */
  async refreshIfStale(): Promise<void> {
    if (this.status?.fresh === true || Date.now() < this.failedUntil) return;
    await this.refresh('health_check');
  }

  /**
   * @throws {UnknownSigningKeyError} when no key has this `kid`.
   * @throws {SigningKeysUnavailableError} when no key set could be fetched.
   */
  async getKey(kid: string): Promise<{ key: SigningKey; metadata: AuthorityMetadataDocument }> {
    const now = Date.now();
    const { cacheMaxAgeSeconds, cooldownSeconds } = this.options.jwks;
    let set = this.current;
    const known = set?.keys.has(kid) ?? false;
    const expired = set !== undefined && now - set.fetchedAt >= cacheMaxAgeSeconds * 1000;
    const due = !set || expired || (!known && now - this.lastAttemptAt >= cooldownSeconds * 1000);
    if (due && now >= this.failedUntil) set = (await this.refresh(!set ? 'missing' : expired ? 'expired' : 'unknown_kid')) ?? set;
    else if (!known && this.inFlight) set = (await this.inFlight) ?? set;
    if (!set) throw new SigningKeysUnavailableError((this.failedUntil - Date.now()) / 1000);
    const key = set.keys.get(kid);
    if (!key) throw new UnknownSigningKeyError();
    return { key, metadata: set.metadata };
  }

  /** One refresh at a time: a caller arriving while one runs waits for it (whatever its reason). */
  private refresh(reason: JwksRefreshReason, backoffOnFailure = true): Promise<KeySet | undefined> {
    this.inFlight ??= this.fetchKeySet(reason, backoffOnFailure).finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  /**
   * Keeps the last good v1.0 issuer when only the v1.0 document failed this time, and warns once
   * when v1.0 tokens start (or stop) being refused: one failed optional document never takes all
   * validation down, and never fills the log.
   */
  private withV1Issuer(metadata: AuthorityMetadataDocument): AuthorityMetadataDocument {
    if (metadata.v1Unavailable === undefined) {
      if (this.v1Refused) this.logger.log('v1.0 tokens are accepted again: the v1.0 discovery document is usable.');
      this.v1Refused = false;
      return metadata;
    }
    const lastGood = this.current?.metadata.issuers['1.0'];
    if (lastGood !== undefined) return { ...metadata, issuers: { ...metadata.issuers, '1.0': lastGood } };
    if (!this.v1Refused) {
      this.logger.warn(
        `v1.0 tokens are refused: ${metadata.v1Unavailable}. v2.0 tokens are not affected. Set azureCloudInstance to name the v1.0 issuer without that document, or acceptedTokenVersions: ['2.0'].`,
      );
    }
    this.v1Refused = true;
    return metadata;
  }

  /**
   * Fetches metadata and keys in an `obo.jwks.refresh` span, counted in `obo.jwks.refreshes`; a
   * failure keeps the current set, is logged once and starts the backoff (not at startup).
   */
  private async fetchKeySet(reason: JwksRefreshReason, backoffOnFailure: boolean): Promise<KeySet | undefined> {
    this.lastAttemptAt = Date.now();
    this.fetchCount++;
    const { failureBackoffSeconds } = this.options.jwks;
    try {
      this.current = await inSpan(SPAN_JWKS_REFRESH, { [ATTR_OBO_JWKS_REFRESH_REASON]: reason }, (span) => this.loadKeySet(span), metadataFailureType);
      this.refreshes.add(1, { [ATTR_OBO_JWKS_REFRESH_REASON]: reason });
      return this.current;
    } catch (error) {
      this.refreshes.add(1, { [ATTR_OBO_JWKS_REFRESH_REASON]: reason, [ATTR_ERROR_TYPE]: metadataFailureType(error) });
      if (backoffOnFailure) this.failedUntil = Date.now() + failureBackoffSeconds * 1000;
      const why = error instanceof Error ? error.message : 'unknown error';
      const outcome = this.current ? 'keeping the last good key set' : backoffOnFailure ? `answering 503 for ${failureBackoffSeconds} s` : 'the first request tries again';
      this.logger.warn(`Signing keys could not be refreshed (${why}); ${outcome}.`);
      return undefined;
    }
  }

  /** @throws {MetadataError} when the metadata or the JWKS is unusable or holds no usable key. */
  private async loadKeySet(span: Span): Promise<KeySet> {
    const { timeoutMs, maxResponseBytes } = this.options.jwks;
    const metadata = this.withV1Issuer(await loadAuthorityMetadata(this.options));
    const jwksUri = jwksUriFor(metadata.jwksUri, this.options.clientId, this.options.jwks.appSpecificKeys);
    const client = new jwksRsa.JwksClient({
      jwksUri,
      cache: false,
      rateLimit: false,
      fetcher: (uri: string) => fetchJson(uri, { timeoutMs, maxBytes: maxResponseBytes, dispatcher: this.options.egress.dispatcher }) as Promise<{ keys: unknown[] }>,
    });
    const raw: unknown = await client.getKeys().catch((error: unknown) => {
      throw new MetadataError(describeFetchFailure('the JWKS', jwksUri, error), { cause: error });
    });
    const { keys, unusable } = parseJwks(raw, this.options.algorithms);
    for (const { kid, reason } of unusable) this.logger.warn(`Signing key ${kid} is not used: ${reason}.`);
    if (span.isRecording()) span.setAttribute(ATTR_OBO_JWKS_KEY_COUNT, keys.size);
    if (keys.size === 0) throw new MetadataError(`the JWKS ${jwksUri} holds no usable signing key`);
    return { keys, metadata, fetchedAt: Date.now() };
  }
}
