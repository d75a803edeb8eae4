/** A grant of the token endpoint, as fault matching and the request counters name it. */
export type TokenGrant = 'on_behalf_of' | 'client_credentials' | 'token_exchange';

/** How a token response is spoiled by a `bad-token-response` fault (the request is otherwise served normally). */
export type BadTokenResponseVariant = 'missing-access-token' | 'token-type-n_a' | 'expires-in-zero' | 'expires-in-absurd';

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
  | { kind: 'status'; status: number; retryAfter?: number | string; body?: object }
  | { kind: 'hang' }
  | { kind: 'delay'; ms: number }
  | { kind: 'malformed-json' }
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
  /** Only requests whose user assertion (or subject token) carries this `oid`. */
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

/** An injected fault; `remove()` takes it out. */
export interface TokenFaultHandle {
  /** The fault. */
  readonly fault: TokenFault;
  /** Requests it has been applied to so far. */
  readonly applied: number;
  /** Stops applying the fault. */
  remove(): void;
}

/** What fault matching looks at in a token request. */
export interface TokenRequestFacts {
  readonly grant: TokenGrant | undefined;
  readonly oid: string | undefined;
  readonly scope: string;
  readonly hasClaims: boolean;
  /** The `{tenant}` path segment of the request. */
  readonly tenant?: string;
}

interface Entry {
  readonly fault: TokenFault;
  readonly match: TokenFaultMatch;
  applied: number;
}

/** The ordered list of injected token faults; the first matching one wins. */
export class TokenFaultList {
  private entries: Entry[] = [];

  /** Appends a fault and returns its handle. */
  inject(fault: TokenFault, match: TokenFaultMatch = {}): TokenFaultHandle {
    const entry: Entry = { fault, match, applied: 0 };
    this.entries.push(entry);
    return {
      fault,
      get applied() {
        return entry.applied;
      },
      remove: () => {
        this.entries = this.entries.filter((e) => e !== entry);
      },
    };
  }

  /** Removes every fault. */
  clear(): void {
    this.entries = [];
  }

  /** The first fault matching `facts` (counting one use of it), if any. */
  take(facts: TokenRequestFacts): TokenFault | undefined {
    const entry = this.entries.find((e) => matches(e.match, facts));
    if (!entry) return undefined;
    entry.applied++;
    if (entry.match.times !== undefined && entry.applied >= entry.match.times) {
      this.entries = this.entries.filter((e) => e !== entry);
    }
    return entry.fault;
  }
}

function matches(match: TokenFaultMatch, facts: TokenRequestFacts): boolean {
  if (match.times !== undefined && match.times <= 0) return false;
  if (match.grant !== undefined && match.grant !== facts.grant) return false;
  if (match.oid !== undefined && match.oid !== facts.oid) return false;
  if (match.scope !== undefined && !facts.scope.includes(match.scope)) return false;
  if (match.tenant !== undefined && match.tenant !== facts.tenant) return false;
  if (match.whenClaimsAbsent && facts.hasClaims) return false;
  if (match.whenClaimsPresent && !facts.hasClaims) return false;
  return true;
}
