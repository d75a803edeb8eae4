import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as tls from 'node:tls';
import { Agent, EnvHttpProxyAgent, type Dispatcher } from 'undici';
import { OboConfigurationError } from '../errors/obo.error.js';
import type { EgressOptions } from './obo-module-options.interface.js';

/** Largest response body accepted on any outbound path, in bytes (10 MiB); paths may cap lower. */
export const MAX_EGRESS_RESPONSE_BYTES = 10 * 1024 * 1024;

/** The one dispatcher every outbound request of a module instance goes through. */
export interface ResolvedEgress {
  readonly dispatcher: Dispatcher;
  /**
   * True when the module created it: closed at shutdown, and it refuses any response body over
   * {@link MAX_EGRESS_RESPONSE_BYTES} by itself. False for the user's, which the module never closes.
   */
  readonly owned: boolean;
  /** How requests leave, for logs. */
  readonly mode: 'direct' | 'proxy-from-environment' | 'dispatcher';
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function certificates(value: unknown): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) {
    throw new OboConfigurationError('egress.ca', 'must be a PEM certificate, or a non-empty list of them ("-----BEGIN CERTIFICATE-----...").');
  }
  return list.flatMap((pem: unknown, i) => {
    const option = typeof value === 'string' ? 'egress.ca' : `egress.ca[${i}]`;
    const blocks = typeof pem === 'string' ? pem.match(PEM_CERTIFICATE) : null;
    if (!blocks) throw new OboConfigurationError(option, 'must hold PEM certificates ("-----BEGIN CERTIFICATE-----...").');
    for (const block of blocks) {
      try {
        new X509Certificate(block);
      } catch {
        throw new OboConfigurationError(option, 'holds a PEM block that is not a readable X.509 certificate; give the authority\u2019s certificate in PEM.');
      }
    }
    return blocks;
  });
}

/**
 * The certificates Node trusts when no `ca` is given. Node's `ca` option replaces that trust, so
 * extra authorities are appended to a copy of it. Node 22.15+ lists it exactly (its bundled roots,
 * `NODE_EXTRA_CA_CERTS`, the system store when told to use it); before that, the bundled roots and
 * the `NODE_EXTRA_CA_CERTS` file (the system store of `--use-openssl-ca` cannot be listed there).
 */
function machineTrust(): string[] {
  const listed = (tls as { getCACertificates?: (type: 'default') => string[] }).getCACertificates?.('default');
  if (listed) return listed;
  const file = process.env.NODE_EXTRA_CA_CERTS;
  let extra: string[] = [];
  if (file) {
    try {
      extra = readFileSync(file, 'utf8').match(PEM_CERTIFICATE) ?? [];
    } catch {
      // Node itself warned at startup that the file cannot be read, and does not trust it either.
    }
  }
  return [...tls.rootCertificates, ...extra];
}

function proxyFromEnvironment(trust: { ca: string[] } | undefined): Dispatcher {
  try {
    return new EnvHttpProxyAgent({ maxResponseSize: MAX_EGRESS_RESPONSE_BYTES, ...(trust && { connect: trust, requestTls: trust, proxyTls: trust }) });
  } catch {
    // undici's message is not kept either: it may quote the value, and a proxy URL may hold credentials.
    throw new OboConfigurationError(
      'egress.proxyFromEnvironment',
      'found HTTPS_PROXY / HTTP_PROXY (or https_proxy / http_proxy) set to something that is not a proxy URL such as "http://proxy.example:3128"; fix the variable (its value is not shown) or turn proxyFromEnvironment off.',
    );
  }
}

/**
 * Resolves `egress` into the module's one outbound dispatcher: the user's `dispatcher` as given,
 * else undici's `EnvHttpProxyAgent` (`proxyFromEnvironment`) or a plain keep-alive `Agent`, with
 * `ca` added to the machine's trust. Creating the dispatcher opens no connection; it reads the proxy
 * variables, and the `NODE_EXTRA_CA_CERTS` file when `ca` is given on Node before 22.15. undici's
 * own headers and body timeouts stay as backstops behind each path's deadline.
 * @throws {OboConfigurationError} for a setting of the wrong type, an unreadable certificate, a
 * proxy variable that is not a URL, or `dispatcher` given together with `proxyFromEnvironment: true` / `ca`.
 */
export function resolveEgress(options: EgressOptions | undefined): ResolvedEgress {
  if (options === undefined) return { dispatcher: new Agent({ maxResponseSize: MAX_EGRESS_RESPONSE_BYTES }), owned: true, mode: 'direct' };
  if (options === null || typeof options !== 'object') throw new OboConfigurationError('egress', 'must be an object such as { proxyFromEnvironment: true }.');
  const { dispatcher, proxyFromEnvironment: fromEnvironment, ca } = options;
  if (fromEnvironment !== undefined && typeof fromEnvironment !== 'boolean') throw new OboConfigurationError('egress.proxyFromEnvironment', 'must be true or false.');
  if (dispatcher !== undefined) {
    if (dispatcher === null || typeof (dispatcher as Partial<Dispatcher>).dispatch !== 'function') {
      throw new OboConfigurationError('egress.dispatcher', 'must be an undici Dispatcher (Agent, ProxyAgent, EnvHttpProxyAgent...) from the undici package, version 7.');
    }
    if (fromEnvironment || ca !== undefined) {
      throw new OboConfigurationError(
        'egress.dispatcher',
        'conflicts with egress.proxyFromEnvironment / egress.ca: your dispatcher carries its own proxy and TLS settings. Configure them on it (e.g. new EnvHttpProxyAgent({ connect: { ca } })), or remove dispatcher.',
      );
    }
    return { dispatcher, owned: false, mode: 'dispatcher' };
  }
  const trust = ca === undefined ? undefined : { ca: [...machineTrust(), ...certificates(ca)] };
  if (fromEnvironment) return { dispatcher: proxyFromEnvironment(trust), owned: true, mode: 'proxy-from-environment' };
  return { dispatcher: new Agent({ maxResponseSize: MAX_EGRESS_RESPONSE_BYTES, ...(trust && { connect: trust }) }), owned: true, mode: 'direct' };
}
