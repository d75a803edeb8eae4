import type { ExecutionContext } from '@nestjs/common';
import type { HttpAdapterHost } from '@nestjs/core';
import type { OboHttpException } from './obo-http.exception.js';

/**
 * Writes the rejection's headers on the response, then returns the exception for the caller to
 * throw. Headers are set here, not in a filter, so they survive an application's own
 * catch-all exception filter.
 */
export function withRejectionHeaders(context: ExecutionContext, adapterHost: HttpAdapterHost, exception: OboHttpException): OboHttpException {
  const response: unknown = context.switchToHttp().getResponse();
  const adapter = adapterHost.httpAdapter;
  for (const [name, value] of Object.entries(exception.headers)) adapter.setHeader(response, name, value);
  return exception;
}
