import type { INestApplication } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { SwaggerModule, type OpenAPIObject, type SwaggerDocumentOptions } from '@nestjs/swagger';
import { OboError } from '../../errors/obo.error.js';
import { SigningKeyStore } from '../../inbound/jwt/signing-key.store.js';
import { ProtectedRoutes } from '../../inbound/scopes/protected-routes.service.js';
import { OBO_GLOBAL_GUARD, RESOLVED_OBO_OPTIONS } from '../../options/obo-options.constants.js';
import type { ResolvedOboOptions } from '../../options/resolve-obo-options.js';
import { applySecurity } from './apply-security.js';
import { checkEnforcement } from '../../inbound/scopes/check-enforcement.js';
import { OBO_SECURITY_SCHEMES } from './operation-security.js';
import { withRouteMarkers } from './route-markers.js';
import { authorityEndpoints, requirementNaming } from './security-schemes.js';

/** Options of {@link OboSwagger.createDocument} that are ours, not `@nestjs/swagger`'s. */
export interface OboOpenApiOptions {
  /**
   * Consent text per delegated scope, keyed by the scope as `@RequiredScopes` names it: the
   * descriptions of the authorization code flow's `scopes`. Default: `Delegated permission "<scope>"`.
   */
  readonly scopeDescriptions?: Readonly<Record<string, string>>;
}

/**
 * OpenAPI documents whose security is read from the same decorators the guards enforce
 * (`@Public`, `@RequiredScopes`, `@RequiredAppPermissions`, `@RequiredAuthentication`), so the two
 * cannot disagree. From `nestjs-obo/swagger`; needs the optional peer `@nestjs/swagger`.
 */
export class OboSwagger {
  /**
   * `SwaggerModule.createDocument(app, config, options)`, plus the security the guards enforce:
   * - `components.securitySchemes`: `oauth2` (authorization code at the authority, with every
   *   scope a route asks for, as a client requests it), `oauth2_app` (client credentials) and
   *   `bearer` (HTTP bearer, JWT), each only when an operation names it (see `OBO_SECURITY_SCHEMES`);
   * - per operation: `security` (`[]` for `@Public()`; one requirement per accepted scope; the app
   *   scheme where app tokens pass; `bearer` last), `x-required-scopes`,
   *   `x-required-app-permissions`, `x-required-authentication`, and 401 / 403 responses with the
   *   `WWW-Authenticate` header unless the operation describes them itself. Routes no guard of ours
   *   runs on keep what the app wrote.
   * Operations are matched to their handlers through `@nestjs/swagger`'s own metadata, never by
   * path or `operationId`: prefixes, versions, `RouterModule` paths, a custom `operationIdFactory`
   * and inherited handlers all work. Call it once the app is created (`NestFactory.create`).
   * @throws {OboConfigurationError} `ERR_OBO_CONFIG_INVALID` when a route asks for scopes, app
   *   permissions or step-up that no guard checks.
   * @throws {OboError} `ERR_OBO_CONFIG_INVALID` when OboModule is not in the app or `config` already
   *   declares a scheme named like ours.
   * @throws {OboError} `ERR_OBO_SIGNING_KEYS_UNAVAILABLE` when a generic authority's metadata cannot be fetched.
   * @example
   * const config = new DocumentBuilder().setTitle('Orders').build();
   * SwaggerModule.setup('docs', app, await OboSwagger.createDocument(app, config));
   */
  static async createDocument(
    app: INestApplication,
    config: Omit<OpenAPIObject, 'paths'>,
    options?: SwaggerDocumentOptions,
    oboOptions: OboOpenApiOptions = {},
  ): Promise<OpenAPIObject> {
    const resolved = lookUp<ResolvedOboOptions>(app, RESOLVED_OBO_OPTIONS);
    const routes = lookUp(app, ProtectedRoutes).list();
    const globalGuard = lookUp<boolean>(app, OBO_GLOBAL_GUARD);
    for (const route of routes) checkEnforcement(route, globalGuard);
    const taken = Object.values(OBO_SECURITY_SCHEMES).find((name) => config.components?.securitySchemes?.[name] !== undefined);
    if (taken !== undefined) {
      throw new OboError('ERR_OBO_CONFIG_INVALID', `The document's config already declares the security scheme "${taken}", which OboSwagger.createDocument declares: remove it from the DocumentBuilder (addOAuth2 / addBearerAuth / addSecurity).`);
    }
    const endpoints = await authorityEndpoints(resolved, lookUp(app, SigningKeyStore));
    const document = withRouteMarkers(routes, () => SwaggerModule.createDocument(app, config, options));
    applySecurity(document, routes, {
      naming: requirementNaming(resolved, endpoints),
      endpoints,
      authority: resolved.authority.kind === 'oidc' ? resolved.authority.issuer : `${resolved.instance}${resolved.multiTenant ? 'organizations' : resolved.tenantId}`,
      scopeDescriptions: oboOptions.scopeDescriptions ?? {},
    });
    return document;
  }
}

/**
 * The provider `token` of OboModule, found in the app's modules. Not `app.get()`: a miss there ends
 * the process (Nest's `abortOnError` default) instead of throwing.
 */
function lookUp<T>(app: INestApplication, token: symbol | (abstract new (...args: never[]) => T)): T {
  for (const module of app.get(ModulesContainer).values()) {
    const wrapper = module.providers.get(token as never);
    if (wrapper?.instance !== undefined) return wrapper.instance as T;
  }
  throw new OboError('ERR_OBO_CONFIG_INVALID', 'OboSwagger.createDocument needs OboModule imported by the application.');
}
