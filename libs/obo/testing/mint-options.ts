import type { AuthorityKey } from './authority-keys.js';

/** How {@link LocalAuthority.mintUserToken} and {@link LocalAuthority.mintAppToken} shape a token. */
export interface MintOptions {
  /** Token version: `2.0` (default) or `1.0` (v1 issuer, `appid`, `x5t`, `api://` audience). */
  version?: '1.0' | '2.0';
  /** `aud`. Default: the authority's `clientId` (v2) or `api://<clientId>` (v1). */
  audience?: string | string[];
  /** Tenant of the token (`tid` and the issuer). Default: the authority's tenant. */
  tenantId?: string;
  /** Claim overrides; a value of `undefined` removes the claim. */
  claims?: Record<string, unknown>;
  /** Protected-header overrides; a value of `undefined` removes the parameter. */
  header?: Record<string, unknown>;
  /** Signing key. Default: the active published key. Pass a foreign key for attack tests. */
  key?: AuthorityKey;
  /** Lifetime in seconds from now. Default 3600. */
  lifetimeSeconds?: number;
  /** Exact payload JSON to sign (for duplicate-member or non-object payload tests). */
  rawPayload?: string;
  /** Exact header JSON to sign. */
  rawHeader?: string;
}
