import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { servicePrincipalId, type AppRegistry } from './app-registrations.js';
import { validateUserAssertion } from './assertion-validation.js';
import type { AuthorityKey } from './authority-keys.js';
import { authenticateClient, type AuthenticatedClient } from './client-authentication.js';
import { faultError, MALFORMED_TOKEN_JSON, spoilTokenResponse, statusFaultBody } from './fault-responses.js';
import { basicCredentials, peekClaims, readForm } from './form-body.js';
import { parseDefaultScope, parseDelegatedScopes, parseExchangeTarget } from './scope-request.js';
import { invalidRequest, TokenEndpointError, unsupportedGrantType } from './token-errors.js';
import type { TokenFault, TokenFaultList, TokenGrant } from './token-faults.js';
import {
  ACCESS_TOKEN_TYPE,
  clientCredentialsResponse,
  onBehalfOfResponse,
  tokenExchangeResponse,
  type TokenMinting,
} from './token-grants.js';
import { PendingDelays } from './pending-delays.js';
import type { SignInAuthority } from './sign-in-authority.js';
import type { TokenRequestLog } from './token-request-log.js';

/** `grant_type` of the OBO request (RFC 7523 JWT bearer). */
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** `grant_type` of RFC 8693 token exchange. */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';

/** What the token endpoint needs from its {@link LocalAuthority}. */
export interface TokenEndpointHost extends TokenMinting {
  /** `https://127.0.0.1:<port>/`. */
  readonly instance: string;
  /** The home tenant (used for client credentials on `organizations`/`common`). */
  readonly tenantId: string;
  /** Registered applications (clients and resources). */
  readonly registry: AppRegistry;
  /** Injected faults. */
  readonly faults: TokenFaultList;
  /** Counters and request log. */
  readonly log: TokenRequestLog;
  /** A published key by `kid`. */
  publishedKey(kid: string): AuthorityKey | undefined;
  /** The v2.0 and v1.0 issuers of tenant `tid`. */
  issuersFor(tid: string): readonly string[];
  /** The browser sign-in part: authorization code and refresh token grants, Conditional Access. */
  readonly signIn: Pick<SignInAuthority, 'tokenGrants' | 'grants' | 'enforceOnBehalfOf'>;
}

/** `POST /{tenant}/oauth2/v2.0/token`: OBO, client credentials, RFC 8693 token exchange, authorization code and refresh token. */
export class TokenEndpoint {
  private readonly delays = new PendingDelays();

  constructor(private readonly host: TokenEndpointHost) {}

  /** Serves one request to the token endpoint of `tenant`. */
  async handle(req: IncomingMessage, res: ServerResponse, tenant: string): Promise<void> {
    const correlationId = header(req, 'client-request-id') ?? randomUUID();
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return sendError(res, new TokenEndpointError(405, 'invalid_request', 900561, 'The endpoint only accepts POST requests.'), correlationId);
    }
    let form: Record<string, string>;
    try {
      form = await readForm(req);
    } catch (error) {
      if (error instanceof TokenEndpointError && error.status === 413) res.setHeader('connection', 'close');
      return sendError(res, asTokenError(error), correlationId);
    }
    const grant = grantOf(form.grant_type);
    const oid = grant === 'client_credentials' ? servicePrincipalId(form.client_id ?? '') : (userOid(form) ?? this.host.signIn.grants.userOf(form));
    this.host.log.record(basicCredentials(req) ? { ...form, client_secret_basic: 'present' } : form, grant, oid);
    const fault = this.host.faults.take({ grant, oid, scope: form.scope ?? '', hasClaims: form.claims !== undefined, tenant });
    if (fault?.kind === 'hang') return; // never answer; LocalAuthority.close() drops the socket
    if (fault?.kind === 'delay' && !(await this.delays.wait(fault.ms, res))) return;
    if (fault && this.answeredByFault(fault, res, form, correlationId)) return;
    let body: Record<string, unknown>;
    try {
      body = await this.serve(req, form, tenant);
    } catch (error) {
      const tokenError = asTokenError(error);
      if (tokenError.status === 401 && basicCredentials(req)) res.setHeader('www-authenticate', 'Basic realm="local-authority"');
      return sendError(res, tokenError, correlationId);
    }
    if (fault?.kind === 'altered-token') body = this.altered(body, fault);
    send(res, 200, fault?.kind === 'bad-token-response' ? spoilTokenResponse(body, fault.variant) : body);
  }

  /** Cancels pending `delay` faults (their requests are dropped with the server's sockets). */
  close(): void {
    this.delays.cancelAll();
  }

  private answeredByFault(fault: TokenFault, res: ServerResponse, form: Record<string, string>, correlationId: string): boolean {
    if (fault.kind === 'status') {
      if (fault.retryAfter !== undefined) res.setHeader('retry-after', String(fault.retryAfter));
      send(res, fault.status, fault.body ?? statusFaultBody(fault.status, correlationId));
      return true;
    }
    if (fault.kind === 'malformed-json') {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(MALFORMED_TOKEN_JSON);
      return true;
    }
    const error = faultError(fault, form.client_id ?? '');
    if (error) sendError(res, error, correlationId);
    return error !== undefined;
  }

  /** The response with its access token re-minted the way an `altered-token` fault says. */
  private altered(body: Record<string, unknown>, fault: Extract<TokenFault, { kind: 'altered-token' }>): Record<string, unknown> {
    const { iss: _iss, aud, tid, iat: _iat, nbf: _nbf, exp: _exp, ver, ...kept } = peekClaims(body.access_token as string) ?? {};
    const now = Math.floor(Date.now() / 1000);
    const expired = fault.expOffsetSeconds === undefined ? {} : { iat: now - 3600, nbf: now - 3600, exp: now + fault.expOffsetSeconds };
    const options = {
      version: fault.version ?? (ver === '1.0' ? '1.0' : '2.0'),
      audience: fault.audience ?? (aud as string),
      tenantId: fault.tenantId ?? (tid as string),
      claims: { ...kept, ...expired },
    } as const;
    const accessToken = kept.idtyp === 'app' ? this.host.mintAppToken(options) : this.host.mintUserToken(options);
    return { ...body, access_token: accessToken };
  }

  private async serve(req: IncomingMessage, form: Record<string, string>, tenant: string): Promise<Record<string, unknown>> {
    const grantType = form.grant_type;
    if (grantType === undefined) throw invalidRequest("The request body must contain the following parameter: 'grant_type'.");
    const grant = grantOf(grantType);
    if (grant === undefined) throw unsupportedGrantType(grantType);
    const caller = await authenticateClient(req, form, this.host.registry, `${this.host.instance}${tenant}/oauth2/v2.0/token`);
    if (grant === 'client_credentials') {
      const resource = parseDefaultScope(form.scope, this.host.registry);
      const anyTenant = tenant === 'organizations' || tenant === 'common';
      return clientCredentialsResponse(resource, caller, anyTenant ? this.host.tenantId : tenant, this.host);
    }
    if (grant === 'authorization_code') return this.host.signIn.tokenGrants.authorizationCode(form, caller);
    if (grant === 'refresh_token') return this.host.signIn.tokenGrants.refreshToken(form, caller);
    if (grant === 'on_behalf_of') {
      if (form.requested_token_use !== 'on_behalf_of') {
        throw invalidRequest("The request body must contain the following parameter: 'requested_token_use' with the value 'on_behalf_of'.");
      }
      const user = await this.user(required(form, 'assertion'), tenant, caller);
      const scopes = parseDelegatedScopes(form.scope, this.host.registry);
      this.host.signIn.enforceOnBehalfOf(scopes.resource.clientId, user.claims, form.claims);
      return onBehalfOfResponse(user, scopes, caller, this.host, form.claims);
    }
    const subjectToken = required(form, 'subject_token');
    if (required(form, 'subject_token_type') !== ACCESS_TOKEN_TYPE) {
      throw invalidRequest(`Unsupported 'subject_token_type'; only '${ACCESS_TOKEN_TYPE}' is accepted.`, 90014);
    }
    const grantedScopes = parseExchangeTarget(form, this.host.registry);
    const user = await this.user(subjectToken, tenant, caller);
    return tokenExchangeResponse(user, grantedScopes, caller, this.host, form.claims);
  }

  private user(token: string, pathTenant: string, caller: AuthenticatedClient) {
    return validateUserAssertion(token, {
      publishedKey: (kid) => this.host.publishedKey(kid),
      issuersFor: (tid) => this.host.issuersFor(tid),
      pathTenant,
      caller: caller.app,
    });
  }
}

function grantOf(grantType: string | undefined): TokenGrant | undefined {
  if (grantType === JWT_BEARER_GRANT) return 'on_behalf_of';
  if (grantType === 'client_credentials') return 'client_credentials';
  if (grantType === TOKEN_EXCHANGE_GRANT) return 'token_exchange';
  if (grantType === 'authorization_code' || grantType === 'refresh_token') return grantType;
  return undefined;
}

function userOid(form: Readonly<Record<string, string>>): string | undefined {
  const oid = peekClaims(form.assertion ?? form.subject_token)?.oid;
  return typeof oid === 'string' ? oid : undefined;
}

function required(form: Readonly<Record<string, string>>, name: string): string {
  const value = form[name];
  if (value === undefined || value === '') throw invalidRequest(`The request body must contain the following parameter: '${name}'.`);
  return value;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' && /^[\w-]{1,64}$/.test(value) ? value : undefined;
}

function asTokenError(error: unknown): TokenEndpointError {
  if (error instanceof TokenEndpointError) return error;
  return new TokenEndpointError(500, 'server_error', 90055, 'The local authority failed to process the request.');
}

function sendError(res: ServerResponse, error: TokenEndpointError, correlationId: string): void {
  send(res, error.status, error.body(correlationId));
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed || res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', pragma: 'no-cache' });
  res.end(JSON.stringify(body));
}
