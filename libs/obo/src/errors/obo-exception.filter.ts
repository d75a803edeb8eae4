import { authorizeEndpoint } from '../authority/entra-authority.js';
import { Catch, HttpStatus, Inject, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { RESOLVED_OBO_OPTIONS } from '../options/obo-options.constants.js';
import type { ResolvedOboOptions } from '../options/resolve-obo-options.js';
import type { OboErrorCode } from './obo-error-code.js';
import { isGraphQL } from '../context/http-request-of.js';
import { OboGraphQLRejection } from './graphql-rejection.js';
import { ClaimsChallengeError, OboError, ProviderUnavailableError, ScopedOboError, StepUpRequiredError } from './obo.error.js';
import type { OboErrorBody } from './obo-http.exception.js';
import { formatBearerChallenge } from './www-authenticate.js';

interface Reply {
  status: number;
  code: OboErrorCode;
  message: string;
  headers: Record<string, string>;
}

const MAX_CLAIMS_LENGTH = 8192;

/**
 * Maps the service-layer {@link OboError}s to HTTP: claims challenges to 401
 * `insufficient_claims` (Microsoft's format), step-up to 401 `insufficient_user_authentication`
 * with `acr_values` / `max_age` (RFC 9470), consent to 403 `insufficient_scope`, a refused
 * assertion to 401 `invalid_token`, provider trouble to 503/504 with `Retry-After`, downstream
 * failures to 502/504, and everything that is the server's own fault to a generic 500. Bodies
 * never carry provider or downstream text.
 */
@Catch(OboError)
export class OboExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('OboExceptionFilter');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(RESOLVED_OBO_OPTIONS) private readonly options: ResolvedOboOptions,
  ) {}

  catch(error: OboError, host: ArgumentsHost): void {
    const reply = this.toReply(error);
    if (isGraphQL(host)) throw OboGraphQLRejection.of(reply, error); // a resolver: Apollo answers with extensions.http's status and headers
    const response: unknown = host.switchToHttp().getResponse();
    const adapter = this.adapterHost.httpAdapter;
    for (const [name, value] of Object.entries({ 'Cache-Control': 'no-store', Pragma: 'no-cache', ...reply.headers })) adapter.setHeader(response, name, value);
    adapter.reply(response, { statusCode: reply.status, code: reply.code, message: reply.message } satisfies OboErrorBody, reply.status);
  }

  private toReply(error: OboError): Reply {
    const realm = this.options.realm;
    const resourceMetadata = this.options.resourceMetadata;
    if (error instanceof ClaimsChallengeError) {
      if (error.claims.length <= MAX_CLAIMS_LENGTH && isJsonObject(error.claims)) {
        const challenge = formatBearerChallenge({
          realm: realm ?? '',
          authorizationUri: authorizeEndpoint(this.options.instance, this.options.tenantId, this.options.multiTenant),
          clientId: this.options.clientId,
          error: 'insufficient_claims',
          claims: Buffer.from(error.claims, 'utf8').toString('base64'),
          resourceMetadata,
        });
        return { status: 401, code: error.code, message: 'The user must sign in again to satisfy a claims challenge.', headers: { 'WWW-Authenticate': challenge } };
      }
      return this.badGateway('ERR_OBO_PROVIDER_BAD_RESPONSE');
    }
    if (error instanceof StepUpRequiredError) {
      const message = 'The user must authenticate again to meet the authentication requirements.';
      const challenge = formatBearerChallenge({ realm, error: 'insufficient_user_authentication', errorDescription: message, acrValues: error.acrValues, maxAge: error.maxAge, resourceMetadata });
      return { status: 401, code: error.code, message, headers: { 'WWW-Authenticate': challenge } };
    }
    if (error instanceof ScopedOboError) {
      const consent = error.code === 'ERR_OBO_CONSENT_REQUIRED';
      const message = consent ? 'Consent is required for the downstream API.' : 'On-Behalf-Of needs a user; this caller is an application.';
      const challenge = formatBearerChallenge({ realm, error: 'insufficient_scope', errorDescription: message, scope: consent ? error.scopes.join(' ') : undefined, resourceMetadata });
      return { status: 403, code: error.code, message, headers: { 'WWW-Authenticate': challenge } };
    }
    if (error instanceof ProviderUnavailableError) {
      const timeout = error.code === 'ERR_OBO_PROVIDER_TIMEOUT';
      return {
        status: timeout ? HttpStatus.GATEWAY_TIMEOUT : HttpStatus.SERVICE_UNAVAILABLE,
        code: error.code,
        message: timeout ? 'The identity provider did not answer in time; retry later.' : 'The identity provider is unavailable; retry later.',
        headers: { 'Retry-After': String(Math.max(1, Math.ceil(error.retryAfterSeconds))) },
      };
    }
    switch (error.code) {
      case 'ERR_OBO_ASSERTION_REJECTED': {
        const message = 'The access token is invalid.';
        return { status: 401, code: 'ERR_OBO_TOKEN_INVALID', message, headers: { 'WWW-Authenticate': formatBearerChallenge({ realm, error: 'invalid_token', errorDescription: message, resourceMetadata }) } };
      }
      case 'ERR_OBO_DELEGATION_TOO_DEEP': {
        const message = 'The access token carries too many actors to be exchanged.';
        return { status: 401, code: error.code, message, headers: { 'WWW-Authenticate': formatBearerChallenge({ realm, error: 'invalid_token', errorDescription: message, resourceMetadata }) } };
      }
      case 'ERR_OBO_PROVIDER_BAD_RESPONSE':
      case 'ERR_OBO_DOWNSTREAM_FAILED':
        return this.badGateway(error.code);
      case 'ERR_OBO_DOWNSTREAM_TIMEOUT':
        return { status: HttpStatus.GATEWAY_TIMEOUT, code: error.code, message: 'A downstream API did not answer in time.', headers: {} };
      case 'ERR_OBO_INVALID_SCOPE': // the configured scopes are wrong: the server's own fault, like credentials
      default:
        // Configuration, credentials or a bug in the app: the operator reads the log, the client learns nothing.
        this.logger.error(`${error.code}: ${error.message}`);
        return { status: HttpStatus.INTERNAL_SERVER_ERROR, code: 'ERR_OBO_INTERNAL', message: 'The server could not complete the request.', headers: {} };
    }
  }

  private badGateway(code: OboErrorCode): Reply {
    return { status: HttpStatus.BAD_GATEWAY, code, message: 'An upstream service failed.', headers: {} };
  }
}

function isJsonObject(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false; // not JSON: never reflected
  }
}
