/**
 * Every Entra authority URL the module builds, in one place: discovery documents, the authority
 * msal-node is given, the authorize endpoint named in claims challenges. Issuers are never built
 * here: they come from the discovery documents byte for byte (or, for v1.0 tokens, from the cloud
 * table in `entra-clouds.ts`).
 */

/** Path segments that stand for "any tenant" in Entra authority URLs. */
export const MULTI_TENANT_SEGMENTS: ReadonlySet<string> = new Set(['organizations', 'common']);

/** `<instance><tenant>`: the authority of one tenant (what msal-node is given per token request). */
export function tenantAuthority(instance: string, tenant: string): string {
  return `${instance}${tenant}`;
}

/** The v2.0 OpenID Connect discovery document of `tenant`. */
export function discoveryUrlV2(instance: string, tenant: string): string {
  return `${tenantAuthority(instance, tenant)}/v2.0/.well-known/openid-configuration`;
}

/** The v1.0 OpenID Connect discovery document of `tenant` (fetched only when the cloud table cannot name the v1.0 issuer). */
export function discoveryUrlV1(instance: string, tenant: string): string {
  return `${tenantAuthority(instance, tenant)}/.well-known/openid-configuration`;
}

/**
 * The authorize endpoint a client is sent to for a claims challenge: the configured tenant, or
 * `organizations` for a multi-tenant API (a guest or another tenant's user signs in at their home
 * tenant; `common` would also admit personal accounts, which a work-or-school API never accepts).
 */
export function authorizeEndpoint(instance: string, tenant: string, multiTenant: boolean): string {
  return `${tenantAuthority(instance, multiTenant ? 'organizations' : tenant)}/oauth2/v2.0/authorize`;
}

/** The token endpoint that goes with {@link authorizeEndpoint} (same tenant segment): where a client redeems the code. */
export function tokenEndpoint(instance: string, tenant: string, multiTenant: boolean): string {
  return `${tenantAuthority(instance, multiTenant ? 'organizations' : tenant)}/oauth2/v2.0/token`;
}
