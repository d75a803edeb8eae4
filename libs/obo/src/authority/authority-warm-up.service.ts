import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { AuthError } from '@azure/msal-node';
import { OboConfigurationError } from '../errors/obo.error.js';
import type { AuthorityMetadataDocument } from '../inbound/jwt/authority-metadata.js';
import type { AccessTokenVersion } from '../options/obo-module-options.interface.js';
import { SigningKeyStore } from '../inbound/jwt/signing-key.store.js';
import { RESOLVED_OBO_OPTIONS } from '../options/obo-options.constants.js';
import type { ResolvedOboOptions } from '../options/resolve-obo-options.js';
import { CONFIDENTIAL_CLIENT, type ConfidentialClient } from '../outbound/token-acquisition/confidential-client.provider.js';
import { explainResolutionFailure, isResolutionFailure } from '../outbound/token-acquisition/authority-resolution.js';
import { jwksUriFor } from '../inbound/jwt/jwks-keys.js';
import { tenantAuthority } from './entra-authority.js';

function hostOf(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    return new URL(url).host;
  } catch {
    return undefined; // a Redis client object or an unparsable URL: nothing to list
  }
}

/**
 * At startup, loads the authority's metadata and signing keys once, has msal-node resolve the
 * token authority when a client credential is configured, and logs what operators allow-list:
 * the effective issuers, the JWKS URI and every outbound host. A failure to reach the authority
 * is a warning (requests answer 503 with `Retry-After` until it is reachable, then recover); an
 * authority that answers with metadata msal-node refuses is a configuration error.
 */
@Injectable()
export class AuthorityWarmUp implements OnApplicationBootstrap {
  private readonly logger = new Logger('OboModule');

  constructor(
    @Inject(RESOLVED_OBO_OPTIONS) private readonly options: ResolvedOboOptions,
    private readonly keys: SigningKeyStore,
    @Inject(CONFIDENTIAL_CLIENT) private readonly client: ConfidentialClient | null,
  ) {}

  /** @throws {OboConfigurationError} when the authority is reachable but msal-node refuses its metadata. */
  async onApplicationBootstrap(): Promise<void> {
    const metadata = await this.keys.warmUp();
    if (metadata && this.client && this.options.authority.kind === 'entra') await this.checkTokenAuthority(this.client);
    this.logger.log(this.options.authority.kind === 'entra' ? this.describe(metadata) : this.describeOidc(metadata));
  }

  /**
   * msal-node validates the discovery `issuer` against the authority's host and `knownAuthorities`.
   * A refusal of what the authority answered is a configuration error; a discovery request that
   * failed (timeout, 5xx, 429) is an outage, logged, and retried by token requests.
   */
  private async checkTokenAuthority(client: ConfidentialClient): Promise<void> {
    const { instance, tenantId, multiTenant, knownAuthorities } = this.options;
    const authority = tenantAuthority(instance, multiTenant ? 'organizations' : tenantId);
    try {
      // Resolves the authority (one discovery request, kept by msal for 24 h) and sends nothing else.
      await client.application.getAuthCodeUrl({ scopes: ['openid'], redirectUri: 'https://localhost/', authority });
    } catch (error) {
      if (!isResolutionFailure(error)) {
        this.logger.warn(`msal-node could not resolve the token authority ${authority} at startup (${error instanceof AuthError ? error.errorCode : 'unexpected error'}); token requests will retry.`);
        return;
      }
      const { reason, transient } = explainResolutionFailure(client.network.discoveryAnswer(authority), knownAuthorities, (error as AuthError).errorCode);
      if (transient) {
        this.logger.warn(`msal-node could not resolve the token authority ${authority} at startup: ${reason}; token requests will retry.`);
        return;
      }
      throw new OboConfigurationError('knownAuthorities', `does not let msal-node use the token authority ${authority}: ${reason}.`);
    }
  }

  /** The hosts every deployment must reach besides the authority's: downstream APIs and Redis. */
  private addCommonHosts(hosts: Set<string>): void {
    for (const api of this.options.downstreamApis.values()) hosts.add(new URL(api.baseUrl).host);
    const redis = this.options.distributedCache?.redis;
    const redisHost = typeof redis === 'string' ? hostOf(redis) : undefined;
    if (redisHost) hosts.add(redisHost);
  }

  private describeOidc(metadata: AuthorityMetadataDocument | undefined): string {
    const { authority, tokenProfile } = this.options;
    if (authority.kind !== 'oidc') throw new Error('unreachable');
    const hosts = new Set<string>([new URL(authority.metadataUrls[0]!).host]);
    for (const url of [metadata?.jwksUri, metadata?.tokenEndpoint]) {
      const host = hostOf(url);
      if (host) hosts.add(host);
    }
    this.addCommonHosts(hosts);
    const outbound = `outbound hosts ${[...hosts].join(', ')}`;
    if (!metadata) return `Authority ${authority.issuer} (${tokenProfile} profile) not reachable at startup: protected routes answer 503 with Retry-After until it is; ${outbound}.`;
    return `Authority ${authority.issuer} (${tokenProfile} profile): issuer ${authority.issuer}; JWKS ${metadata.jwksUri}; token endpoint ${metadata.tokenEndpoint ?? 'none'}; ${outbound}.`;
  }

  private describe(metadata: AuthorityMetadataDocument | undefined): string {
    const { authority, acceptedTokenVersions, instance, multiTenant, tenantId, clientId, jwks } = this.options;
    if (authority.kind !== 'entra') throw new Error('unreachable');
    const cloud = authority.cloud ?? 'cloud not in the table';
    // Hosts known from configuration are listed even when the authority cannot be reached: that is
    // when an operator fixing a firewall needs them.
    const hosts = new Set<string>([new URL(authority.discoveryUrlV2).host]);
    const jwksUri = metadata ? jwksUriFor(metadata.jwksUri, clientId, jwks.appSpecificKeys) : undefined;
    for (const url of [authority.discoveryUrlV1, jwksUri, this.client ? metadata?.tokenEndpoint : undefined]) {
      const host = hostOf(url);
      if (host) hosts.add(host);
    }
    this.addCommonHosts(hosts);
    const outbound = `outbound hosts ${[...hosts].join(', ')}`;
    if (!metadata) {
      return `Authority ${instance} (${authority.flavour}, ${cloud}) not reachable at startup: protected routes answer 503 with Retry-After until it is; ${outbound}.`;
    }
    const issuerOf = (version: AccessTokenVersion) => {
      const issuer = metadata.issuers[version];
      if (issuer === undefined) return 'refused (see the warning above)';
      return multiTenant ? issuer : issuer.replaceAll('{tenantid}', tenantId);
    };
    const issuers = [...acceptedTokenVersions]
      .sort()
      .map((version) => `v${version} ${issuerOf(version)}`)
      .join(', ');
    return `Authority ${instance} (${authority.flavour}, ${cloud}): issuers ${issuers}; JWKS ${jwksUri}; ${outbound}.`;
  }
}
