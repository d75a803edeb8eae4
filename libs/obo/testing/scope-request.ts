import { identifierUriOf, type AppRegistration, type AppRegistry } from './app-registrations.js';
import { invalidRequest, invalidScope, invalidTarget } from './token-errors.js';

/** Scopes msal adds to every user request; the token endpoint ignores them. */
export const OIDC_SCOPES: ReadonlySet<string> = new Set(['openid', 'profile', 'email', 'offline_access']);

/** Delegated scopes granted on one resource. */
export interface ScopeGrant {
  /** The resource (API) the token is for. */
  readonly resource: AppRegistration;
  /** Scope names, for the `scp` claim. */
  readonly names: readonly string[];
  /** Full scope strings for the response's `scope` (a requested `<resource>/.default` is echoed too). */
  readonly granted: readonly string[];
}

/**
 * Parses a delegated `scope` parameter: space-separated `<identifierUri or clientId>/<name>`
 * strings of ONE registered resource (OIDC scopes ignored); `<resource>/.default` stands for all
 * the scopes the resource exposes. Unknown resources or names are `invalid_scope`.
 */
export function parseDelegatedScopes(scope: string | undefined, registry: AppRegistry): ScopeGrant {
  const requested = splitScopes(scope);
  if (requested.length === 0) throw invalidScope("The provided request must include a 'scope' input parameter.");
  let resource: AppRegistration | undefined;
  let prefix = '';
  const names = new Set<string>();
  let wantsDefault = false;
  for (const item of requested) {
    const slash = item.lastIndexOf('/');
    const app = slash > 0 ? registry.resolveResource(item.slice(0, slash)) : undefined;
    if (!app) throw invalidScope(`The resource principal of scope '${item}' was not found in the tenant.`, 500011);
    if (resource && resource.clientId !== app.clientId) {
      throw invalidScope('The scopes requested must all belong to one resource.', 28000);
    }
    resource = app;
    prefix = item.slice(0, slash);
    const name = item.slice(slash + 1);
    if (name === '.default') {
      wantsDefault = true;
      for (const exposed of app.scopes ?? []) names.add(exposed);
    } else if ((app.scopes ?? []).includes(name)) {
      names.add(name);
    } else {
      throw invalidScope(`The application '${app.clientId}' asked for scope '${name}' that doesn't exist on the resource.`, 70011);
    }
  }
  if (!resource || names.size === 0) throw invalidScope(`The resource exposes no delegated scopes.`, 70011);
  const granted = [...names].map((name) => `${prefix}/${name}`);
  return { resource, names: [...names], granted: wantsDefault ? [...granted, `${prefix}/.default`] : granted };
}

/** The resource of a client-credentials `scope`: exactly one `<identifierUri or clientId>/.default`. */
export function parseDefaultScope(scope: string | undefined, registry: AppRegistry): AppRegistration {
  const requested = splitScopes(scope);
  if (requested.length !== 1 || !requested[0]!.endsWith('/.default')) {
    throw invalidScope("The provided value for the input parameter 'scope' is not valid. The scope must be one '<resource>/.default'.", 1002012);
  }
  const identifier = requested[0]!.slice(0, -'/.default'.length);
  const app = registry.resolveResource(identifier);
  if (!app) throw invalidScope(`The resource principal named ${identifier} was not found in the tenant.`, 500011);
  return app;
}

/**
 * RFC 8693 target: `audience` (or `resource`) names a registered API and/or `scope` lists its
 * scopes. An unknown audience is `invalid_target`; with only an audience, all its scopes are granted.
 */
export function parseExchangeTarget(form: Readonly<Record<string, string>>, registry: AppRegistry): ScopeGrant {
  const audience = form.audience ?? form.resource;
  if (audience === undefined) {
    if (form.scope === undefined) throw invalidRequest("The request must contain 'scope' or 'audience'.");
    return parseDelegatedScopes(form.scope, registry);
  }
  const resource = registry.resolveResource(audience);
  if (!resource) throw invalidTarget(`The requested audience '${audience}' is not a known resource.`);
  if (form.scope !== undefined) {
    const grant = parseDelegatedScopes(form.scope, registry);
    if (grant.resource.clientId !== resource.clientId) throw invalidTarget('The requested scope does not belong to the requested audience.');
    return grant;
  }
  const names = resource.scopes ?? [];
  if (names.length === 0) throw invalidScope(`The resource '${audience}' exposes no delegated scopes.`, 70011);
  return { resource, names, granted: names.map((name) => `${identifierUriOf(resource)}/${name}`) };
}

function splitScopes(scope: string | undefined): string[] {
  return (scope ?? '').split(' ').filter((s) => s.length > 0 && !OIDC_SCOPES.has(s));
}
