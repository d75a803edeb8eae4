import type { IncomingMessage, ServerResponse } from 'node:http';
import { peekHeader } from './assertion-validation.js';
import { MALFORMED_TOKEN_JSON } from './fault-responses.js';
import { basicCredentials, peekClaims, readForm } from './form-body.js';
import { authenticateOidcClient, type OidcClientAuthContext } from './oidc-client-authentication.js';
import { oauthError, oauthErrorBody } from './oidc-errors.js';
import { clientCredentials, tokenExchange, type OidcGrantHost } from './oidc-grants.js';
import type { OidcGrant } from './oidc-registrations.js';
import { oidcFaultError, oidcStatusBody, spoilOidcTokenResponse, type OidcTokenFault, type OidcTokenFaultList } from './oidc-token-faults.js';
import { TokenEndpointError } from './token-errors.js';
import { TOKEN_EXCHANGE_GRANT } from './token-endpoint.js';
import { PendingDelays } from './pending-delays.js';
import type { TokenRequestLog } from './token-request-log.js';

/** What the generic token endpoint needs from its {@link LocalOidcAuthority}. */
export interface OidcTokenEndpointHost extends OidcGrantHost {
  /** Client authentication settings. */
  readonly clientAuth: OidcClientAuthContext;
  readonly faults: OidcTokenFaultList;
  readonly log: TokenRequestLog;
  /** Signs `claims` under `header` with the active key (for `altered-token` faults). */
  resign(header: Record<string, unknown>, claims: Record<string, unknown>): string;
}

/** Form fields never kept in the request log as sent. */
const SECRET_FIELDS: ReadonlySet<string> = new Set(['client_secret']);

/** The token endpoint of a generic authority: RFC 8693 token exchange and client credentials. */
export class OidcTokenEndpoint {
  private readonly delays = new PendingDelays();

  constructor(private readonly host: OidcTokenEndpointHost) {}

  /** Serves one request. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return sendError(res, oauthError(405, 'invalid_request', 'The token endpoint only accepts POST.'));
    }
    let form: Record<string, string>;
    try {
      form = await readForm(req);
    } catch (error) {
      if (error instanceof TokenEndpointError && error.status === 413) res.setHeader('connection', 'close');
      return sendError(res, asOAuthError(error));
    }
    const grant = grantOf(form.grant_type);
    const subject = peekClaims(form.subject_token)?.sub;
    const user = typeof subject === 'string' ? subject : undefined;
    this.host.log.record(loggable(form, req), grant, user);
    const fault = this.host.faults.take({
      grant,
      subject: user,
      audience: form.audience ?? form.resource,
      clientId: basicCredentials(req)?.clientId ?? form.client_id ?? stringOrUndefined(peekClaims(form.client_assertion)?.sub),
      scope: form.scope ?? '',
    });
    if (fault?.kind === 'hang') return; // never answer; close() drops the socket
    if (fault?.kind === 'delay' && !(await this.delays.wait(fault.ms, res))) return;
    if (fault && answeredByFault(fault, res)) return;
    let body: Record<string, unknown>;
    try {
      body = await this.serve(req, form, grant);
    } catch (error) {
      const oauth = asOAuthError(error);
      if (oauth.status === 401 && basicCredentials(req)) res.setHeader('www-authenticate', 'Basic realm="local-oidc-authority"');
      return sendError(res, oauth);
    }
    if (fault?.kind === 'altered-token') body = { ...body, access_token: this.altered(String(body.access_token), fault) };
    send(res, 200, fault?.kind === 'bad-token-response' ? spoilOidcTokenResponse(body, fault.variant) : body);
  }

  /** Cancels pending `delay` faults (their requests are dropped with the server's sockets). */
  close(): void {
    this.delays.cancelAll();
  }

  private async serve(req: IncomingMessage, form: Record<string, string>, grant: OidcGrant | undefined): Promise<Record<string, unknown>> {
    if (form.grant_type === undefined) throw oauthError(400, 'invalid_request', "The request must contain 'grant_type'.");
    const caller = await authenticateOidcClient(req, form, this.host.clientAuth);
    if (grant === 'token_exchange') return tokenExchange(form, caller.client, this.host);
    if (grant === 'client_credentials') return clientCredentials(form, caller.client, this.host);
    throw oauthError(400, 'unsupported_grant_type', `The grant type '${form.grant_type}' is not supported.`);
  }

  private altered(token: string, fault: Extract<OidcTokenFault, { kind: 'altered-token' }>): string {
    const header = peekHeader(token) ?? {};
    const claims = { ...peekClaims(token) };
    if (fault.audience !== undefined) claims.aud = fault.audience;
    if (fault.expOffsetSeconds !== undefined) claims.exp = Math.floor(Date.now() / 1000) + fault.expOffsetSeconds;
    return this.host.resign(header, claims);
  }
}

function answeredByFault(fault: OidcTokenFault, res: ServerResponse): boolean {
  if (fault.kind === 'status') {
    if (fault.retryAfter !== undefined) res.setHeader('retry-after', String(fault.retryAfter));
    send(res, fault.status, fault.body ?? oidcStatusBody(fault.status));
    return true;
  }
  if (fault.kind === 'malformed-json') {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(MALFORMED_TOKEN_JSON);
    return true;
  }
  const error = oidcFaultError(fault);
  if (error) sendError(res, error);
  return error !== undefined;
}

function grantOf(grantType: string | undefined): OidcGrant | undefined {
  if (grantType === TOKEN_EXCHANGE_GRANT) return 'token_exchange';
  return grantType === 'client_credentials' ? 'client_credentials' : undefined;
}

/** The form as logged: secrets replaced by `present`, an HTTP Basic credential noted the same way. */
function loggable(form: Readonly<Record<string, string>>, req: IncomingMessage): Record<string, string> {
  const fields = Object.fromEntries(Object.entries(form).map(([name, value]) => [name, SECRET_FIELDS.has(name) ? 'present' : value]));
  return basicCredentials(req) ? { ...fields, client_secret_basic: 'present' } : fields;
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function asOAuthError(error: unknown): TokenEndpointError {
  if (error instanceof TokenEndpointError) return error;
  return oauthError(500, 'server_error', 'The local authority failed to process the request.');
}

function sendError(res: ServerResponse, error: TokenEndpointError): void {
  send(res, error.status, oauthErrorBody(error));
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed || res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', pragma: 'no-cache' });
  res.end(JSON.stringify(body));
}
