import type { ExecutionContext } from '@nestjs/common';
import type { HttpAdapterHost } from '@nestjs/core';
import type { OboHttpException } from './obo-http.exception.js';
import { isGraphQL } from '../context/http-request-of.js';
import { OboGraphQLRejection } from './graphql-rejection.js';

/**
 * Writes the rejection's headers on the response, then returns the exception for the caller to
 * throw. Headers are set here, not in a filter, so they survive an application's own
 * catch-all exception filter. In a GraphQL resolver call the headers and status travel in the
 * GraphQL error's `extensions.http` instead (Apollo Server sets them on the response).
 */
export function withRejectionHeaders(context: ExecutionContext, adapterHost: HttpAdapterHost, exception: OboHttpException): OboHttpException | OboGraphQLRejection {
  if (isGraphQL(context)) return OboGraphQLRejection.of({ status: exception.getStatus(), code: exception.code, message: exception.message, headers: exception.headers }, exception);
  const response: unknown = context.switchToHttp().getResponse();
  const adapter = adapterHost.httpAdapter;
  for (const [name, value] of Object.entries(exception.headers)) adapter.setHeader(response, name, value);
  return exception;
}
