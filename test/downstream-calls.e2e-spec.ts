// Catalogue section 4.7, #82-#84, and DownstreamApi behaviour: what the Original API does with the
// downstream API's answers (claims challenges, plain 401s, hostile challenges, 5xx/404, hangs),
// app tokens (/api/app-profile, getAccessTokenForApp in a user context) and which token goes where.
import { randomUUID } from 'node:crypto';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Controller, Get } from '@nestjs/common';
import { DownstreamApi, RequiredScopes, TokenAcquisition } from 'nestjs-obo';
import { LocalAuthority, servicePrincipalId } from 'nestjs-obo/testing';
import { expectCleanError } from './support/expect-clean-error.js';
import { one, send, type Reply } from './support/http-reply.js';
import { jwtPayload } from './support/jwt-payload.js';
import { startOboChain, type OboChain } from './support/obo-chain.js';
import { startStubDownstream, type StubDownstream } from './support/stub-downstream.js';

// ---------------------------------------------------------------------------------------------
// Helpers (local to this file)
// ---------------------------------------------------------------------------------------------

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
/** Text a downstream API puts in its error bodies and challenges; it must never reach our client. */
const CANARY = 'DOWNSTREAM-CANARY-7f3a';

/** expectCleanError that also forbids the downstream API's canary text and injected headers. */
function expectCleanDownstreamError(reply: Reply, status: number, code: string, secret: string): void {
  expectCleanError(reply, status, code, secret, [/injected/i, new RegExp(CANARY)]);
}

function expectDownstreamFailed(reply: Reply, secret: string): void {
  expectCleanDownstreamError(reply, 502, 'ERR_OBO_DOWNSTREAM_FAILED', secret);
  expect(JSON.parse(reply.body)).toEqual({ statusCode: 502, code: 'ERR_OBO_DOWNSTREAM_FAILED', message: 'An upstream service failed.' });
  expect(reply.headers.has('www-authenticate')).toBe(false);
}

/** A downstream API answering raw bytes (header injection, duplicate headers, 1 MB headers). */
interface RawDownstream {
  readonly url: string;
  /** Bearer tokens received, in order. */
  readonly tokens: string[];
  /** Raw responses, one per request; when empty: 200 `{"ok":true}`. */
  readonly script: string[];
  close(): Promise<void>;
}

async function startRawDownstream(): Promise<RawDownstream> {
  const tokens: string[] = [];
  const script: string[] = [];
  const sockets = new Set<Socket>();
  const server: TcpServer = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined); // the client may hang up while a 1 MB header is written
    let head = '';
    socket.on('data', (chunk: Buffer) => {
      if (head.includes('\r\n\r\n')) return;
      head += chunk.toString('latin1');
      if (head.length > 65_536) return void socket.destroy();
      if (!head.includes('\r\n\r\n')) return;
      tokens.push(/\r\nauthorization: Bearer ([^\r\n]*)/i.exec(head)?.[1] ?? '');
      socket.end(script.shift() ?? rawResponse('200 OK', [], '{"ok":true}'), 'latin1');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    tokens,
    script,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function rawResponse(status: string, headerLines: string[], body = `{"error":"${CANARY}"}`): string {
  return [`HTTP/1.1 ${status}`, ...headerLines, 'content-type: application/json', `content-length: ${Buffer.byteLength(body)}`, 'connection: close', '', body].join('\r\n');
}

/** Routes of the Original API used by these tests; names are set once the chain has started. */
const routes = { appScope: '' };

@Controller('calls')
class CallsController {
  constructor(
    private readonly downstream: DownstreamApi,
    private readonly tokens: TokenAcquisition,
  ) {}

  @Get('raw')
  @RequiredScopes('access_as_user')
  raw(): Promise<unknown> {
    return this.downstream.get('raw', '/api/whoami');
  }

  @Get('both')
  @RequiredScopes('access_as_user')
  async both(): Promise<unknown> {
    return { alpha: await this.downstream.get('downstream', '/api/whoami'), beta: await this.downstream.get('beta', '/api/whoami') };
  }

  /** An app-only token while serving a user, without opting in: must be refused. */
  @Get('app-token')
  @RequiredScopes('access_as_user')
  async appToken(): Promise<unknown> {
    const token = await this.tokens.getAccessTokenForApp(routes.appScope);
    return { aud: jwtPayload(token).aud };
  }

  /** The same with `allowInUserContext: true` (and forceRefresh, so the provider is asked). */
  @Get('app-token-allowed')
  @RequiredScopes('access_as_user')
  async appTokenAllowed(): Promise<unknown> {
    const claims = jwtPayload(await this.tokens.getAccessTokenForApp(routes.appScope, { allowInUserContext: true, forceRefresh: true }));
    return { aud: claims.aud, idtyp: claims.idtyp, roles: claims.roles, azp: claims.azp };
  }
}

// ---------------------------------------------------------------------------------------------
// #82-#84 and downstream failures, against scripted downstream APIs
// ---------------------------------------------------------------------------------------------

describe('DownstreamApi against scripted downstream APIs (catalogue #82-#84)', () => {
  const alphaId = randomUUID();
  const betaId = randomUUID();
  const alphaScope = `api://${alphaId}/Alpha.Read`;
  const betaScope = `api://${betaId}/Beta.Read`;
  let authority: LocalAuthority;
  let stub: StubDownstream;
  let beta: StubDownstream;
  let raw: RawDownstream;
  let chain: OboChain;
  let secret: string;
  const profile = () => `${chain.original.url}/api/profile`;

  beforeAll(async () => {
    authority = await LocalAuthority.start();
    authority.registerApp({ clientId: alphaId, scopes: ['Alpha.Read'] });
    authority.registerApp({ clientId: betaId, scopes: ['Beta.Read'] });
    stub = await startStubDownstream();
    beta = await startStubDownstream();
    raw = await startRawDownstream();
    chain = await startOboChain({
      authority,
      downstreamUrl: stub.url,
      controllers: [CallsController],
      original: {
        downstreamApis: {
          downstream: { baseUrl: stub.url, scopes: [alphaScope], timeoutMs: 1_000 },
          beta: { baseUrl: beta.url, scopes: [betaScope] },
          raw: { baseUrl: raw.url, scopes: [alphaScope] },
        },
      },
    });
    secret = chain.clientSecret;
  }, 30_000);
  afterAll(async () => {
    await chain?.close();
    await stub?.close();
    await beta?.close();
    await raw?.close();
    await authority?.close();
  });
  beforeEach(() => {
    authority.clearTokenFaults();
    authority.resetCounters();
    for (const target of [stub, beta, raw]) {
      target.tokens.length = 0;
      target.script.length = 0;
    }
  });

  describe('#82 a downstream claims challenge (CAE)', () => {
    const downstreamClaims = '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}';
    const challenge = `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="insufficient_claims", claims="${b64(downstreamClaims)}"`;

    it('drops the cached token, makes one OBO request carrying those claims, retries once and answers 200', async () => {
      const incoming = chain.userToken();
      expect((await send(profile(), incoming)).status).toBe(200);
      const first = stub.tokens[0]!;
      stub.script.push({ status: 401, headers: { 'www-authenticate': challenge }, body: { error: CANARY } });

      const reply = await send(profile(), incoming);
      expect(reply.status).toBe(200);
      // Requests: cached token (refused), then the token acquired with the claims.
      expect(stub.tokens).toHaveLength(3);
      expect(stub.tokens[1]).toBe(first);
      expect(stub.tokens[2]).not.toBe(first);
      expect(jwtPayload(stub.tokens[2]!).acrs).toEqual(['c1']);
      expect(authority.tokenRequests.onBehalfOf).toBe(2);
      const log = authority.tokenRequestLog;
      expect(log[0]!.claims).toBeUndefined();
      // msal adds its own id_token claims requests; the access_token member is exactly the downstream's.
      const sent = JSON.parse(log[1]!.claims ?? 'null') as Record<string, unknown>;
      expect(sent.access_token).toEqual((JSON.parse(downstreamClaims) as Record<string, unknown>).access_token);
      expect(Object.keys(sent).filter((k) => k !== 'id_token')).toEqual(['access_token']);
      expect(log[1]!.assertion).toBe(incoming);

      // The refused token is gone from the cache: it is never sent again.
      expect((await send(profile(), incoming)).status).toBe(200);
      expect(stub.tokens[3]).not.toBe(first);
    });

    it('relays the provider\u2019s own claims challenge as 401 insufficient_claims when the claims-bearing OBO request is challenged, without calling the downstream API again', async () => {
      const providerClaims = '{"access_token":{"capolids":{"essential":true,"values":["2f1c3c57-45d5-4a49-b2c4-cd0b6a4b8f1e"]}}}';
      authority.injectTokenFault({ kind: 'claims-challenge', claims: providerClaims, suberror: 'basic_action' }, { whenClaimsPresent: true });
      stub.script.push({ status: 401, headers: { 'www-authenticate': challenge } });
      const reply = await send(profile(), chain.userToken());
      expectCleanDownstreamError(reply, 401, 'ERR_OBO_CLAIMS_CHALLENGE', secret);
      const header = one(reply, 'www-authenticate');
      expect(header).toBe(
        `Bearer realm="", authorization_uri="${authority.instance}${authority.tenantId}/oauth2/v2.0/authorize", ` +
          `client_id="${chain.originalId}", error="insufficient_claims", claims="${b64(providerClaims)}"`,
      );
      expect(Buffer.from(/claims="([^"]*)"/.exec(header ?? '')?.[1] ?? '', 'base64').toString('utf8')).toBe(providerClaims);
      expect(authority.tokenRequests.onBehalfOf).toBe(2);
      expect(stub.tokens).toHaveLength(1);
    });

    it('retries at most once: a second claims challenge from the downstream API gives 502 ERR_OBO_DOWNSTREAM_FAILED', async () => {
      stub.script.push({ status: 401, headers: { 'www-authenticate': challenge } }, { status: 401, headers: { 'www-authenticate': challenge } });
      const reply = await send(profile(), chain.userToken());
      expectDownstreamFailed(reply, secret);
      expect(stub.tokens).toHaveLength(2);
      expect(authority.tokenRequests.onBehalfOf).toBe(2);
    });
  });

  describe('#82 a downstream RFC 9470 step-up challenge', () => {
    it('relays insufficient_user_authentication with the same acr_values and max_age as a 401, with no second token request or retry', async () => {
      stub.script.push({ status: 401, headers: { 'www-authenticate': `Bearer error="insufficient_user_authentication", error_description="${CANARY}", acr_values="urn:example:mfa", max_age="120"` } });
      const reply = await send(profile(), chain.userToken());
      expectCleanDownstreamError(reply, 401, 'ERR_OBO_STEP_UP_REQUIRED', secret);
      expect(one(reply, 'www-authenticate')).toMatch(/^Bearer error="insufficient_user_authentication", error_description="[^"]+", acr_values="urn:example:mfa", max_age="?120"?$/);
      expect(stub.tokens).toHaveLength(1);
      expect(authority.tokenRequests.onBehalfOf).toBe(1);
    });
  });

  describe('#83 a downstream 401 without claims', () => {
    it('makes one fresh OBO request (cache skipped), retries once with the new token and answers 200', async () => {
      const incoming = chain.userToken();
      stub.script.push({ status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } });
      const reply = await send(profile(), incoming);
      expect(reply.status).toBe(200);
      expect(stub.tokens).toHaveLength(2);
      expect(stub.tokens[1]).not.toBe(stub.tokens[0]);
      expect(authority.tokenRequests.onBehalfOf).toBe(2);
      expect(authority.tokenRequestLog.map((r) => r.claims)).toEqual([undefined, undefined]);
    });

    it.each<[string, Record<string, string>]>([
      ['Bearer error="invalid_token" with a description', { 'www-authenticate': `Bearer error="invalid_token", error_description="${CANARY} token revoked"` }],
      ['no WWW-Authenticate header', {}],
      ['a Basic challenge', { 'www-authenticate': `Basic realm="${CANARY}"` }],
      ['insufficient_scope', { 'www-authenticate': `Bearer error="insufficient_scope", scope="${CANARY}"` }],
    ])('answers 502 ERR_OBO_DOWNSTREAM_FAILED, without passing the downstream challenge through, when the retry is refused too (%s)', async (_name, headers) => {
      stub.script.push({ status: 401, headers, body: { error: CANARY } }, { status: 401, headers, body: { error: CANARY } });
      const reply = await send(profile(), chain.userToken());
      expectDownstreamFailed(reply, secret);
      expect(stub.tokens).toHaveLength(2);
      expect(authority.tokenRequests.onBehalfOf).toBe(2);
    });
  });

  describe('#84 a hostile downstream challenge', () => {
    const valid = b64('{"access_token":{"acrs":{"essential":true,"value":"c1"}}}');
    const challengeWith = (params: string) => `www-authenticate: Bearer realm="", error="insufficient_claims", ${params}`;
    it.each<[string, string[]]>([
      ['claims that is not base64', [challengeWith(`claims="%%${CANARY}%%"`)]],
      ['claims that is base64 of text, not JSON', [challengeWith(`claims="${b64(`${CANARY} hello`)}"`)]],
      ['claims that is base64 of a JSON array', [challengeWith(`claims="${b64(`["${CANARY}"]`)}"`)]],
      ['claims that is base64 of a JSON string', [challengeWith(`claims="${b64(`"${CANARY}"`)}"`)]],
      ['claims over 4 KB', [challengeWith(`claims="${b64(`{"access_token":{"x":"${CANARY}${'a'.repeat(4_500)}"}}`)}"`)]],
      ['a 1 MB claims value', [challengeWith(`claims="${'QUFB'.repeat(262_144)}"`)]],
      ['an escaped quote inside claims', [challengeWith(`claims="${valid.slice(0, 8)}\\"${CANARY}"`)]],
      ['CR LF inside claims (header injection)', [challengeWith(`claims="${valid.slice(0, 8)}`), `x-injected: ${CANARY}"`]],
      ['two claims parameters', [challengeWith(`claims="${valid}", claims="${b64(`{"${CANARY}":1}`)}"`)]],
      ['two error parameters', [challengeWith(`error="insufficient_claims", claims="${valid}"`)]],
      ['two WWW-Authenticate headers with a claims challenge each', [challengeWith(`claims="${valid}"`), challengeWith(`claims="${b64(`{"${CANARY}":1}`)}"`)]],
    ])('answers 502 ERR_OBO_DOWNSTREAM_FAILED for %s, reflects nothing and does not retry', async (_name, headerLines) => {
      raw.script.push(rawResponse('401 Unauthorized', headerLines));
      const reply = await send(`${chain.original.url}/calls/raw`, chain.userToken());
      expectDownstreamFailed(reply, secret);
      expect(reply.headers.has('x-injected')).toBe(false);
      expect(raw.tokens).toHaveLength(1);
      expect(authority.tokenRequests.onBehalfOf).toBe(1);
    });
  });

  describe('downstream failures are 502/504 and never echoed', () => {
    it.each([500, 502, 503, 404])('answers 502 ERR_OBO_DOWNSTREAM_FAILED when the downstream API answers %i, without its body, after one request', async (status) => {
      stub.script.push({ status, headers: { 'x-debug': CANARY }, body: { error: CANARY, stack: `Error: ${CANARY}\n    at handler (/srv/app.js:1:1)` } });
      const reply = await send(profile(), chain.userToken());
      expectDownstreamFailed(reply, secret);
      expect(stub.tokens).toHaveLength(1);
      expect(authority.tokenRequests.onBehalfOf).toBe(1);
    });

    it('answers 502 ERR_OBO_DOWNSTREAM_FAILED when the downstream API answers 200 with a body that is not JSON, without echoing it', async () => {
      raw.script.push(rawResponse('200 OK', [], `<html>${CANARY}</html>`));
      const reply = await send(`${chain.original.url}/calls/raw`, chain.userToken());
      expectDownstreamFailed(reply, secret);
    });

    it('answers 504 ERR_OBO_DOWNSTREAM_TIMEOUT when the downstream API hangs longer than its timeoutMs (1 s)', async () => {
      stub.script.push({ hang: true });
      const reply = await send(profile(), chain.userToken());
      expectCleanDownstreamError(reply, 504, 'ERR_OBO_DOWNSTREAM_TIMEOUT', secret);
      expect(reply.headers.has('www-authenticate')).toBe(false);
      expect(stub.tokens).toHaveLength(1);
    }, 15_000);

    it('does not follow a downstream redirect: 502, and the redirect target receives nothing', async () => {
      stub.script.push({ status: 307, headers: { location: `${beta.url}/steal` } });
      const reply = await send(profile(), chain.userToken());
      expectDownstreamFailed(reply, secret);
      expect(beta.tokens).toHaveLength(0);
    });
  });

  describe('tokens go only to the API they are for', () => {
    it('sends each downstream API a token for its own audience and scope, never the incoming token', async () => {
      const oid = randomUUID();
      const incoming = chain.userToken({ claims: { oid } });
      const reply = await send(`${chain.original.url}/calls/both`, incoming);
      expect(reply.status).toBe(200);
      expect(stub.tokens).toHaveLength(1);
      expect(beta.tokens).toHaveLength(1);
      const alphaToken = jwtPayload(stub.tokens[0]!);
      const betaToken = jwtPayload(beta.tokens[0]!);
      expect(alphaToken).toMatchObject({ aud: alphaId, azp: chain.originalId, scp: 'Alpha.Read', oid });
      expect(betaToken).toMatchObject({ aud: betaId, azp: chain.originalId, scp: 'Beta.Read', oid });
      expect([...stub.tokens, ...beta.tokens]).not.toContain(incoming);
      expect(authority.tokenRequests.onBehalfOf).toBe(2);
      expect(authority.tokenRequestLog.every((r) => r.assertion === incoming)).toBe(true);
    });

    it('never sends one user\u2019s downstream token for another user', async () => {
      const users = [randomUUID(), randomUUID(), randomUUID()];
      const tokens = users.map((oid) => chain.userToken({ claims: { oid } }));
      for (let round = 0; round < 3; round++) {
        for (const token of tokens) expect((await send(profile(), token)).status).toBe(200);
      }
      expect(stub.tokens).toHaveLength(9);
      stub.tokens.forEach((token, i) => expect({ call: i, oid: jwtPayload(token).oid }).toEqual({ call: i, oid: users[i % 3] }));
      expect(authority.tokenRequests.onBehalfOf).toBe(3);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// App tokens, against the sample Downstream API
// ---------------------------------------------------------------------------------------------

describe('App-only downstream calls and getAccessTokenForApp', () => {
  let chain: OboChain;
  beforeAll(async () => {
    chain = await startOboChain({ controllers: [CallsController] });
    routes.appScope = `api://${chain.downstreamId}/.default`;
  }, 30_000);
  afterAll(async () => {
    await chain?.close();
  });
  beforeEach(() => {
    chain.authority.clearTokenFaults();
    chain.authority.resetCounters();
  });

  it('GET /api/app-profile calls the downstream API with the Original API\u2019s app token (client credentials, cached)', async () => {
    const caller = chain.authority.mintAppToken({ audience: chain.originalId, claims: { roles: ['Profile.Read.All'] } });
    const reply = await send(`${chain.original.url}/api/app-profile`, caller);
    expect(reply.status).toBe(200);
    const principal = servicePrincipalId(chain.originalId);
    expect(JSON.parse(reply.body)).toEqual({
      downstream: { objectId: principal, subject: principal, tenantId: chain.authority.tenantId, clientAppId: chain.originalId, scopes: [], roles: ['Downstream.Read.All'], tokenKind: 'app' },
    });
    expect(chain.authority.tokenRequests.clientCredentials).toBe(1);
    expect(chain.authority.tokenRequests.onBehalfOf).toBe(0);
    const request = chain.authority.lastTokenRequest!;
    expect(request.grant_type).toBe('client_credentials');
    expect(request.scope).toBe(`api://${chain.downstreamId}/.default`);
    expect(request.client_id).toBe(chain.originalId);
    expect(request.client_secret).toBe(chain.clientSecret);
    expect(request.assertion).toBeUndefined();
    expect(request.requested_token_use).toBeUndefined();

    expect((await send(`${chain.original.url}/api/app-profile`, caller)).status).toBe(200);
    expect(chain.authority.tokenRequests.clientCredentials).toBe(1);
  });

  it('GET /api/app-profile refuses a user token with 403 insufficient_scope naming Profile.Read.All, with no token request', async () => {
    const reply = await send(`${chain.original.url}/api/app-profile`, chain.userToken());
    expectCleanDownstreamError(reply, 403, 'ERR_OBO_INSUFFICIENT_SCOPE', chain.clientSecret);
    expect(one(reply, 'www-authenticate')).toMatch(/^Bearer error="insufficient_scope", error_description="[^"]+", scope="Profile\.Read\.All"$/);
    expect(chain.authority.requests.token).toBe(0);
  });

  it('refuses getAccessTokenForApp while serving a user (500 ERR_OBO_INTERNAL), with no token request', async () => {
    const reply = await send(`${chain.original.url}/calls/app-token`, chain.userToken());
    expectCleanDownstreamError(reply, 500, 'ERR_OBO_INTERNAL', chain.clientSecret);
    expect(JSON.parse(reply.body)).toEqual({ statusCode: 500, code: 'ERR_OBO_INTERNAL', message: 'The server could not complete the request.' });
    expect(reply.headers.has('www-authenticate')).toBe(false);
    expect(chain.authority.requests.token).toBe(0);
  });

  it('serves getAccessTokenForApp while serving a user with allowInUserContext: an app token for the downstream audience', async () => {
    const reply = await send(`${chain.original.url}/calls/app-token-allowed`, chain.userToken());
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toEqual({ aud: chain.downstreamId, idtyp: 'app', roles: ['Downstream.Read.All'], azp: chain.originalId });
    expect(chain.authority.tokenRequests.clientCredentials).toBe(1);
    expect(chain.authority.tokenRequests.onBehalfOf).toBe(0);
  });
});
