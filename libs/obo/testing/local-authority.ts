import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateAuthorityKey, type AuthorityKey } from './authority-keys.js';
import { certificateFromEnvironment, ensureDevCertificate } from './dev-certificate.js';
import { assertLoopback } from './loopback.js';
import type { MintOptions } from './mint-options.js';
import { signCompact } from './sign-jwt.js';

/** How an endpoint of the local authority misbehaves, for fault tests. */
export type EndpointFault = 'none' | 'status-500' | 'hang' | 'garbage' | 'empty-keys' | 'enc-only' | 'huge';

/** Options of {@link LocalAuthority.start}. */
export interface LocalAuthorityOptions {
  /** Loopback address to bind; anything else is refused. Default `127.0.0.1`. */
  host?: string;
  /** Port; default 0 (a free one). */
  port?: number;
  /** The home tenant (GUID). Default: a random one. */
  tenantId?: string;
  /** The protected API's client id: the default audience of minted tokens. Default: a random GUID. */
  clientId?: string;
  /** TLS key pair. Default: `LOCAL_AUTHORITY_TLS_DIR`'s certificate, else a fresh one. */
  tls?: { key: string; cert: string };
  /** Publish Entra's per-key `issuer` (a `{tenantid}` template) in the JWKS. Default true. */
  publishKeyIssuer?: boolean;
}

/** Requests served, per endpoint. */
export interface RequestCounters {
  discovery: number;
  jwks: number;
  token: number;
  other: number;
}

const TENANT_PATH = /^\/([^/]+)\/(.*)$/;

/**
 * An identity provider that speaks Entra ID v2.0 (and v1.0 issuers) over https on loopback:
 * discovery, JWKS with key rotation, token minting with any claim or header overridden, JWKS
 * faults and request counters. For tests, samples and demos; it refuses non-loopback addresses.
 */
export class LocalAuthority {
  /** Requests served so far, per endpoint. */
  readonly requests: RequestCounters = { discovery: 0, jwks: 0, token: 0, other: 0 };
  /** Fault injected into JWKS responses. */
  jwksFault: EndpointFault = 'none';
  /** Fault injected into discovery responses. */
  discoveryFault: EndpointFault = 'none';
  /** The key new tokens are signed with. */
  activeKey: AuthorityKey;
  private readonly published = new Map<string, AuthorityKey>();

  private constructor(
    private readonly server: Server,
    /** `https://127.0.0.1:<port>/`: the `instance` to configure in OboModule. */
    readonly instance: string,
    readonly tenantId: string,
    readonly clientId: string,
    /** PEM of the TLS certificate (trust it with `NODE_EXTRA_CA_CERTS`). */
    readonly certificate: string,
    private readonly publishKeyIssuer: boolean,
    key: AuthorityKey,
  ) {
    this.activeKey = key;
    this.published.set(key.kid, key);
  }

  /** Starts the authority on a free loopback port with one RS256 signing key. */
  static async start(options: LocalAuthorityOptions = {}): Promise<LocalAuthority> {
    const host = options.host ?? '127.0.0.1';
    assertLoopback(host);
    const tls = options.tls ?? certificateFromEnvironment() ?? ensureDevCertificate();
    const key = await generateAuthorityKey();
    let authority: LocalAuthority | undefined;
    const server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => authority!.handle(req, res));
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(options.port ?? 0, host, resolve));
    const { port } = server.address() as AddressInfo;
    const hostPart = host.includes(':') ? `[${host}]` : host;
    authority = new LocalAuthority(
      server,
      `https://${hostPart}:${port}/`,
      options.tenantId ?? randomUUID(),
      options.clientId ?? randomUUID(),
      tls.cert,
      options.publishKeyIssuer ?? true,
      key,
    );
    return authority;
  }

  /** `host:port`, for msal-node's `knownAuthorities`. */
  get authorityHost(): string {
    return new URL(this.instance).host;
  }

  /** v2.0 issuer of a tenant: `<instance><tid>/v2.0`. */
  issuerV2(tenantId = this.tenantId): string {
    return `${this.instance}${tenantId}/v2.0`;
  }

  /** v1.0 issuer of a tenant, as Entra writes it: `https://sts.windows.net/<tid>/`. */
  issuerV1(tenantId = this.tenantId): string {
    return `https://sts.windows.net/${tenantId}/`;
  }

  /** Publishes a new key and signs new tokens with it; earlier keys stay published. */
  async rotateKey(alg = 'RS256'): Promise<AuthorityKey> {
    this.activeKey = await generateAuthorityKey(alg);
    this.published.set(this.activeKey.kid, this.activeKey);
    return this.activeKey;
  }

  /** Removes a key from the JWKS (tokens it signed stop validating once caches refresh). */
  unpublishKey(kid: string): void {
    this.published.delete(kid);
  }

  /** A key this authority does not publish, for forged-token tests. */
  foreignKey(alg = 'RS256', kid?: string): Promise<AuthorityKey> {
    return generateAuthorityKey(alg, kid);
  }

  /** Zeroes the request counters. */
  resetCounters(): void {
    Object.assign(this.requests, { discovery: 0, jwks: 0, token: 0, other: 0 });
  }

  /** Mints a delegated (user) access token; default `scp` is `access_as_user`. */
  mintUserToken(options: MintOptions = {}): string {
    const oid = randomUUID();
    return this.mint(options, { oid, sub: randomUUID(), scp: 'access_as_user', name: 'Test User', preferred_username: 'user@example.test' });
  }

  /** Mints an app-only (client credentials) access token: `idtyp` app, `oid` = `sub`, `roles`. */
  mintAppToken(options: MintOptions = {}): string {
    const oid = randomUUID();
    return this.mint(options, { oid, sub: oid, idtyp: 'app', roles: ['access_as_application'] });
  }

  private mint(options: MintOptions, identity: Record<string, unknown>): string {
    const version = options.version ?? '2.0';
    const tid = options.tenantId ?? this.tenantId;
    const key = options.key ?? this.activeKey;
    const now = Math.floor(Date.now() / 1000);
    const client = randomClientFor(this.clientId);
    const claims: Record<string, unknown> = {
      aud: options.audience ?? (version === '2.0' ? this.clientId : `api://${this.clientId}`),
      iss: version === '2.0' ? this.issuerV2(tid) : this.issuerV1(tid),
      iat: now,
      nbf: now,
      exp: now + (options.lifetimeSeconds ?? 3600),
      ver: version,
      tid,
      ...(version === '2.0' ? { azp: client, azpacr: '1' } : { appid: client, appidacr: '1' }),
      uti: randomUUID().replaceAll('-', ''),
      ...identity,
    };
    const header: Record<string, unknown> = { typ: 'JWT', alg: key.alg, kid: key.kid, ...(version === '1.0' ? { x5t: key.kid } : {}) };
    applyOverrides(claims, options.claims);
    applyOverrides(header, options.header);
    const alg = typeof header.alg === 'string' ? header.alg : key.alg;
    return signCompact(options.rawHeader ?? JSON.stringify(header), options.rawPayload ?? JSON.stringify(claims), alg, key.privateKey);
  }

  /** Stops the server and drops open (including hung) connections. */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', this.instance).pathname;
    const match = TENANT_PATH.exec(path);
    const tenant = match?.[1] ?? '';
    const rest = match?.[2] ?? '';
    if (req.method === 'GET' && (rest === 'v2.0/.well-known/openid-configuration' || rest === '.well-known/openid-configuration')) {
      this.requests.discovery++;
      return this.reply(res, this.discoveryFault, () => this.discovery(tenant, rest.startsWith('v2.0')));
    }
    if (req.method === 'GET' && (rest === 'discovery/v2.0/keys' || rest === 'discovery/keys')) {
      this.requests.jwks++;
      return this.reply(res, this.jwksFault, () => this.jwks());
    }
    this.requests.other++;
    send(res, 404, { error: 'not_found' });
  }

  private discovery(tenant: string, v2: boolean): unknown {
    const template = tenant === 'organizations' || tenant === 'common' ? '{tenantid}' : tenant;
    const base = `${this.instance}${tenant}`;
    return {
      issuer: v2 ? this.issuerV2(template) : this.issuerV1(template),
      jwks_uri: v2 ? `${base}/discovery/v2.0/keys` : `${base}/discovery/keys`,
      token_endpoint: v2 ? `${base}/oauth2/v2.0/token` : `${base}/oauth2/token`,
      authorization_endpoint: v2 ? `${base}/oauth2/v2.0/authorize` : `${base}/oauth2/authorize`,
      response_types_supported: ['code', 'id_token', 'code id_token', 'token id_token', 'token'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      tenant_region_scope: 'WW',
    };
  }

  private jwks(): unknown {
    const issuer = this.publishKeyIssuer ? { issuer: this.issuerV2('{tenantid}') } : {};
    return { keys: [...this.published.values()].map((k) => ({ ...k.publicJwk, ...issuer })) };
  }

  private reply(res: ServerResponse, fault: EndpointFault, body: () => unknown): void {
    switch (fault) {
      case 'hang':
        return; // never answer; close() drops the connection
      case 'status-500':
        return send(res, 500, { error: 'server_error' });
      case 'garbage':
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys": [ not json');
        return;
      case 'empty-keys':
        return send(res, 200, { keys: [] });
      case 'enc-only':
        return send(res, 200, { keys: [...this.published.values()].map((k) => ({ ...k.publicJwk, use: 'enc' })) });
      case 'huge':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(`{"keys":[],"pad":"${'x'.repeat(10 * 1024 * 1024)}"}`);
        return;
      default:
        return send(res, 200, body());
    }
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}

function applyOverrides(target: Record<string, unknown>, overrides?: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(overrides ?? {})) {
    if (value === undefined) delete target[name];
    else target[name] = value;
  }
}

// A stable client application id per API, so tokens look as if one client app called.
const clients = new Map<string, string>();
function randomClientFor(api: string): string {
  let client = clients.get(api);
  if (!client) clients.set(api, (client = randomUUID()));
  return client;
}
