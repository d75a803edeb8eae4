import { randomUUID, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, jwtVerify, SignJWT, type JSONWebKeySet, type JWTPayload } from 'jose';
import { certificateFromEnvironment, ensureDevCertificate, generateAuthorityKey, type AuthorityKey } from 'nestjs-obo/testing';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** One request the token endpoint received, as sent. */
export interface SeenTokenRequest {
  readonly form: URLSearchParams;
  readonly authorization?: string;
}

/** A scripted answer of the token endpoint; `hang` never answers (close() drops the socket). */
export type TokenReply = { readonly status: number; readonly body?: unknown; readonly headers?: Record<string, string> } | { readonly hang: true };

export interface Rfc8693AuthorityOptions {
  readonly clientId: string;
  readonly clientSecret?: string;
  /** Public JWK of the client's private_key_jwt key. */
  readonly clientJwk?: Record<string, unknown>;
}

/**
 * A small generic authority for the RFC 8693 tests, until the local authority speaks the generic
 * profile: https on 127.0.0.1 (the dev certificate), OpenID Connect discovery, a JWKS, and a token
 * endpoint at /oauth/token that records every request, authenticates the client (basic, post,
 * private_key_jwt), verifies the subject token's signature, and issues RS256 JWT access tokens with
 * `aud` = the requested audience (else resource) and an `act` naming the client. `script` replaces
 * answers one request at a time.
 */
export class Rfc8693Authority {
  readonly requests: SeenTokenRequest[] = [];
  readonly script: TokenReply[] = [];
  metadataRequests = 0;
  /** Status of the discovery document; anything but 200 answers an empty body (an outage). */
  metadataStatus = 200;
  /** Overrides merged into every issued answer body (e.g. `{ token_type: 'DPoP' }`). */
  answerOverrides: Record<string, unknown> = {};

  private constructor(
    private readonly server: Server,
    readonly issuer: string,
    private readonly key: AuthorityKey,
    private readonly options: Rfc8693AuthorityOptions,
  ) {}

  static async start(options: Rfc8693AuthorityOptions): Promise<Rfc8693Authority> {
    const tls = certificateFromEnvironment() ?? ensureDevCertificate();
    const key = await generateAuthorityKey('RS256');
    let authority: Rfc8693Authority | undefined;
    const server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => void authority!.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    authority = new Rfc8693Authority(server, `https://127.0.0.1:${port}/`, key, options);
    return authority;
  }

  get tokenEndpoint(): string {
    return `${this.issuer}oauth/token`;
  }

  /** The last token request's form. */
  get lastForm(): URLSearchParams {
    const last = this.requests.at(-1);
    if (!last) throw new Error('no token request was made');
    return last.form;
  }

  /** A user's access token from this authority (RFC 9068 shape), optionally with a chain of `depth` nested actors. */
  mintUserToken(claims: JWTPayload = {}, actors = 0): Promise<string> {
    let act: JWTPayload | undefined;
    for (let i = actors; i > 0; i--) act = { sub: `actor-${i}`, ...(act ? { act } : {}) };
    return this.sign({ sub: `user-${randomUUID()}`, aud: 'https://api.example/original', client_id: 'spa', scope: 'access_as_user', ...(act ? { act } : {}), ...claims }, 'at+jwt');
  }

  sign(payload: JWTPayload, typ = 'at+jwt', expiresIn = '1h'): Promise<string> {
    return new SignJWT({ jti: randomUUID(), ...payload })
      .setProtectedHeader({ alg: 'RS256', kid: this.key.kid, typ })
      .setIssuer(this.issuer)
      .setIssuedAt()
      .setExpirationTime(expiresIn)
      .sign(this.key.privateKey as KeyObject);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && req.url === '/.well-known/openid-configuration') {
      this.metadataRequests++;
      if (this.metadataStatus !== 200) return send(this.metadataStatus, {});
      return send(200, { issuer: this.issuer, jwks_uri: `${this.issuer}jwks`, token_endpoint: this.tokenEndpoint, token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] });
    }
    if (req.method === 'GET' && req.url === '/jwks') return send(200, { keys: [this.key.publicJwk] });
    if (req.method !== 'POST' || req.url !== '/oauth/token') return send(404, { error: 'not_found' });
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    this.requests.push({ form, authorization: req.headers.authorization });
    const scripted = this.script.shift();
    if (scripted) {
      if ('hang' in scripted) return;
      return send(scripted.status, scripted.body ?? {}, scripted.headers);
    }
    const client = await this.authenticate(form, req.headers.authorization);
    if (!client) return send(401, { error: 'invalid_client' });
    const target = form.get('audience') ?? form.get('resource') ?? 'https://api.example/default';
    let claims: JWTPayload;
    if (form.get('grant_type') === TOKEN_EXCHANGE_GRANT) {
      let subject: JWTPayload;
      try {
        subject = (await jwtVerify(form.get('subject_token') ?? '', createLocalJWKSet({ keys: [this.key.publicJwk] } as JSONWebKeySet), { issuer: this.issuer })).payload;
      } catch {
        return send(400, { error: 'invalid_request', error_description: 'Invalid token' });
      }
      claims = { sub: subject.sub, client_id: client, aud: target, act: { sub: client, ...(subject.act ? { act: subject.act } : {}) } };
    } else if (form.get('grant_type') === 'client_credentials') {
      claims = { sub: client, client_id: client, aud: target };
    } else {
      return send(400, { error: 'unsupported_grant_type' });
    }
    if (form.get('scope')) claims.scope = form.get('scope')!;
    const accessToken = await this.sign(claims);
    const exchange = form.get('grant_type') === TOKEN_EXCHANGE_GRANT;
    send(200, { access_token: accessToken, token_type: 'Bearer', expires_in: 3600, ...(exchange ? { issued_token_type: ACCESS_TOKEN_TYPE } : {}), ...this.answerOverrides });
  }

  /** The authenticated client id, or undefined. */
  private async authenticate(form: URLSearchParams, authorization: string | undefined): Promise<string | undefined> {
    const { clientId, clientSecret, clientJwk } = this.options;
    if (authorization?.startsWith('Basic ')) {
      const [id, secret] = Buffer.from(authorization.slice(6), 'base64').toString('utf8').split(':').map((part) => decodeURIComponent(part.replace(/\+/g, ' ')));
      return id === clientId && secret === clientSecret ? clientId : undefined;
    }
    if (form.has('client_secret')) return form.get('client_id') === clientId && form.get('client_secret') === clientSecret ? clientId : undefined;
    const assertion = form.get('client_assertion');
    if (assertion && clientJwk && form.get('client_assertion_type') === 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
      try {
        const { payload } = await jwtVerify(assertion, createLocalJWKSet({ keys: [clientJwk] } as JSONWebKeySet), { issuer: clientId, subject: clientId, audience: this.tokenEndpoint, maxTokenAge: '5m' });
        return typeof payload.jti === 'string' && form.get('client_id') === clientId ? clientId : undefined;
      } catch {
        return undefined;
      }
    }
    return undefined;
  }
}
