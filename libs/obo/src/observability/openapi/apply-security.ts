import type { OpenAPIObject, OperationObject, PathItemObject } from '@nestjs/swagger';
import { OboError } from '../../errors/obo.error.js';
import type { ProtectedRoute } from '../../inbound/scopes/protected-routes.service.js';
import { OBO_ERROR_BODY_SCHEMA, operationSecurity, type RequirementNaming } from './operation-security.js';
import { ROUTE_MARKER } from './route-markers.js';
import { securitySchemes, type AuthorityEndpoints } from './security-schemes.js';

/** What {@link applySecurity} needs besides the document and the routes. */
export interface SecurityContext {
  readonly naming: RequirementNaming;
  readonly endpoints: AuthorityEndpoints;
  /** The issuer or authority, for the schemes' descriptions. */
  readonly authority: string;
  /** Consent text per route scope. */
  readonly scopeDescriptions: Readonly<Record<string, string>>;
}

/** The keys of a Path Item that are operations (`@nestjs/swagger` also emits `search` for `@All()`). */
const OPERATION_KEYS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace', 'query', 'search']);

type MarkedOperation = OperationObject & Record<string, unknown>;

/**
 * Writes each marked operation's security (see `operationSecurity`) and the schemes they name into
 * `document`, in place, and removes every marker. Webhooks (calls the API makes) only lose theirs.
 * @throws {OboError} `ERR_OBO_CONFIG_INVALID` for an operation that carries no marker: this
 *   `@nestjs/swagger` does not copy handler extensions into operations, and the document could not
 *   be told apart from a wrong one.
 */
export function applySecurity(document: OpenAPIObject, routes: readonly ProtectedRoute[], context: SecurityContext): void {
  const used = new Set<string>();
  const delegatedScopes = new Map<string, string>();
  let describesErrors = false;
  for (const [path, operation] of operationsOf(document.paths)) {
    const index = operation[ROUTE_MARKER];
    delete operation[ROUTE_MARKER];
    const route = typeof index === 'number' ? routes[index] : undefined;
    if (!route) {
      throw new OboError('ERR_OBO_CONFIG_INVALID', `OboSwagger.createDocument cannot tell which route ${path} is: this version of @nestjs/swagger is not supported (12.x is).`);
    }
    const { security, extensions, responses } = operationSecurity(route, context.naming);
    if (security === undefined) continue;
    operation.security = security;
    Object.assign(operation, extensions);
    for (const [status, response] of Object.entries(responses)) {
      if (operation.responses[status] !== undefined) continue;
      operation.responses[status] = structuredClone(response);
      describesErrors = true;
    }
    for (const requirement of security) for (const name of Object.keys(requirement)) used.add(name);
    for (const scope of route.scopes) delegatedScopes.set(context.naming.scopePrefix + scope, context.scopeDescriptions[scope] ?? `Delegated permission "${scope}"`);
  }
  for (const [, operation] of operationsOf(document.webhooks ?? {})) delete operation[ROUTE_MARKER];
  if (used.size === 0) return;
  const components = (document.components ??= {});
  components.securitySchemes = {
    ...components.securitySchemes,
    ...securitySchemes({ endpoints: context.endpoints, delegatedScopes: sorted(delegatedScopes), appScope: context.naming.appScope, used, authority: context.authority }),
  };
  if (describesErrors) components.schemas = { OboErrorBody: structuredClone(OBO_ERROR_BODY_SCHEMA), ...components.schemas };
}

/** `[where, operation]` for every operation of `paths` (or webhooks). */
function* operationsOf(paths: Record<string, PathItemObject>): Generator<[string, MarkedOperation]> {
  for (const [path, item] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(item as Record<string, unknown>)) {
      if (OPERATION_KEYS.has(method) && typeof operation === 'object' && operation !== null) yield [`${method.toUpperCase()} ${path}`, operation as MarkedOperation];
    }
  }
}

function sorted(map: ReadonlyMap<string, string>): Map<string, string> {
  return new Map([...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
