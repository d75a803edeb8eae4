import { OboError } from '../../errors/obo.error.js';
import { resourceIdentity, resourcesOf } from './scope-resource.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** What was asked for: the tenant whose token endpoint was called, and the scopes. */
export interface IssuedTokenRequest {
  readonly tenantId: string;
  readonly scopes: readonly string[];
}

/** A downstream token refused before it is cached or used: a 502 and one security log line. */
export class IssuedTokenRefused extends OboError {
  constructor(reason: string) {
    super('ERR_OBO_PROVIDER_BAD_RESPONSE', `Security: the identity provider issued a token ${reason}; it is not used and not cached.`);
  }
}

/** The claims of a JWT access token (decoded only, no signature check: the token is not for us), or undefined when opaque. */
export function claimsOf(accessToken: string): Record<string, unknown> | undefined {
  const parts = accessToken.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined; // not a JWT (an opaque token, e.g. for a personal account): nothing to read
  }
}

/**
 * Whether `aud` names the requested `resource`. Compared as one spelling per resource (lower case,
 * trailing `/` dropped): `api://<guid>` and `<guid>` are the same app (v2 tokens carry the GUID,
 * v1 tokens the `api://` URI); every Graph URI and Graph's app id `00000003-0000-0000-c000-000000000000`
 * are Graph. A resource named by another URI (`https://contoso.com/api`) gets v1 tokens with that
 * URI and v2 tokens with its app's client id, which the scope does not tell: there any GUID passes.
 */
export function audienceNamesResource(aud: string, resource: string): boolean {
  const wanted = resourceIdentity(resource.replace(/\/+$/, ''));
  const got = resourceIdentity(aud.replace(/\/+$/, ''));
  return got === wanted || (!GUID.test(wanted) && GUID.test(got));
}

/**
 * Checks a token the provider issued before anything caches or uses it, when it is a JWT: its
 * `tid` is the tenant asked (when a GUID was asked), its `aud` names the requested resource, and
 * its own `exp` has not passed. Returns the `exp` in epoch ms (it caps the cache life), if any.
 * @throws {IssuedTokenRefused} `ERR_OBO_PROVIDER_BAD_RESPONSE`
 */
export function checkIssuedToken(accessToken: string, request: IssuedTokenRequest, now = Date.now()): number | undefined {
  const claims = claimsOf(accessToken);
  if (claims === undefined) return undefined;
  const asked = request.tenantId.toLowerCase();
  // Fail closed: a JWT for a tenant that was asked by GUID must name that tenant (Entra access tokens always carry `tid`).
  if (GUID.test(asked) && (typeof claims.tid !== 'string' || claims.tid.toLowerCase() !== asked)) {
    throw new IssuedTokenRefused(`for tenant ${JSON.stringify(String(claims.tid).slice(0, 64))}, but tenant ${asked} was asked`);
  }
  const resources = resourcesOf(request.scopes);
  const audiences = (Array.isArray(claims.aud) ? claims.aud : [claims.aud]).filter((a): a is string => typeof a === 'string');
  if (resources.length > 0 && !audiences.some((aud) => resources.some((resource) => audienceNamesResource(aud, resource)))) {
    throw new IssuedTokenRefused(`for audience ${JSON.stringify(audiences.join(' ').slice(0, 200))}, but resource ${JSON.stringify(resources.join(' '))} was asked`);
  }
  if (typeof claims.exp !== 'number') return undefined;
  const expiresAt = claims.exp * 1000;
  if (expiresAt <= now) throw new IssuedTokenRefused(`that expired ${Math.ceil((now - expiresAt) / 1000)} s ago (exp)`);
  return expiresAt;
}
