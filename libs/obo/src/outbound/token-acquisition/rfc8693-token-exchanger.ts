import { Inject, Injectable, Logger } from '@nestjs/common';
import { OboError } from '../../errors/obo.error.js';
import { SigningKeyStore } from '../../inbound/jwt/signing-key.store.js';
import { RESOLVED_OBO_OPTIONS } from '../../options/obo-options.constants.js';
import { ACCESS_TOKEN_TYPE } from '../../options/resolve-outbound-options.js';
import type { ResolvedOboOptions } from '../../options/resolve-obo-options.js';
import { actorDepth, MAX_SUBJECT_ACTORS } from './delegation-depth.js';
import { checkTokenAnswer, CLIENT_CREDENTIALS_TYPES, type IssuedTypeRule } from './rfc8693-answer.js';
import { classifyTokenEndpointError, type GrantKind } from './rfc8693-failure.js';
import { clientCredentialsForm, tokenExchangeForm } from './rfc8693-request.js';
import { TokenEndpointAuth } from './token-endpoint-auth.js';
import { postTokenRequest, TokenEndpointTransportError } from './token-endpoint-post.js';
import { TokenExchanger, type ExchangedToken, type ExchangeRequest } from './token-exchanger.js';
import { DEFAULT_RETRY_AFTER_SECONDS, refusal, timeoutFailure, unavailableFailure } from './token-request-failure.js';
import { abortable, TokenRequestRunner, type AttemptOutcome } from './token-request-runner.js';

/** After the authority's metadata could not be loaded, token requests answer 503 this long without asking again, in ms. */
const METADATA_RETRY_MS = 5_000;

/**
 * On-Behalf-Of and app tokens at an authority other than Entra ID (Auth0, Okta, Keycloak, any
 * RFC 8693 authority): RFC 8693 token exchange of the user's validated token, and client
 * credentials, at the `token_endpoint` of the authority's metadata (loaded once, by the
 * {@link SigningKeyStore} that inbound validation uses), through the module's egress dispatcher.
 * Deadline, one retry, the 429 gate, the cold-start single flight and the breaker come from
 * {@link TokenRequestRunner}; answers are checked by `checkTokenAnswer` and errors mapped by
 * `classifyTokenEndpointError` before anything is cached.
 */
@Injectable()
export class Rfc8693TokenExchanger extends TokenExchanger {
  private readonly logger = new Logger('TokenAcquisition');
  private readonly runner: TokenRequestRunner;
  private readonly auth?: TokenEndpointAuth;
  private readonly exchangeTypes: IssuedTypeRule;
  private metadataFailedUntil = 0;
  /** Token requests sent (attempts that reached the token endpoint), for tests and benchmarks. */
  providerCalls = 0;

  constructor(
    @Inject(RESOLVED_OBO_OPTIONS) private readonly options: ResolvedOboOptions,
    private readonly keys: SigningKeyStore,
  ) {
    super();
    this.runner = new TokenRequestRunner(options.tokenAcquisition.timeoutMs, this.logger, 'oidc');
    const { credential, clientAuthentication } = options;
    if (options.provider === 'oidc' && credential !== undefined && clientAuthentication !== undefined) {
      this.auth = new TokenEndpointAuth(options.clientId, clientAuthentication, credential);
    }
    const requested = options.tokenExchange?.requestedTokenType;
    // RFC 8693 §2.2.1 requires issued_token_type; the generic (rfc9068) profile holds authorities to it.
    this.exchangeTypes = { accepted: new Set([ACCESS_TOKEN_TYPE, ...(requested === undefined ? [] : [requested])]), required: options.tokenProfile === 'rfc9068' };
  }

  /**
   * RFC 8693 token exchange of the user's token (`request.assertion`) for `request.audience` /
   * `request.resource` and `request.scopes`.
   * @throws {OboError} `ERR_OBO_DELEGATION_TOO_DEEP` (nothing sent), `ERR_OBO_ASSERTION_REJECTED`, `ERR_OBO_STEP_UP_REQUIRED`, `ERR_OBO_CONSENT_REQUIRED`, `ERR_OBO_INVALID_SCOPE`, `ERR_OBO_CLIENT_CREDENTIALS_INVALID`, `ERR_OBO_PROVIDER_*` ...
   */
  onBehalfOf(request: ExchangeRequest): Promise<ExchangedToken> {
    const assertion = request.assertion;
    if (assertion === undefined) return Promise.reject(new OboError('ERR_OBO_NO_USER', 'A token exchange needs the user\u2019s access token.'));
    const depth = actorDepth(assertion);
    if (depth > MAX_SUBJECT_ACTORS) {
      const error = new OboError(
        'ERR_OBO_DELEGATION_TOO_DEEP',
        `The incoming token already carries ${depth} nested actors (act); a token exchange accepts at most ${MAX_SUBJECT_ACTORS} (the authority adds one, Auth0 refuses a fifth). Nothing was sent; lower delegation.maxActors to refuse such tokens at the door.`,
      );
      this.runner.log(error, request.correlationId ?? 'none');
      return Promise.reject(error);
    }
    return this.request(request, 'exchange', () => tokenExchangeForm({ ...request, assertion }, this.options.tokenExchange!), this.exchangeTypes);
  }

  /**
   * Client credentials for this API itself, for `request.audience` / `request.resource` and `request.scopes`.
   * @throws {OboError} `ERR_OBO_CLIENT_CREDENTIALS_INVALID`, `ERR_OBO_INVALID_SCOPE`, `ERR_OBO_PROVIDER_*` ...
   */
  clientCredentials(request: ExchangeRequest): Promise<ExchangedToken> {
    return this.request(request, 'app', () => clientCredentialsForm(request), CLIENT_CREDENTIALS_TYPES);
  }

  private request(request: ExchangeRequest, kind: GrantKind, form: () => URLSearchParams, types: IssuedTypeRule): Promise<ExchangedToken> {
    const auth = this.auth;
    if (!auth) return Promise.reject(new OboError('ERR_OBO_CONFIG_INVALID', 'Token acquisition needs a client credential: set clientId and clientSecret, clientPrivateKey or clientAssertion.'));
    return this.runner.run(request, {
      authority: this.options.tenantId,
      attempt: (correlationId, deadline) => this.attempt(request, kind, form, types, auth, deadline),
    });
  }

  private async attempt(request: ExchangeRequest, kind: GrantKind, form: () => URLSearchParams, types: IssuedTypeRule, auth: TokenEndpointAuth, deadline: AbortSignal): Promise<AttemptOutcome> {
    let endpoint: string;
    try {
      endpoint = await abortable(this.tokenEndpoint(), deadline);
    } catch (error) {
      if (deadline.aborted) return { failure: timeoutFailure(error), answered: false };
      if (error instanceof OboError && error.code !== 'ERR_OBO_PROVIDER_UNAVAILABLE') return { failure: refusal(error), answered: true };
      return { failure: unavailableFailure('its metadata cannot be loaded', METADATA_RETRY_MS / 1000, error, false), answered: false };
    }
    const body = form();
    const headers: Record<string, string> = {};
    try {
      await auth.apply(body, headers, endpoint);
    } catch (error) {
      return { failure: refusal(error instanceof OboError ? error : new OboError('ERR_OBO_CLIENT_CREDENTIALS_INVALID', 'No client authentication could be made.', { cause: error })), answered: false };
    }
    const startedAt = Date.now();
    this.providerCalls++;
    let answer;
    try {
      answer = await postTokenRequest(endpoint, body, headers, deadline, this.options.egress.dispatcher);
    } catch (error) {
      const reason = error instanceof TokenEndpointTransportError ? error.reason : 'network';
      if (deadline.aborted || reason === 'timeout') return { failure: timeoutFailure(error), answered: false };
      if (reason === 'bad-response') return { failure: refusal(new OboError('ERR_OBO_PROVIDER_BAD_RESPONSE', 'The identity provider answered with an unusable body.', { cause: error })), answered: true };
      return { failure: unavailableFailure('unreachable', DEFAULT_RETRY_AFTER_SECONDS, error, true), answered: false };
    }
    if (answer.status === 200) {
      try {
        return { token: checkTokenAnswer(answer.body, request, types, startedAt) };
      } catch (error) {
        return { failure: refusal(error as OboError), answered: true };
      }
    }
    const failure = classifyTokenEndpointError(answer, request, kind);
    // A refused client assertion may be stale: the next request reads a fresh one (file or callback).
    if (failure.error.code === 'ERR_OBO_CLIENT_CREDENTIALS_INVALID') auth.discardAssertion();
    return { failure, answered: true };
  }

  /**
   * The token endpoint from the authority's metadata, which the {@link SigningKeyStore} loads at
   * startup for inbound validation and refreshes with the keys; loaded here only when it is not yet
   * (an app token before any request), and not again for 5 s after that failed.
   * @throws {OboError} `ERR_OBO_PROVIDER_UNAVAILABLE` (metadata unavailable), `ERR_OBO_PROVIDER_BAD_RESPONSE` (no usable `token_endpoint`).
   */
  private async tokenEndpoint(): Promise<string> {
    let metadata = this.keys.metadata;
    if (metadata === undefined) {
      if (Date.now() < this.metadataFailedUntil) throw new OboError('ERR_OBO_PROVIDER_UNAVAILABLE', 'The authority metadata could not be loaded a moment ago.');
      metadata = await this.keys.warmUp();
      if (metadata === undefined) {
        this.metadataFailedUntil = Date.now() + METADATA_RETRY_MS;
        throw new OboError('ERR_OBO_PROVIDER_UNAVAILABLE', 'The authority metadata could not be loaded.');
      }
    }
    const endpoint = metadata.tokenEndpoint;
    let url: URL | undefined;
    try {
      url = endpoint === undefined ? undefined : new URL(endpoint);
    } catch {
      url = undefined;
    }
    if (endpoint === undefined || url?.protocol !== 'https:') {
      throw new OboError('ERR_OBO_PROVIDER_BAD_RESPONSE', `The metadata of ${this.options.tenantId} names no https token_endpoint (got ${endpoint === undefined ? 'none' : JSON.stringify(endpoint.slice(0, 200))}); tokens cannot be requested.`);
    }
    return endpoint;
  }
}
