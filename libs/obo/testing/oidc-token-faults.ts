import { spoilTokenResponse } from './fault-responses.js';
import { FaultList, type FaultHandle } from './fault-list.js';
import { oauthError, type OidcErrorCode } from './oidc-errors.js';
import type { OidcGrant } from './oidc-registrations.js';
import type { BadTokenResponseVariant, TransportFault } from './token-faults.js';
import type { TokenEndpointError } from './token-errors.js';

/**
 * How a 200 token response is spoiled (the request is otherwise served normally): besides the
 * Entra variants (`missing-access-token`, `token-type-n_a`, `expires-in-zero`, `expires-in-absurd`),
 * `token-type-dpop` (`DPoP`), `token-type-lowercase-bearer` (`bearer`, still valid), `missing-issued-token-type`,
 * `expires-in-string` (`"3600"`, a digit string).
 */
export type OidcBadTokenResponseVariant =
  | BadTokenResponseVariant
  | 'token-type-dpop'
  | 'token-type-lowercase-bearer'
  | 'missing-issued-token-type'
  | 'expires-in-string';

/**
 * A misbehaviour of {@link LocalOidcAuthority}'s token endpoint for one request:
 * - `status`: that HTTP status, optional `Retry-After`, an RFC 6749 body (`temporarily_unavailable`
 *   for 429/503, `server_error` for other 5xx) unless `body` is given;
 * - `hang`: never answers (`close()` drops the socket); `delay`: waits `ms`, then answers normally;
 * - `malformed-json`: 200 with broken JSON; `bad-token-response`: a 200 breaking the response rules;
 * - `altered-token`: a normal 200 whose JWT is re-signed (validly) with another `aud` and/or an `exp` of
 *   now plus `expOffsetSeconds`, while `expires_in` is unchanged;
 * - `step-up`: RFC 9470 `insufficient_user_authentication` with `acr_values` / `max_age` in the body
 *   (status default 400);
 * - `error`: any OAuth `error` (`access_denied`, `consent_required`, `unauthorized_client`,
 *   `invalid_grant`, ...), status default 401 for `invalid_client`, 403 for `access_denied`, else 400.
 */
export type OidcTokenFault =
  | TransportFault
  | { kind: 'bad-token-response'; variant: OidcBadTokenResponseVariant }
  | { kind: 'altered-token'; audience?: string | string[]; expOffsetSeconds?: number }
  | { kind: 'step-up'; acrValues?: string; maxAge?: number; status?: number }
  | { kind: 'error'; error: OidcErrorCode; status?: number; description?: string; extra?: Record<string, unknown> };

/** Which token requests an {@link OidcTokenFault} applies to; every given condition must hold. */
export interface OidcTokenFaultMatch {
  /** Only this grant. */
  grant?: OidcGrant;
  /** Only requests whose subject token has this `sub`. */
  subject?: string;
  /** Only requests whose `audience` (or else `resource`) is this. */
  audience?: string;
  /** Only requests of this client (`client_id`, HTTP Basic user or assertion `sub`). */
  clientId?: string;
  /** Only requests whose `scope` parameter contains this substring. */
  scope?: string;
  /** Apply to the next N matching requests, then drop the fault. Default: unlimited. */
  times?: number;
}

/** An injected fault of the generic token endpoint; `remove()` takes it out. */
export type OidcTokenFaultHandle = FaultHandle<OidcTokenFault>;

/** What fault matching looks at in a token request. */
export interface OidcTokenRequestFacts {
  readonly grant: OidcGrant | undefined;
  readonly subject: string | undefined;
  readonly audience: string | undefined;
  readonly clientId: string | undefined;
  readonly scope: string;
}

/** The ordered list of injected faults of a {@link LocalOidcAuthority}; the first matching one wins. */
export class OidcTokenFaultList extends FaultList<OidcTokenFault, OidcTokenFaultMatch, OidcTokenRequestFacts> {
  constructor() {
    super((match, facts) =>
      (match.grant === undefined || match.grant === facts.grant) &&
      (match.subject === undefined || match.subject === facts.subject) &&
      (match.audience === undefined || match.audience === facts.audience) &&
      (match.clientId === undefined || match.clientId === facts.clientId) &&
      (match.scope === undefined || facts.scope.includes(match.scope)),
    );
  }
}

/** The error an `error` or `step-up` fault answers with; undefined for the other kinds. */
export function oidcFaultError(fault: OidcTokenFault): TokenEndpointError | undefined {
  if (fault.kind === 'step-up') {
    const extra = { ...(fault.acrValues !== undefined ? { acr_values: fault.acrValues } : {}), ...(fault.maxAge !== undefined ? { max_age: fault.maxAge } : {}) };
    return oauthError(fault.status ?? 400, 'insufficient_user_authentication', 'A stronger or more recent user authentication is required.', extra);
  }
  if (fault.kind !== 'error') return undefined;
  const status = fault.status ?? (fault.error === 'invalid_client' ? 401 : fault.error === 'access_denied' ? 403 : 400);
  return oauthError(status, fault.error, fault.description ?? `Injected ${fault.error}.`, fault.extra);
}

/** RFC 6749 body of a `status` fault without an explicit body. */
export function oidcStatusBody(status: number): Record<string, unknown> {
  if (status === 429 || status === 503) return { error: 'temporarily_unavailable', error_description: 'Try again later.' };
  if (status >= 500) return { error: 'server_error', error_description: 'The server encountered an unexpected error.' };
  return { error: 'invalid_request', error_description: `Injected status ${status}.` };
}

/** A copy of a successful token response broken the way `variant` says. */
export function spoilOidcTokenResponse(body: Readonly<Record<string, unknown>>, variant: OidcBadTokenResponseVariant): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...body };
  switch (variant) {
    case 'token-type-dpop':
      copy.token_type = 'DPoP';
      return copy;
    case 'token-type-lowercase-bearer':
      copy.token_type = 'bearer';
      return copy;
    case 'missing-issued-token-type':
      delete copy.issued_token_type;
      return copy;
    case 'expires-in-string':
      copy.expires_in = String(copy.expires_in);
      return copy;
    default:
      return spoilTokenResponse(body, variant);
  }
}
