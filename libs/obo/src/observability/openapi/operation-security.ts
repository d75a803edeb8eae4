import type { ResponseObject, SecurityRequirementObject } from '@nestjs/swagger';
import type { ProtectedRoute } from '../../inbound/scopes/protected-routes.service.js';

/** Names of the security schemes the document gets (`components.securitySchemes`). */
export const OBO_SECURITY_SCHEMES = Object.freeze({
  /** OAuth 2.0 authorization code: a user signs in; requirements name the delegated scopes (`scp`). */
  delegated: 'oauth2',
  /** OAuth 2.0 client credentials: an app-only token; its `roles` must hold an operation's app permission. */
  application: 'oauth2_app',
  /** HTTP bearer, JWT: any token obtained elsewhere, pasted in. */
  bearer: 'bearer',
} as const);

/** How route requirements are written down at this authority. */
export interface RequirementNaming {
  /** Prepended to a route's scope to name the scope a client requests (`api://<client id>/`; empty at most generic authorities). */
  readonly scopePrefix: string;
  /** The scope an app-only client requests (Entra ID: `<App ID URI>/.default`); none elsewhere. */
  readonly appScope?: string;
  /** Whether the authority has an authorization endpoint (else no delegated scheme) and a token endpoint (else no app scheme). */
  readonly delegated: boolean;
  readonly application: boolean;
  /** `allowedClientApplications` is set: any guarded operation can answer 403. */
  readonly clientAllowList: boolean;
}

/** What one route's operations get. */
export interface OperationSecurity {
  /** `[]` for a public route; `undefined` for a route no guard of ours sees (left as the app described it). */
  readonly security?: SecurityRequirementObject[];
  readonly extensions: Readonly<Record<`x-${string}`, unknown>>;
  /** Added when the operation does not describe that status itself. */
  readonly responses: Readonly<Record<string, ResponseObject>>;
}

const ERROR_BODY = { 'application/json': { schema: { $ref: '#/components/schemas/OboErrorBody' } } };
const CHALLENGE = {
  description: 'The RFC 6750 §3 Bearer challenge: error, error_description, scope, and resource_metadata (RFC 9728 §5.1) when published.',
  schema: { type: 'string' },
};

/**
 * The security of a route's operations, as the guards enforce it (OpenAPI 3, Security Requirement
 * Object: the list is a choice; within one requirement object every scope is needed):
 * - public: `[]`, explicitly none;
 * - each delegated scope, any one of which a user token must hold: its own requirement;
 * - app permissions: the app scheme (Entra ID: `.default`, which brings the app's granted roles);
 * - no scope and no permission: any user token, and any app token unless step-up is asked;
 * - always the bearer scheme as the last choice, for a token obtained elsewhere.
 * The exact values the guard compares travel in `x-required-scopes`, `x-required-app-permissions`
 * and `x-required-authentication`.
 */
export function operationSecurity(route: ProtectedRoute, naming: RequirementNaming): OperationSecurity {
  if (route.isPublic) return { security: [], extensions: {}, responses: {} };
  if (!route.guarded) return { extensions: {}, responses: {} };
  const { scopes, appPermissions, authentication } = route;
  const { delegated, application, bearer } = OBO_SECURITY_SCHEMES;
  const security: SecurityRequirementObject[] = [];
  if (naming.delegated) {
    if (scopes.length > 0) for (const scope of scopes) security.push({ [delegated]: [naming.scopePrefix + scope] });
    else if (appPermissions.length === 0) security.push({ [delegated]: [] });
  }
  const appsPass = appPermissions.length > 0 || (scopes.length === 0 && !authentication);
  if (naming.application && appsPass) security.push({ [application]: naming.appScope ? [naming.appScope] : [] });
  security.push({ [bearer]: [] });

  const extensions: Record<`x-${string}`, unknown> = {
    ...(scopes.length > 0 ? { 'x-required-scopes': [...scopes] } : {}),
    ...(appPermissions.length > 0 ? { 'x-required-app-permissions': [...appPermissions] } : {}),
    ...(authentication ? { 'x-required-authentication': { ...authentication } } : {}),
  };
  const stepUp = authentication ? ', or the user authenticated too weakly or too long ago for x-required-authentication (RFC 9470 insufficient_user_authentication)' : '';
  const responses: Record<string, ResponseObject> = {
    401: { description: `No access token, or an invalid or expired one (RFC 6750 §3.1)${stepUp}.`, headers: { 'WWW-Authenticate': CHALLENGE }, content: ERROR_BODY },
  };
  if (scopes.length > 0 || appPermissions.length > 0 || authentication || naming.clientAllowList) {
    responses[403] = {
      description: 'The token holds none of the scopes or app permissions the operation accepts, or its client is not allowed (RFC 6750 §3.1 insufficient_scope).',
      headers: { 'WWW-Authenticate': CHALLENGE },
      content: ERROR_BODY,
    };
  }
  return { security, extensions, responses };
}

/** `components.schemas.OboErrorBody`: the body of every 401 and 403 (`OboErrorBody`). */
export const OBO_ERROR_BODY_SCHEMA = Object.freeze({
  type: 'object',
  required: ['statusCode', 'code', 'message'],
  properties: {
    statusCode: { type: 'integer', example: 401 },
    code: { type: 'string', description: 'A stable ERR_OBO_* code; switch on it, never on message.', example: 'ERR_OBO_TOKEN_MISSING' },
    message: { type: 'string', description: 'One generic sentence per kind of refusal.' },
  },
});
