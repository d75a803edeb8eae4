import type { ServerResponse } from 'node:http';

/** How an endpoint of the local authority misbehaves, for fault tests. */
export type EndpointFault = 'none' | 'status-404' | 'status-500' | 'hang' | 'garbage' | 'empty-keys' | 'enc-only' | 'huge';

/** True for the multi-tenant path segments whose issuer is the `{tenantid}` template. */
export function isMultiTenantSegment(tenant: string): boolean {
  return tenant === 'organizations' || tenant === 'common';
}

/** The OpenID configuration of `tenant` (v2.0 or v1.0), Entra style. */
export function discoveryDocument(instance: string, tenant: string, v2: boolean, issuer: string): Record<string, unknown> {
  const base = `${instance}${tenant}`;
  return {
    issuer,
    jwks_uri: v2 ? `${base}/discovery/v2.0/keys` : `${base}/discovery/keys`,
    token_endpoint: v2 ? `${base}/oauth2/v2.0/token` : `${base}/oauth2/token`,
    authorization_endpoint: v2 ? `${base}/oauth2/v2.0/authorize` : `${base}/oauth2/authorize`,
    response_types_supported: ['code', 'id_token', 'code id_token', 'token id_token', 'token'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    tenant_region_scope: 'WW',
    ...(v2 ? browserSignInMetadata(base) : {}),
  };
}

/** What the v2.0 document says about browser sign-in (authorization code with PKCE, logout). */
function browserSignInMetadata(base: string): Record<string, unknown> {
  return {
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    code_challenge_methods_supported: ['S256'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    grant_types_supported: [
      'authorization_code',
      'refresh_token',
      'client_credentials',
      'urn:ietf:params:oauth:grant-type:jwt-bearer',
      'urn:ietf:params:oauth:grant-type:token-exchange',
    ],
    token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic', 'private_key_jwt'],
    claims_parameter_supported: true,
    backchannel_logout_supported: true,
    backchannel_logout_session_supported: true,
    http_logout_supported: true,
    request_uri_parameter_supported: false,
  };
}

/**
 * Answers a discovery or JWKS request, misbehaving as `fault` says; `publicJwks` are the published
 * public keys (for the `enc-only` fault) and `body` builds the normal answer.
 */
export function replyWithFault(
  res: ServerResponse,
  fault: EndpointFault,
  publicJwks: readonly Record<string, unknown>[],
  body: () => unknown,
): void {
  switch (fault) {
    case 'hang':
      return; // never answer; close() drops the connection
    case 'status-404':
      return sendJson(res, 404, { error: 'not_found' });
    case 'status-500':
      return sendJson(res, 500, { error: 'server_error' });
    case 'garbage':
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys": [ not json');
      return;
    case 'empty-keys':
      return sendJson(res, 200, { keys: [] });
    case 'enc-only':
      return sendJson(res, 200, { keys: publicJwks.map((k) => ({ ...k, use: 'enc' })) });
    case 'huge':
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`{"keys":[],"pad":"${'x'.repeat(10 * 1024 * 1024)}"}`);
      return;
    default:
      return sendJson(res, 200, body());
  }
}

/** Sends `body` as JSON with `cache-control: no-store`. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}
