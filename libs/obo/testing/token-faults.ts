import { FaultList, type FaultHandle } from './fault-list.js';

/** A grant of the token endpoint, as fault matching and the request counters name it. */
export type TokenGrant = 'on_behalf_of' | 'client_credentials' | 'token_exchange' | 'authorization_code' | 'refresh_token';

/** How a token response is spoiled by a `bad-token-response` fault (the request is otherwise served normally). */
export type BadTokenResponseVariant = 'missing-access-token' | 'token-type-n_a' | 'expires-in-zero' | 'expires-in-absurd';

/**
 * The faults every local token endpoint shares: an HTTP `status` (optional `Retry-After`, a body of
 * the authority's kind unless `body` is given), `hang` (never answers), `delay` (waits `ms`, then
 * answers normally), `malformed-json` (200 with broken JSON).
 */
export type TransportFault =
  | { kind: 'status'; status: number; retryAfter?: number | string; body?: object }
  | { kind: 'hang' }
  | { kind: 'delay'; ms: number }
  | { kind: 'malformed-json' };

/**
 * A misbehaviour of the token endpoint for one request (see {@link LocalAuthority.injectTokenFault}):
 * - `status`: that HTTP status, optional `Retry-After`, an Entra-like body unless `body` is given;
 * - `hang`: never answers (`close()` drops the socket); `delay`: waits `ms`, then answers normally;
 * - `malformed-json`: 200 with broken JSON; `bad-token-response`: a 200 that breaks the token response rules;
 * - `claims-challenge`: 400 with `claims` (AADSTS50076 by default), optional `suberror`;
 * - `consent-required`: 400 `invalid_grant`/`consent_required` AADSTS65001;
 * - `invalid-client`: 401 AADSTS7000215; `invalid-grant`: 400 `invalid_grant` with the given AADSTS code;
 * - `altered-token`: a normal 200 whose access token is re-minted (validly signed, other claims kept) for
 *   another `tenantId`, another `audience`, token `version`, or an `exp` of now plus `expOffsetSeconds`
 *   (negative: already expired) while `expires_in` still says the usual lifetime: what a client must not cache.
 */
export type TokenFault =
  | TransportFault
  | { kind: 'bad-token-response'; variant: BadTokenResponseVariant }
  | { kind: 'claims-challenge'; claims: string; error?: 'invalid_grant' | 'interaction_required'; suberror?: string; errorCodes?: number[] }
  | { kind: 'consent-required' }
  | { kind: 'invalid-client' }
  | { kind: 'invalid-grant'; code: number }
  | { kind: 'altered-token'; tenantId?: string; audience?: string; version?: '1.0' | '2.0'; expOffsetSeconds?: number };

/** Which token requests a fault applies to; every given condition must hold. */
export interface TokenFaultMatch {
  /** Only this grant. */
  grant?: TokenGrant;
  /** Only requests whose user assertion (or subject token, authorization code, refresh token) is for this `oid`. */
  oid?: string;
  /** Only requests whose `scope` parameter contains this substring. */
  scope?: string;
  /** Only requests to the token endpoint of this `{tenant}` path segment (a GUID, `organizations`, `common`). */
  tenant?: string;
  /** Apply to the next N matching requests, then drop the fault. Default: unlimited. */
  times?: number;
  /** Only requests without a `claims` parameter. */
  whenClaimsAbsent?: boolean;
  /** Only requests with a `claims` parameter. */
  whenClaimsPresent?: boolean;
}

/** An injected token fault; `remove()` takes it out. */
export type TokenFaultHandle = FaultHandle<TokenFault>;

/** What fault matching looks at in a token request. */
export interface TokenRequestFacts {
  readonly grant: TokenGrant | undefined;
  readonly oid: string | undefined;
  readonly scope: string;
  readonly hasClaims: boolean;
  /** The `{tenant}` path segment of the request. */
  readonly tenant?: string;
}

/** The ordered list of injected token faults of {@link LocalAuthority}; the first matching one wins. */
export class TokenFaultList extends FaultList<TokenFault, TokenFaultMatch, TokenRequestFacts> {
  constructor() {
    super(matches);
  }

  /** Appends a fault (for every request when `match` is left out) and returns its handle. */
  override inject(fault: TokenFault, match: TokenFaultMatch = {}): TokenFaultHandle {
    return super.inject(fault, match);
  }
}

function matches(match: TokenFaultMatch, facts: TokenRequestFacts): boolean {
  if (match.grant !== undefined && match.grant !== facts.grant) return false;
  if (match.oid !== undefined && match.oid !== facts.oid) return false;
  if (match.scope !== undefined && !facts.scope.includes(match.scope)) return false;
  if (match.tenant !== undefined && match.tenant !== facts.tenant) return false;
  if (match.whenClaimsAbsent && facts.hasClaims) return false;
  if (match.whenClaimsPresent && !facts.hasClaims) return false;
  return true;
}
