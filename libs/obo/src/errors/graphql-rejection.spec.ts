import { IntrinsicException } from '@nestjs/common';
import { OboGraphQLRejection } from './graphql-rejection.js';
import { insufficientScope, signingKeysUnavailable } from './obo-http.exception.js';

describe('OboGraphQLRejection', () => {
  it('carries the GraphQL code, the ERR_OBO code, and the status and headers Apollo puts on the response', () => {
    const rest = insufficientScope(['Files.Read'], {});
    const rejection = OboGraphQLRejection.of({ status: rest.getStatus(), code: rest.code, message: rest.message, headers: rest.headers }, rest);
    expect(rejection.message).toBe(rest.message);
    expect(rejection.cause).toBe(rest);
    expect(rejection.extensions.code).toBe('FORBIDDEN');
    expect(rejection.extensions.oboCode).toBe('ERR_OBO_INSUFFICIENT_SCOPE');
    expect(rejection.extensions.http.status).toBe(403);
    expect(Object.fromEntries(rejection.extensions.http.headers)).toEqual({ 'Cache-Control': 'no-store', Pragma: 'no-cache', 'WWW-Authenticate': rest.headers['WWW-Authenticate'] });
  });

  it('names 503 SERVICE_UNAVAILABLE and keeps Retry-After; an unlisted status is INTERNAL_SERVER_ERROR', () => {
    const rest = signingKeysUnavailable(7);
    const unavailable = OboGraphQLRejection.of({ status: 503, code: rest.code, message: rest.message, headers: rest.headers });
    expect(unavailable.extensions.code).toBe('SERVICE_UNAVAILABLE');
    expect(unavailable.extensions.http.headers.get('Retry-After')).toBe('7');
    expect(new OboGraphQLRejection(418, 'ERR_OBO_INTERNAL', 'x', {}).extensions.code).toBe('INTERNAL_SERVER_ERROR');
  });

  it('is an IntrinsicException (Nest does not log it again) and not an HttpException (@nestjs/apollo does not rewrite its code)', () => {
    const rejection = new OboGraphQLRejection(401, 'ERR_OBO_TOKEN_MISSING', 'A bearer token is required.', {});
    expect(rejection).toBeInstanceOf(IntrinsicException);
    expect('getStatus' in rejection).toBe(false);
  });
});
