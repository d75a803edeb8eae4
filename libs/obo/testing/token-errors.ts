import { randomUUID } from 'node:crypto';

/**
 * An error answer of the token endpoint, shaped the way Entra ID sends it: `error`,
 * `error_description` carrying `AADSTS<code>` text, `error_codes`, `timestamp`, `trace_id`,
 * `correlation_id`, `error_uri`, plus optional members such as `suberror` and `claims`.
 * The library under test must never echo these bodies to its callers.
 */
export class TokenEndpointError extends Error {
  constructor(
    /** HTTP status (400 for most errors, 401 for `invalid_client`). */
    readonly status: number,
    /** OAuth 2.0 `error` value (RFC 6749 §5.2, RFC 8693 `invalid_target`). */
    readonly error: string,
    /** AADSTS code, when Entra would send one. */
    readonly code: number | undefined,
    /** Human text after the `AADSTS<code>: ` prefix. */
    readonly text: string,
    /** Further members of the body (`suberror`, `claims`, ...). */
    readonly extra: Readonly<Record<string, unknown>> = {},
  ) {
    super(`${error}: ${text}`);
    this.name = 'TokenEndpointError';
  }

  /** The JSON body, with fresh trace id and timestamp; `correlationId` echoes `client-request-id`. */
  body(correlationId: string = randomUUID()): Record<string, unknown> {
    return entraErrorBody(this.error, this.code, this.text, correlationId, this.extra);
  }
}

/** Builds an Entra-like token error body. */
export function entraErrorBody(
  error: string,
  code: number | undefined,
  text: string,
  correlationId: string = randomUUID(),
  extra: Readonly<Record<string, unknown>> = {},
): Record<string, unknown> {
  const traceId = randomUUID();
  const timestamp = new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  const prefix = code === undefined ? '' : `AADSTS${code}: `;
  return {
    error,
    error_description: `${prefix}${text}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
    error_codes: code === undefined ? [] : [code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: 'https://login.microsoftonline.com/error?code=' + (code ?? 0),
    ...extra,
  };
}

/** 401 `invalid_client` (AADSTS7000215 for a wrong secret, or the given code). */
export function invalidClient(clientId: string, code = 7000215, reason?: string): TokenEndpointError {
  const text =
    reason ??
    `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`;
  return new TokenEndpointError(401, 'invalid_client', code, text);
}

/** 400 `invalid_grant` with the usual Entra text for well-known codes, plus `extra` members (`suberror`, ...). */
export function invalidGrant(code: number, detail?: string, extra: Readonly<Record<string, unknown>> = {}): TokenEndpointError {
  return new TokenEndpointError(400, 'invalid_grant', code, detail ?? GRANT_TEXT[code] ?? 'The provided grant is invalid.', extra);
}

/** 400 `invalid_request`, e.g. a missing parameter (AADSTS900144). */
export function invalidRequest(text: string, code = 900144): TokenEndpointError {
  return new TokenEndpointError(400, 'invalid_request', code, text);
}

/** 400 `invalid_scope` (AADSTS70011, or 500011 for an unknown resource). */
export function invalidScope(text: string, code = 70011): TokenEndpointError {
  return new TokenEndpointError(400, 'invalid_scope', code, text);
}

/** 400 `invalid_target` (RFC 8693 §2.2.2): the requested audience is unknown. */
export function invalidTarget(text: string): TokenEndpointError {
  return new TokenEndpointError(400, 'invalid_target', 500011, text);
}

/** 400 `unsupported_grant_type` (AADSTS70003). */
export function unsupportedGrantType(grant: string): TokenEndpointError {
  return new TokenEndpointError(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grant}'.`);
}

const GRANT_TEXT: Readonly<Record<number, string>> = {
  500133:
    'Assertion is not within its valid time range. Ensure that the access token is not expired before using it for user assertion, or request a new token.',
  50013: 'Assertion failed signature validation.',
  50076:
    'Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access this resource.',
  50079: 'Due to a configuration change made by your administrator, or because you moved to a new location, you must enroll in multi-factor authentication.',
  65001: "The user or administrator has not consented to use the application. Send an interactive authorization request for this user and resource.",
  70000: 'The request was denied because one or more grants are invalid.',
};

/** Entra's text for an AADSTS code used by the fault kinds (falls back to a generic sentence). */
export function aadstsText(code: number): string {
  return GRANT_TEXT[code] ?? 'The request could not be completed.';
}
