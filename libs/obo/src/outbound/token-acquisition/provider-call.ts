/** What the identity provider answered to one token request, as far as we need it. Safe to keep: no token. */
export interface ProviderAnswer {
  readonly status: number;
  readonly error?: string;
  readonly suberror?: string;
  readonly errorCodes: readonly number[];
  /** The claims challenge as JSON text, when the provider sent one (msal drops it for some errors). */
  readonly claims?: string;
  readonly retryAfterSeconds?: number;
}

/** Why the last request of a call failed before an answer arrived, or why the answer was unusable. */
export type TransportFailure = 'timeout' | 'network' | 'bad-response';

/** The fields of a successful token answer that msal does not check strictly enough. */
export interface TokenAnswer {
  readonly expiresIn: unknown;
  readonly tokenType: unknown;
}

/** State of one token acquisition, keyed by the correlation id msal passes to the network client. */
export class ProviderCall {
  /** The last answer with an error status (4xx/5xx) from the token endpoint. */
  lastErrorAnswer?: ProviderAnswer;
  /** The last 200 answer that carried an access token. */
  tokenAnswer?: TokenAnswer;
  transportFailure?: TransportFailure;
  /** Network requests this call made (token and discovery). */
  requests = 0;
  /** When the call began (epoch ms); token lifetimes count from here. */
  readonly startedAt = Date.now();

  constructor(
    readonly correlationId: string,
    readonly signal: AbortSignal,
  ) {}

  reset(): void {
    this.lastErrorAnswer = undefined;
    this.transportFailure = undefined;
  }
}

function stringField(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** Parses `Retry-After` as delay-seconds or an HTTP date; `undefined` when absent or unusable. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}

/** Reads the OAuth error fields of a token-endpoint error body (RFC 6749 §5.2 plus Entra's extras). */
export function toProviderAnswer(status: number, body: unknown, retryAfter: string | null): ProviderAnswer {
  const record = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const codes = Array.isArray(record.error_codes) ? record.error_codes.filter((c): c is number => typeof c === 'number') : [];
  return {
    status,
    error: stringField(record, 'error'),
    suberror: stringField(record, 'suberror'),
    errorCodes: codes,
    claims: stringField(record, 'claims'),
    retryAfterSeconds: parseRetryAfter(retryAfter),
  };
}
