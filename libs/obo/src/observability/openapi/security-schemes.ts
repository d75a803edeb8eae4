import type { SecuritySchemeObject } from '@nestjs/swagger';
import { authorizeEndpoint, tokenEndpoint } from '../../authority/entra-authority.js';
import { OboError } from '../../errors/obo.error.js';
import type { SigningKeyStore } from '../../inbound/jwt/signing-key.store.js';
import { entraScopePrefix, type ResolvedOboOptions } from '../../options/resolve-obo-options.js';
import { OBO_SECURITY_SCHEMES, type RequirementNaming } from './operation-security.js';

/** Where a client gets tokens: the authority's authorization and token endpoints. */
export interface AuthorityEndpoints {
  readonly authorizationUrl?: string;
  readonly tokenUrl?: string;
}

/**
 * Entra ID: the endpoints the module's own challenges name (the tenant, or `organizations` when
 * multi-tenant), built without a request. Other authorities: `authorization_endpoint` and
 * `token_endpoint` of the discovery document validation already loads (fetched now if it is not).
 * @throws {OboError} `ERR_OBO_SIGNING_KEYS_UNAVAILABLE` when that document cannot be had.
 */
export async function authorityEndpoints(options: ResolvedOboOptions, keys: SigningKeyStore): Promise<AuthorityEndpoints> {
  if (options.authority.kind === 'entra') {
    return {
      authorizationUrl: authorizeEndpoint(options.instance, options.tenantId, options.multiTenant),
      tokenUrl: tokenEndpoint(options.instance, options.tenantId, options.multiTenant),
    };
  }
  const metadata = keys.metadata ?? (await keys.warmUp());
  if (!metadata) {
    throw new OboError(
      'ERR_OBO_SIGNING_KEYS_UNAVAILABLE',
      `The metadata of ${options.authority.issuer} could not be fetched, and the OpenAPI document names its endpoints: create the document once the authority answers (the startup log says why it did not).`,
    );
  }
  return { authorizationUrl: metadata.authorizationEndpoint, tokenUrl: metadata.tokenEndpoint };
}

/** How requirements are named at this authority (see {@link RequirementNaming}). */
export function requirementNaming(options: ResolvedOboOptions, endpoints: AuthorityEndpoints): RequirementNaming {
  const entra = options.provider === 'entra';
  return {
    // The same prefix the RFC 9728 metadata uses; without protectedResource, the authority's default.
    scopePrefix: options.protectedResource?.scopePrefix ?? (entra ? entraScopePrefix(options) : ''),
    appScope: entra ? `${entraScopePrefix(options)}.default` : undefined,
    delegated: endpoints.authorizationUrl !== undefined && endpoints.tokenUrl !== undefined,
    application: endpoints.tokenUrl !== undefined,
    clientAllowList: options.allowedClientApplications !== undefined,
  };
}

/** What the schemes are built from: the endpoints and every scope the operations name. */
export interface SchemeInputs {
  readonly endpoints: AuthorityEndpoints;
  /** Requested scope (prefixed) -> consent text, for the authorization code flow. */
  readonly delegatedScopes: ReadonlyMap<string, string>;
  readonly appScope?: string;
  /** The schemes some operation names; the others are left out. */
  readonly used: ReadonlySet<string>;
  /** The issuer or authority, for the descriptions. */
  readonly authority: string;
}

/** `components.securitySchemes` for the schemes in use (OpenAPI 3, Security Scheme Object). */
export function securitySchemes(inputs: SchemeInputs): Record<string, SecuritySchemeObject> {
  const { endpoints, used } = inputs;
  const { delegated, application, bearer } = OBO_SECURITY_SCHEMES;
  const schemes: Record<string, SecuritySchemeObject> = {};
  if (used.has(delegated)) {
    schemes[delegated] = {
      type: 'oauth2',
      description: `A user signs in at ${inputs.authority} (authorization code with PKCE). An operation lists the scopes it accepts, one per requirement: any one of them is enough.`,
      flows: { authorizationCode: { authorizationUrl: endpoints.authorizationUrl!, tokenUrl: endpoints.tokenUrl!, scopes: Object.fromEntries(inputs.delegatedScopes) } },
    };
  }
  if (used.has(application)) {
    const scopes = inputs.appScope ? { [inputs.appScope]: 'The app permissions (app roles) granted to the calling application.' } : {};
    schemes[application] = {
      type: 'oauth2',
      description: `An app-only token (client credentials) from ${inputs.authority}. Its roles must hold one of the operation's x-required-app-permissions.`,
      flows: { clientCredentials: { tokenUrl: endpoints.tokenUrl!, scopes } },
    };
  }
  if (used.has(bearer)) {
    schemes[bearer] = {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description: `An access token from ${inputs.authority} in the Authorization header (RFC 6750 §2.1), checked as the others are: a user token's scopes against x-required-scopes, an app token's roles against x-required-app-permissions.`,
    };
  }
  return schemes;
}
