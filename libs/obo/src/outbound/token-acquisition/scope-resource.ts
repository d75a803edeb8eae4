/**
 * Entra's resource rules for the scopes of one token request. A scope is `<resource>/<permission>`
 * (the resource is everything before the last `/`); a scope without `/` (`User.Read`) is a
 * Microsoft Graph permission; `openid`, `profile`, `email` and `offline_access` are OpenID Connect
 * scopes that name no resource. One token request gets a token for one resource, and `.default`
 * (every permission granted to the app) stands alone for its resource.
 */

/** OpenID Connect scopes: they name no resource. */
export const OIDC_SCOPES: ReadonlySet<string> = new Set(['openid', 'profile', 'email', 'offline_access']);

/** Microsoft Graph's application id: the v2.0 `aud` of Graph tokens in every cloud. */
export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';

/** Graph's resource URIs per cloud (public, US Government L4/L5, China): the v1.0 `aud` of Graph tokens. */
export const GRAPH_RESOURCES: ReadonlySet<string> = new Set([
  'https://graph.microsoft.com',
  'https://graph.microsoft.us',
  'https://dod-graph.microsoft.us',
  'https://microsoftgraph.chinacloudapi.cn',
]);

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The resource of a scope as written (trailing slashes dropped); `undefined` for an OpenID Connect scope. */
export function resourceOf(scope: string): string | undefined {
  if (OIDC_SCOPES.has(scope)) return undefined;
  const slash = scope.lastIndexOf('/');
  if (slash < 0) return 'https://graph.microsoft.com';
  return scope.slice(0, slash).replace(/\/+$/, '');
}

/**
 * One spelling per resource, to tell whether two scopes name the same one: lower case, `api://<guid>`
 * and `<guid>` as the GUID, every Graph URI and Graph's app id as Graph's app id.
 */
export function resourceIdentity(resource: string): string {
  const lower = resource.toLowerCase();
  if (GRAPH_RESOURCES.has(lower)) return GRAPH_APP_ID;
  const guid = lower.startsWith('api://') ? lower.slice('api://'.length) : lower;
  return GUID.test(guid) ? guid : lower;
}

/** The distinct resources of `scopes`, as first written. */
export function resourcesOf(scopes: readonly string[]): string[] {
  const seen = new Map<string, string>();
  for (const scope of scopes) {
    const resource = resourceOf(scope);
    if (resource !== undefined && !seen.has(resourceIdentity(resource))) seen.set(resourceIdentity(resource), resource);
  }
  return [...seen.values()];
}

/**
 * Why `scopes` cannot be one token request of `kind`, with the fix; `undefined` when they can.
 * User (On-Behalf-Of): one resource, `.default` alone; app-only: exactly one `<resource>/.default`.
 */
export function scopeRuleViolation(kind: 'user' | 'app', scopes: readonly string[]): string | undefined {
  const malformed = scopes.find((s) => {
    const resource = resourceOf(s);
    return resource !== undefined && (resource === '' || resource.endsWith(':') || s.endsWith('/'));
  });
  if (malformed !== undefined) return `names no resource in "${malformed}": write scopes as "<resource>/<permission>", e.g. "api://<id>/access_as_user".`;
  const resources = resourcesOf(scopes);
  const named = `(${resources.map((r) => `"${r}"`).join(', ')})`;
  if (kind === 'app') {
    if (resources.length > 1) {
      return `names ${resources.length} resources ${named}; an app-only token is for one resource: configure one downstream API per resource, each with one "<resource>/.default" scope.`;
    }
    if (scopes.length !== 1 || !scopes[0]!.endsWith('/.default')) {
      const resource = resources[0] ?? 'https://graph.microsoft.com';
      return `must be exactly one "<resource>/.default" scope for an app-only API (it gets the application permissions granted to this app, never named ones): use ["${resource}/.default"].`;
    }
    return undefined;
  }
  if (resources.length === 0) return 'names no scope of a downstream API (OpenID Connect scopes only): add one, e.g. "api://<id>/access_as_user".';
  if (resources.length > 1) {
    return `names ${resources.length} resources ${named}; one token request gets a token for one resource: configure one downstream API per resource.`;
  }
  const dotDefault = scopes.find((s) => s.endsWith('/.default'));
  if (dotDefault !== undefined && scopes.length > 1) {
    return `mixes "${dotDefault}" with other scopes; ".default" stands alone for its resource: keep only ["${dotDefault}"], or list the named scopes without it.`;
  }
  return undefined;
}
