import { Inject, Injectable } from '@nestjs/common';
import { loadAuthorityMetadata, metadataFailureType } from '../inbound/jwt/authority-metadata.js';
import { SigningKeyStore } from '../inbound/jwt/signing-key.store.js';
import { RESOLVED_OBO_OPTIONS } from '../options/obo-options.constants.js';
import type { ResolvedOboOptions } from '../options/resolve-obo-options.js';
import { healthResult, type OboHealthIndicatorResult } from './health-indicator-result.js';

/**
 * A `@nestjs/terminus` health indicator for the token authority, without a token request: up when
 * its metadata (discovery) document answers now and the signing keys are fresh (younger than
 * `jwks.cacheMaxAgeSeconds`; stale keys are refreshed by the check, unless a failed refresh's
 * backoff is running). Provided and exported by OboModule; `@nestjs/terminus` is not needed to load it.
 * @example
 * ```ts
 * constructor(private readonly health: HealthCheckService, private readonly authority: AuthorityHealthIndicator) {}
 * check() { return this.health.check([() => this.authority.isHealthy('authority')]); }
 * ```
 */
@Injectable()
export class AuthorityHealthIndicator {
  constructor(
    @Inject(RESOLVED_OBO_OPTIONS) private readonly options: ResolvedOboOptions,
    private readonly keys: SigningKeyStore,
  ) {}

  /**
   * Checks the authority: one GET of its metadata document (within `jwks.timeoutMs`) and, when the
   * keys are stale, a refresh of them. Details: `metadata` (`reachable` / `unreachable`, with
   * `error`: the HTTP status, `timeout`, `network`, ...), `signingKeys` (`count`, `ageSeconds`, `fresh`).
   * @param key The result's key in the health report. Default `authority`.
   */
  async isHealthy<const Key extends string = 'authority'>(key: Key = 'authority' as Key): Promise<OboHealthIndicatorResult<Key>> {
    let failure: string | undefined;
    try {
      await loadAuthorityMetadata(this.options);
      await this.keys.refreshIfStale();
    } catch (error) {
      failure = metadataFailureType(error);
    }
    const keys = this.keys.status;
    const signingKeys = keys === undefined ? { count: 0, fresh: false } : { count: keys.keys, ageSeconds: keys.ageSeconds, fresh: keys.fresh };
    const up = failure === undefined && signingKeys.fresh;
    return healthResult(key, { status: up ? 'up' : 'down', metadata: failure === undefined ? 'reachable' : 'unreachable', ...(failure === undefined ? {} : { error: failure }), signingKeys });
  }
}
