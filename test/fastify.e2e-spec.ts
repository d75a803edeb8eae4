// The sample Original and Downstream APIs (ProfileController, WhoAmIController) on Fastify
// (`@nestjs/platform-fastify`): the guard, @CurrentUser, the RequestContext that DownstreamApi reads
// the user from, the exception filter's claims challenge, and the transport rule Fastify's own
// request object cannot show (two Authorization lines). Real HTTP on 127.0.0.1, the local authority.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Body, Controller, Post } from '@nestjs/common';
import { CurrentUser, DownstreamApi, Principal, RequiredScopes } from 'nestjs-obo';
import { LocalAuthority } from 'nestjs-obo/testing';
import { spawnApp, type RunningApp } from '../apps/demo/src/spawn-app.js';
import type { WhoAmI } from '../apps/downstream-api/src/whoami.controller.js';
import { expectCleanError } from './support/expect-clean-error.js';
import { expectRejection } from './support/expect-rejection.js';
import { jwtPayload } from './support/jwt-payload.js';
import { one, send } from './support/http-reply.js';
import { startOboChain, type OboChain } from './support/obo-chain.js';
import { rawRequest, type RawResponse } from './support/raw-request.js';

const dist = join(import.meta.dirname, '..', 'dist/apps');
const originalEntry = join(dist, 'original-api/src/main.js');
const downstreamEntry = join(dist, 'downstream-api/src/main.js');
if (!existsSync(originalEntry) || !existsSync(downstreamEntry)) throw new Error('Build first: `npm test` runs `npm run build` before jest.');

/** What Fastify's own `clientErrorHandler` writes for a request Node's parser refused (Express lets Node answer with no body). */
const FASTIFY_CLIENT_ERROR = '{"error":"Bad Request","message":"Client Error","statusCode":400}';

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const oidOf = (token: string): string => jwtPayload(token).oid as string;

interface ProfileReply {
  caller: { objectId: string; tenantId: string };
  downstream: WhoAmI;
}

/** A POST whose body the handler echoes next to the Downstream API's view of the caller. */
@Controller('api')
class NotesController {
  constructor(private readonly downstream: DownstreamApi) {}

  @Post('notes')
  @RequiredScopes('access_as_user')
  async note(@CurrentUser() user: Principal, @Body() body: { note?: string }): Promise<{ note?: string; caller: string; downstream: WhoAmI }> {
    return { note: body.note, caller: user.objectId, downstream: await this.downstream.get<WhoAmI>('downstream', '/api/whoami') };
  }
}

/**
 * POSTs a JSON body with `Expect: 100-continue` over raw TCP and sends the body only once the
 * server has answered `100 Continue`: the body then necessarily arrives in a later read than the
 * headers, so body parsing ends on another tick, in whatever async scope the parser keeps.
 */
function postAfterContinue(url: string, path: string, token: string, body: string): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  const head = [
    `POST ${path} HTTP/1.1`,
    `Host: ${hostname}:${port}`,
    'Connection: close',
    `Authorization: Bearer ${token}`,
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Expect: 100-continue',
  ].join('\r\n');
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let text = '';
    let continued = false;
    socket.setTimeout(10_000, () => socket.destroy(new Error('request timed out')));
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (!continued && text.startsWith('HTTP/1.1 100 Continue\r\n\r\n')) {
        continued = true;
        text = '';
        socket.write(body);
      }
    });
    socket.on('end', () => {
      if (!continued) return reject(new Error(`no 100 Continue before the answer: ${text.slice(0, 80)}`));
      resolve(parseResponse(text));
    });
    socket.write(`${head}\r\n\r\n`, 'latin1');
  });
}

function parseResponse(text: string): RawResponse {
  const split = text.indexOf('\r\n\r\n');
  const headerLines = text.slice(0, split).split('\r\n').slice(1);
  const headers: Record<string, string> = {};
  for (const line of headerLines) headers[line.slice(0, line.indexOf(':')).toLowerCase()] = line.slice(line.indexOf(':') + 1).trim();
  const body = text.slice(split + 4);
  return { status: Number(text.split(' ')[1]), headers, headerLines, body, json: () => JSON.parse(body) };
}

describe('the sample APIs on Fastify, On-Behalf-Of (#71 #72 #86 #6)', () => {
  let chain: OboChain;
  const profile = (): string => `${chain.original.url}/api/profile`;

  beforeAll(async () => {
    chain = await startOboChain({ adapter: 'fastify', controllers: [NotesController] });
  }, 30_000);

  afterAll(async () => {
    await chain?.close();
  });

  beforeEach(() => {
    chain.authority.clearTokenFaults();
    chain.authority.resetCounters();
  });

  it('serves both APIs on Fastify, not Express', () => {
    expect(chain.original.app.getHttpAdapter().getType()).toBe('fastify');
    expect(chain.downstream!.app.getHttpAdapter().getType()).toBe('fastify');
  });

  it('#71 answers GET /api/profile with the caller from @CurrentUser and the same user as the Downstream API sees it', async () => {
    const token = chain.userToken();
    const reply = await send(profile(), token);
    expect(reply.status).toBe(200);
    const body = JSON.parse(reply.body) as ProfileReply;
    const oid = oidOf(token);
    expect(body.caller).toEqual({ objectId: oid, tenantId: chain.authority.tenantId });
    expect(body.downstream).toMatchObject({ objectId: oid, tenantId: chain.authority.tenantId, tokenKind: 'user', clientAppId: chain.originalId, scopes: ['Downstream.Read'] });
    expect(chain.authority.tokenRequests.onBehalfOf).toBe(1);
    expect(chain.authority.lastTokenRequest?.assertion).toBe(token);
  });

  it('#86 keeps concurrent users apart: every reply names its own caller downstream', async () => {
    const tokens = Array.from({ length: 12 }, () => chain.userToken());
    const replies = await Promise.all(tokens.map((token) => send(profile(), token)));
    replies.forEach((reply, i) => {
      expect(reply.status).toBe(200);
      const oid = oidOf(tokens[i]!);
      const body = JSON.parse(reply.body) as ProfileReply;
      expect({ caller: body.caller.objectId, downstream: body.downstream.objectId }).toEqual({ caller: oid, downstream: oid });
    });
    expect(chain.authority.tokenRequests.onBehalfOf).toBe(12);
  });

  it('#86 finds the user for DownstreamApi when the POST body arrives after the headers (the context is opened after body parsing)', async () => {
    const token = chain.userToken();
    const oid = oidOf(token);
    const res = await postAfterContinue(chain.original.url, '/api/notes', token, JSON.stringify({ note: 'hello' }));
    expect(res.status).toBe(201);
    expect(res.json()).toMatchObject({ note: 'hello', caller: oid, downstream: { objectId: oid, tokenKind: 'user' } });
  });

  it('#72 relays the provider\u2019s claims challenge as 401 insufficient_claims, with its WWW-Authenticate and Cache-Control: no-store on the Fastify reply', async () => {
    const token = chain.userToken();
    const oid = oidOf(token);
    const claims = '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}';
    chain.authority.injectTokenFault({ kind: 'claims-challenge', claims, error: 'interaction_required' }, { oid });
    const reply = await send(profile(), token);
    expectCleanError(reply, 401, 'ERR_OBO_CLAIMS_CHALLENGE', chain.clientSecret);
    expect(one(reply, 'www-authenticate')).toBe(
      `Bearer realm="", authorization_uri="${chain.authority.instance}${chain.authority.tenantId}/oauth2/v2.0/authorize", ` +
        `client_id="${chain.originalId}", error="insufficient_claims", claims="${b64(claims)}"`,
    );
    expect(one(reply, 'cache-control')).toBe('no-store');
    expect(one(reply, 'pragma')).toBe('no-cache');
    // Another user is not challenged.
    expect((await send(profile(), chain.userToken())).status).toBe(200);
  });

  it('#6 answers 400 invalid_request to two Authorization lines (Fastify\u2019s request shows only the first) and makes no On-Behalf-Of request', async () => {
    const [mine, theirs] = [chain.userToken(), chain.userToken()];
    for (const lines of [
      [`Authorization: Bearer ${mine}`, `Authorization: Bearer ${theirs}`],
      [`Authorization: Bearer ${mine}`, 'authorization: Basic dXNlcjpwYXNz'],
    ]) {
      expectRejection(await rawRequest(chain.original.url, 'GET', '/api/profile', lines), 'H400');
    }
    expect(chain.authority.tokenRequests.onBehalfOf).toBe(0);
  });

  it('answers 401 with a bare Bearer challenge and no-store on both APIs without a token', async () => {
    expectRejection(await rawRequest(chain.original.url, 'GET', '/api/profile'), 'H0');
    expectRejection(await rawRequest(chain.downstream!.url, 'GET', '/api/whoami'), 'H0');
  });
});

describe('the built sample APIs as processes with HTTP_ADAPTER=fastify', () => {
  const originalId = randomUUID();
  const downstreamId = randomUUID();
  const secret = `secret-${randomUUID()}`;
  let authority: LocalAuthority;
  let downstream: RunningApp;
  let original: RunningApp;
  const env = (extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({ ...process.env, PORT: '0', AZURE_AD_INSTANCE: authority.instance, AZURE_AD_TENANT_ID: authority.tenantId, ...extra });

  beforeAll(async () => {
    authority = await LocalAuthority.start({ clientId: originalId });
    authority.registerApp({ clientId: originalId, clientSecret: secret, scopes: ['access_as_user'] });
    authority.registerApp({ clientId: downstreamId, scopes: ['Downstream.Read'] });
    downstream = await spawnApp('downstream-api', downstreamEntry, env({ HTTP_ADAPTER: 'fastify', AZURE_AD_CLIENT_ID: downstreamId }), 30_000);
    original = await spawnApp(
      'original-api',
      originalEntry,
      env({
        HTTP_ADAPTER: 'fastify',
        AZURE_AD_CLIENT_ID: originalId,
        AZURE_AD_CLIENT_SECRET: secret,
        DOWNSTREAM_API_BASE_URL: downstream.url,
        DOWNSTREAM_API_SCOPES: `api://${downstreamId}/Downstream.Read`,
      }),
      30_000,
    );
  }, 60_000);

  afterAll(async () => {
    await original?.stop();
    await downstream?.stop();
    await authority?.close();
  });

  it('serves GET /api/profile on Fastify for the caller, with the same user downstream', async () => {
    const token = authority.mintUserToken({ audience: originalId });
    const reply = await send(`${original.url}/api/profile`, token);
    expect(reply.status).toBe(200);
    const body = JSON.parse(reply.body) as ProfileReply;
    expect({ caller: body.caller.objectId, downstream: body.downstream.objectId, kind: body.downstream.tokenKind }).toEqual({ caller: oidOf(token), downstream: oidOf(token), kind: 'user' });
    // Both processes answer a request Node's parser refuses the way Fastify does, not Express.
    for (const url of [original.url, downstream.url]) {
      const refused = await rawRequest(url, 'GET', '/api/whoami', ['X-Probe: a\u0000b']);
      expect({ status: refused.status, body: refused.body }).toEqual({ status: 400, body: FASTIFY_CLIENT_ERROR });
    }
  });

  it('refuses to start with an HTTP_ADAPTER it does not know, naming the two it accepts', () => {
    const run = spawnSync(process.execPath, [downstreamEntry], { env: env({ HTTP_ADAPTER: 'koa', AZURE_AD_CLIENT_ID: downstreamId }), encoding: 'utf8', timeout: 30_000 });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('HTTP_ADAPTER must be "express" or "fastify" (got "koa").');
  });
});
