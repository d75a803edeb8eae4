// The AccessTokenValidator on its own (issue 11, "Adapters and transports"): a WebSocket server
// (ws, no Nest HTTP app, no guard) that validates the bearer token of the upgrade request with
// validator.validate(token) before it accepts the connection, and refuses it with the same RFC 6750
// status and WWW-Authenticate challenge the HTTP guard sends. What a WebSocket gateway's handshake
// or a microservice's message handler does with the token it carries.
import { createServer, STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { WebSocket, WebSocketServer } from 'ws';
import { AccessTokenValidator, OboHttpException, OboModule } from 'nestjs-obo';
import { LocalAuthority } from 'nestjs-obo/testing';
import { optionsFor } from './support/api-under-test.js';
import { nowSeconds } from './support/clock.js';
import { LEAK_PATTERNS } from './support/expect-rejection.js';

/** Answers a refused upgrade on the raw socket: the rejection's status and headers, no body. */
function refuse(socket: Duplex, rejection: OboHttpException): void {
  const status = rejection.getStatus();
  const headers = Object.entries(rejection.headers).map(([name, value]) => `${name}: ${value}\r\n`);
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${headers.join('')}Connection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** A WebSocket server whose handshake is authenticated by `validator`; each accepted socket is told its user's oid. */
function startSocketServer(validator: AccessTokenValidator): { server: Server; sockets: WebSocketServer } {
  const sockets = new WebSocketServer({ noServer: true });
  const server = createServer();
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const token = /^Bearer (\S+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? '';
    validator.validate(token).then(
      (principal) => sockets.handleUpgrade(request, socket, head, (ws) => ws.send(JSON.stringify({ objectId: principal.objectId }))),
      (error: unknown) => refuse(socket, error instanceof OboHttpException ? error : validator.rejectionFor(error)),
    );
  });
  return { server, sockets };
}

type Handshake = { accepted: true; objectId: string } | { accepted: false; status: number; challenge?: string };

/** Opens a WebSocket with `Authorization: Bearer <token>`; the first message, or the refusal. */
function connect(url: string, token: string): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` }, handshakeTimeout: 10_000 });
    ws.once('message', (data) => {
      ws.close();
      resolve({ accepted: true, ...(JSON.parse(String(data)) as { objectId: string }) });
    });
    ws.once('unexpected-response', (_request, response) => {
      resolve({ accepted: false, status: response.statusCode ?? 0, challenge: response.headers['www-authenticate'] });
      response.resume();
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

describe('AccessTokenValidator on its own: a WebSocket handshake (issue 11)', () => {
  let authority: LocalAuthority;
  let context: INestApplicationContext;
  let server: Server;
  let sockets: WebSocketServer;
  let url: string;

  beforeAll(async () => {
    authority = await LocalAuthority.start();
    @Module({ imports: [OboModule.forRoot({ ...optionsFor(authority), globalGuard: false })] })
    class ValidatorOnlyModule {}
    context = await NestFactory.createApplicationContext(ValidatorOnlyModule, { logger: false });
    ({ server, sockets } = startSocketServer(context.get(AccessTokenValidator)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    for (const client of sockets?.clients ?? []) client.terminate();
    sockets?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await context?.close();
    await authority?.close();
  });

  it('accepts the connection of a valid user token and knows its user', async () => {
    const token = authority.mintUserToken();
    const { oid } = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { oid: string };
    expect(await connect(url, token)).toEqual({ accepted: true, objectId: oid });
  });

  it.each<[string, (a: LocalAuthority) => Promise<string>, RegExp]>([
    ['signed by a key the authority does not publish', async (a) => a.mintUserToken({ key: await a.foreignKey() }), /^Bearer error="invalid_token", error_description="The access token is invalid\."$/],
    ['whose payload was swapped for another user\u2019s after signing', async (a) => {
      const [head, , signature] = a.mintUserToken().split('.');
      return `${head}.${a.mintUserToken().split('.')[1]}.${signature}`;
    }, /^Bearer error="invalid_token", error_description="The access token is invalid\."$/],
    ['for another audience', async (a) => a.mintUserToken({ audience: 'api://someone-else' }), /^Bearer error="invalid_token", error_description="The access token is invalid\."$/],
    [
      'expired',
      async (a) => a.mintUserToken({ claims: { exp: nowSeconds() - 3_600, iat: nowSeconds() - 7_200, nbf: nowSeconds() - 7_200 } }),
      /^Bearer error="invalid_token", error_description="The access token has expired\."$/,
    ],
  ])('refuses the handshake of a token %s with 401 and the guard\u2019s challenge, and opens no socket', async (_name, mint, challenge) => {
    const handshake = await connect(url, await mint(authority));
    expect(handshake).toEqual({ accepted: false, status: 401, challenge: expect.stringMatching(challenge) });
    for (const pattern of LEAK_PATTERNS) expect((handshake as { challenge: string }).challenge).not.toMatch(pattern);
    expect(sockets.clients.size).toBe(0);
  });
});
