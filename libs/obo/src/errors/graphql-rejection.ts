import { IntrinsicException } from '@nestjs/common';
import type { OboErrorCode } from './obo-error-code.js';

/** The GraphQL `extensions.code` of each status a nestjs-obo rejection can have (Apollo's names where Apollo has one). */
const GRAPHQL_CODES: Readonly<Record<number, string>> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  500: 'INTERNAL_SERVER_ERROR',
  502: 'BAD_GATEWAY',
  503: 'SERVICE_UNAVAILABLE',
  504: 'GATEWAY_TIMEOUT',
};

/** `extensions` of a refused GraphQL field. */
export interface OboGraphQLErrorExtensions {
  /** `UNAUTHENTICATED` (401), `FORBIDDEN` (403), `BAD_REQUEST` (400), `SERVICE_UNAVAILABLE` (503), `BAD_GATEWAY` (502), `GATEWAY_TIMEOUT` (504) or `INTERNAL_SERVER_ERROR`. */
  readonly code: string;
  /** The stable nestjs-obo code, as in the REST body's `code`. */
  readonly oboCode: OboErrorCode;
  /**
   * Apollo Server 4/5 reads this, removes it from the answer, and sets the HTTP status and headers
   * (`WWW-Authenticate`, `Retry-After`, `Cache-Control: no-store`) from it.
   */
  readonly http: { readonly status: number; readonly headers: Map<string, string> };
}

/** What a rejection is made of: the REST answer's status, code, message and headers. */
export interface RejectionParts {
  readonly status: number;
  readonly code: OboErrorCode;
  readonly message: string;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * A request refused inside a GraphQL resolver call (by the guards, or an {@link OboError} of
 * `DownstreamApi` / `TokenAcquisition` mapped by the exception filter). graphql-js copies its
 * {@link extensions} onto the GraphQL error; the message is the REST body's generic sentence.
 * Not an `HttpException`, so `@nestjs/apollo`'s `autoTransformHttpErrors` leaves the code alone;
 * an `IntrinsicException`, so Nest does not log it (the guard or filter already did, once).
 */
export class OboGraphQLRejection extends IntrinsicException {
  override readonly name = 'OboGraphQLRejection';
  readonly extensions: OboGraphQLErrorExtensions;

  constructor(
    readonly status: number,
    readonly code: OboErrorCode,
    message: string,
    headers: Readonly<Record<string, string>>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    const http = { status, headers: new Map(Object.entries({ 'Cache-Control': 'no-store', Pragma: 'no-cache', ...headers })) };
    this.extensions = { code: GRAPHQL_CODES[status] ?? 'INTERNAL_SERVER_ERROR', oboCode: code, http };
  }

  /** The GraphQL form of a REST rejection (an `OboHttpException` or the filter's reply). */
  static of(parts: RejectionParts, cause?: unknown): OboGraphQLRejection {
    return new OboGraphQLRejection(parts.status, parts.code, parts.message, parts.headers, { cause });
  }
}
