import { Inject, Injectable } from '@nestjs/common';
import { RESOLVED_OBO_OPTIONS } from '../../options/obo-options.constants.js';
import type { ResolvedOboOptions } from '../../options/resolve-obo-options.js';
import { SigningKeyStore } from '../jwt/signing-key.store.js';
import { ProtectedRoutes } from '../scopes/protected-routes.service.js';

/** The RFC 9728 §2 document this resource publishes (members it does not use are left out). */
export interface ProtectedResourceMetadataDocument {
  readonly resource: string;
  readonly authorization_servers: readonly string[];
  readonly scopes_supported: readonly string[];
  readonly bearer_methods_supported: readonly ['header'];
  readonly resource_name?: string;
  readonly resource_documentation?: string;
  readonly jwks_uri?: string;
  readonly resource_signing_alg_values_supported?: readonly string[];
}

/** The authority's issuer could not be learned yet (its discovery document failed): answer 503, retry later. */
export class AuthorizationServerUnknownError extends Error {
  override readonly name = 'AuthorizationServerUnknownError';
}

/** Scopes a client must not be told to ask an MCP resource for (MCP authorization, "Scope selection"). */
const NOT_ADVERTISED = new Set(['offline_access']);

/**
 * Builds the API's RFC 9728 protected-resource metadata from the options and the routes'
 * decorators: `authorization_servers` is the authority's issuer (each allowed tenant's, for a
 * multi-tenant Entra ID API), `scopes_supported` every scope a guarded route asks for, as a client
 * requests it (`protectedResource.scopePrefix`), `bearer_methods_supported` `["header"]` (tokens are
 * read from the `Authorization` header only).
 */
@Injectable()
export class ProtectedResourceMetadata {
  private document?: ProtectedResourceMetadataDocument;

  constructor(
    @Inject(RESOLVED_OBO_OPTIONS) private readonly options: ResolvedOboOptions,
    private readonly routes: ProtectedRoutes,
    private readonly keys: SigningKeyStore,
  ) {}

  /**
   * The document; built once, when the authority's issuer is first known.
   * @throws {AuthorizationServerUnknownError} while an Entra ID discovery document cannot be fetched.
   */
  async metadata(): Promise<ProtectedResourceMetadataDocument> {
    if (this.document) return this.document;
    const resource = this.options.protectedResource;
    if (!resource) throw new TypeError('protectedResource is not configured');
    const prefix = resource.scopePrefix;
    this.document = Object.freeze({
      resource: resource.resource,
      authorization_servers: Object.freeze(await this.authorizationServers()),
      scopes_supported: Object.freeze(this.routes.scopes().filter((scope) => !NOT_ADVERTISED.has(scope)).map((scope) => prefix + scope)),
      bearer_methods_supported: Object.freeze(['header'] as const),
      ...(resource.resourceName === undefined ? {} : { resource_name: resource.resourceName }),
      ...(resource.resourceDocumentation === undefined ? {} : { resource_documentation: resource.resourceDocumentation }),
      ...(resource.jwksUri === undefined ? {} : { jwks_uri: resource.jwksUri }),
      ...(resource.resourceSigningAlgValuesSupported === undefined ? {} : { resource_signing_alg_values_supported: resource.resourceSigningAlgValuesSupported }),
    });
    return this.document;
  }

  private async authorizationServers(): Promise<string[]> {
    const authority = this.options.authority;
    if (authority.kind === 'oidc') return [authority.issuer];
    const issuer = (this.keys.metadata ?? (await this.keys.warmUp()))?.issuerV2;
    if (issuer === undefined) throw new AuthorizationServerUnknownError('the authority discovery document is unavailable');
    // A multi-tenant API's issuer is a template: one authorization server per tenant it accepts.
    return this.options.multiTenant ? [...this.options.allowedTenants].sort().map((tenant) => issuer.replace('{tenantid}', tenant)) : [issuer];
  }
}
