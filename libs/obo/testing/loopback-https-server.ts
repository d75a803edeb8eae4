import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { certificateFromEnvironment, ensureDevCertificate } from './dev-certificate.js';
import { assertLoopback } from './loopback.js';

/** Where and how a local authority listens. */
export interface LoopbackHttpsOptions {
  /** Loopback address to bind; anything else is refused. Default `127.0.0.1`. */
  host?: string;
  /** Port; default 0 (a free one). */
  port?: number;
  /** TLS key pair. Default: `LOCAL_AUTHORITY_TLS_DIR`'s certificate, else a fresh one. */
  tls?: { key: string; cert: string };
}

/** A listening loopback https server. */
export interface LoopbackHttpsServer {
  readonly server: Server;
  /** `https://127.0.0.1:<port>` (no trailing slash; IPv6 hosts in brackets). */
  readonly origin: string;
  /** PEM of the TLS certificate (trust it with `NODE_EXTRA_CA_CERTS`). */
  readonly certificate: string;
}

/**
 * Starts an https server on a loopback address with the dev certificate (or `options.tls`);
 * `handler` serves every request. Refuses any non-loopback address.
 */
export async function startLoopbackHttps(
  options: LoopbackHttpsOptions,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<LoopbackHttpsServer> {
  const host = options.host ?? '127.0.0.1';
  assertLoopback(host);
  const tls = options.tls ?? certificateFromEnvironment() ?? ensureDevCertificate();
  const server = createServer({ key: tls.key, cert: tls.cert }, handler);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(options.port ?? 0, host, resolve));
  const { port } = server.address() as AddressInfo;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return { server, origin: `https://${hostPart}:${port}`, certificate: tls.cert };
}

/** Stops `server`, dropping open (including hung) connections. */
export async function stopServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
