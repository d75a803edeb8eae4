// The downstream API of the end-to-end bench: a plain node:http server (no framework, no token
// validation) answering `GET /api/whoami` with a small fixed JSON, so the comparison isolates the
// Original API. It only checks that a bearer token came along (401 otherwise).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { failStartup, serveBench } from '../lib/child.js';

const body = JSON.stringify({
  objectId: '00000000-0000-4000-8000-000000000001',
  tenantId: '00000000-0000-4000-8000-000000000002',
  scopes: ['Downstream.Read'],
  roles: [],
  tokenKind: 'user',
});
const length = String(Buffer.byteLength(body));

const server = createServer((request, response) => {
  const authorization = request.headers.authorization;
  if (request.url !== '/api/whoami' || request.method !== 'GET') {
    response.writeHead(404, { 'content-length': '0' }).end();
  } else if (!authorization?.startsWith('Bearer ') || authorization.length < 100) {
    response.writeHead(401, { 'content-length': '0', 'www-authenticate': 'Bearer' }).end();
  } else {
    response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': length }).end(body);
  }
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  serveBench(`http://127.0.0.1:${port}`, async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
server.on('error', failStartup);
