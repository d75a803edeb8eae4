import type { TokenGrant } from './token-faults.js';

/** Token requests received, per grant, and OBO / token-exchange requests per user `oid`. */
export interface TokenRequestCounters {
  onBehalfOf: number;
  clientCredentials: number;
  tokenExchange: number;
  /** `grant_type=authorization_code` requests. */
  authorizationCode: number;
  /** `grant_type=refresh_token` requests. */
  refreshToken: number;
  /** Requests per `oid` of the user assertion (OBO) or subject token (token exchange). */
  byUser: Map<string, number>;
}

/**
 * The form fields of one token request exactly as received (`grant_type`, `requested_token_use`,
 * `assertion`, `scope`, `client_id`, `client_secret` / `client_assertion`, `claims`, ...).
 * An HTTP Basic client credential is not a form field; it shows as `client_secret_basic: 'present'`.
 */
export type TokenRequestRecord = Readonly<Record<string, string>>;

/** How many token requests {@link TokenRequestLog} keeps. */
export const TOKEN_REQUEST_LOG_SIZE = 100;

/** Counters and a bounded log of token requests. */
export class TokenRequestLog {
  /** Counters since start or the last {@link reset}. */
  readonly counters: TokenRequestCounters = { onBehalfOf: 0, clientCredentials: 0, tokenExchange: 0, authorizationCode: 0, refreshToken: 0, byUser: new Map() };
  private readonly records: TokenRequestRecord[] = [];

  /** The last {@link TOKEN_REQUEST_LOG_SIZE} requests, oldest first. */
  get entries(): readonly TokenRequestRecord[] {
    return [...this.records];
  }

  /** The most recent request. */
  get last(): TokenRequestRecord | undefined {
    return this.records.at(-1);
  }

  /** Records one request of `grant` (undefined for unsupported grants) for user `oid`. */
  record(fields: TokenRequestRecord, grant: TokenGrant | undefined, oid: string | undefined): void {
    this.records.push(Object.freeze({ ...fields }));
    if (this.records.length > TOKEN_REQUEST_LOG_SIZE) this.records.shift();
    if (grant === 'on_behalf_of') this.counters.onBehalfOf++;
    if (grant === 'client_credentials') this.counters.clientCredentials++;
    if (grant === 'token_exchange') this.counters.tokenExchange++;
    if (grant === 'authorization_code') this.counters.authorizationCode++;
    if (grant === 'refresh_token') this.counters.refreshToken++;
    if (oid !== undefined && (grant === 'on_behalf_of' || grant === 'token_exchange')) {
      this.counters.byUser.set(oid, (this.counters.byUser.get(oid) ?? 0) + 1);
    }
  }

  /** Zeroes the counters and empties the log. */
  reset(): void {
    Object.assign(this.counters, { onBehalfOf: 0, clientCredentials: 0, tokenExchange: 0, authorizationCode: 0, refreshToken: 0 });
    this.counters.byUser.clear();
    this.records.length = 0;
  }
}
