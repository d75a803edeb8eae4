import { randomUUID } from 'node:crypto';
import type { Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppRegistry, type AppRegistration } from './app-registrations.js';
import { generateAuthorityKey, selfSignedCertificate, type AuthorityKey } from './authority-keys.js';
import { startLoopbackHttps, stopServer, type LoopbackHttpsOptions } from './loopback-https-server.js';
import { discoveryDocument, isMultiTenantSegment, replyWithFault, sendJson, type EndpointFault } from './metadata-endpoints.js';
import type { MintOptions } from './mint-options.js';
import { mintToken } from './mint-token.js';
import { PublishedKeys } from './published-keys.js';
import type { BackchannelDelivery, LogoutSubject, LogoutTokenClaims } from './backchannel-logout.js';
import type { LocalUser, NewLocalUser } from './local-users.js';
import { SignInAuthority } from './sign-in-authority.js';
import { TokenEndpoint } from './token-endpoint.js';
import { TokenFaultList, type TokenFault, type TokenFaultHandle, type TokenFaultMatch } from './token-faults.js';
import { TokenRequestLog, type TokenRequestCounters, type TokenRequestRecord } from './token-request-log.js';

export type { EndpointFault } from './metadata-endpoints.js';

/** Options of {@link LocalAuthority.publishKey} and {@link LocalAuthority.rotateKey}. */
export interface PublishKeyOptions {
  /** The key's `issuer` in the JWKS. Default: the v2 `{tenantid}` template (unless `publishKeyIssuer` is false). */
  issuer?: string;
}

/** Options of {@link LocalAuthority.start}. */
export interface LocalAuthorityOptions extends LoopbackHttpsOptions {
  /** The home tenant (GUID). Default: a random one. */
  tenantId?: string;
  /** The protected API's client id: the default audience of minted tokens. Default: a random GUID. */
  clientId?: string;
  /** Publish Entra's per-key `issuer` (a `{tenantid}` template) in the JWKS. Default true. */
  publishKeyIssuer?: boolean;
  /**
   * Issuers of another cloud or flavour, as functions of the tenant (called with `{tenantid}` for the
   * multi-tenant discovery documents). Default v2.0 `<instance><tid>/v2.0`, v1.0
   * `https://sts.windows.net/<tid>/`. E.g. External ID: `v2: (t) => \`https://${t}.ciamlogin.com/${t}/v2.0\``.
   * Discovery, minted tokens, the JWKS key issuer and the token endpoint all follow them.
   */
  issuers?: { v2?: (tenant: string) => string; v1?: (tenant: string) => string };
  /**
   * Serve the v1.0 discovery document (`/<tenant>/.well-known/openid-configuration`). Default true;
   * false answers it 404, as External ID and B2C tenants (and some emulators) do.
   */
  v1Discovery?: boolean;
}

/** Requests served, per endpoint. */
export interface RequestCounters {
  /** Discovery documents requested, both versions. */
  discovery: number;
  /** Of those, v1.0 documents (`/<tenant>/.well-known/openid-configuration`). */
  discoveryV1: number;
  jwks: number;
  token: number;
  /** `/oauth2/v2.0/authorize` requests: authorization requests (GET) and the pages' forms (POST). */
  authorize: number;
  /** `/oauth2/v2.0/logout` requests. */
  endSession: number;
  other: number;
}

const TENANT_PATH = /^\/([^/]+)\/(.*)$/;

/**
 * An identity provider that speaks Entra ID v2.0 (and v1.0 issuers) over https on loopback:
 * discovery, JWKS with key rotation, token minting with any claim or header overridden, a token
 * endpoint (OBO, client credentials, RFC 8693 token exchange, authorization code, refresh token)
 * for registered apps, browser sign-in (authorize with sign-in, consent and MFA pages, end
 * session, back-channel logout), JWKS and token faults and request counters. For tests, samples and demos; it refuses non-loopback addresses.
 */
export class LocalAuthority {
  /** Requests served so far, per endpoint. */
  readonly requests: RequestCounters = { discovery: 0, discoveryV1: 0, jwks: 0, token: 0, authorize: 0, endSession: 0, other: 0 };
  /** Fault injected into JWKS responses. */
  jwksFault: EndpointFault = 'none';
  /** Fault injected into discovery responses. */
  discoveryFault: EndpointFault = 'none';
  /** The key new tokens are signed with. */
  activeKey: AuthorityKey;
  /** `expires_in` (and lifetime) of tokens the token endpoint issues. Default 3600. */
  tokenLifetimeSeconds = 3600;
  private readonly published = new PublishedKeys();
  private readonly apps = new AppRegistry();
  private readonly tokenFaults = new TokenFaultList();
  private readonly tokenLog = new TokenRequestLog();
  private readonly tokens: TokenEndpoint;
  private readonly signIn: SignInAuthority;

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
    private readonly flavour: Pick<LocalAuthorityOptions, 'issuers' | 'v1Discovery'> = {},
  ) {
    this.activeKey = key;
    this.published.publish(key);
    this.apps.register({ clientId, scopes: ['access_as_user'] });
    const minting = { mintUserToken: (o: MintOptions) => this.mintUserToken(o), mintAppToken: (o: MintOptions) => this.mintAppToken(o), lifetimeSeconds: () => this.tokenLifetimeSeconds };
    this.signIn = new SignInAuthority({
      tenantId,
      registry: this.apps,
      minting,
      cookieName: `local_authority_${new URL(instance).port}`,
      issuer: () => this.issuerV2(tenantId),
      activeKey: () => this.activeKey,
    });
    this.tokens = new TokenEndpoint({
      ...minting,
      signIn: this.signIn,
      instance,
      tenantId,
      registry: this.apps,
      faults: this.tokenFaults,
      log: this.tokenLog,
      publishedKey: (kid) => this.published.get(kid),
      issuersFor: (tid) => [this.issuerV2(tid), this.issuerV1(tid)],
    });
  }

  /** Starts the authority on a free loopback port with one RS256 signing key. */
  static async start(options: LocalAuthorityOptions = {}): Promise<LocalAuthority> {
    const key = await generateAuthorityKey();
    let authority: LocalAuthority | undefined;
    const { server, origin, certificate } = await startLoopbackHttps(options, (req, res) => authority!.handle(req, res));
    authority = new LocalAuthority(
      server,
      `${origin}/`,
      options.tenantId ?? randomUUID(),
      options.clientId ?? randomUUID(),
      certificate,
      options.publishKeyIssuer ?? true,
      key,
      { issuers: options.issuers, v1Discovery: options.v1Discovery },
    );
    return authority;
  }

  /** `host:port`, for msal-node's `knownAuthorities`. */
  get authorityHost(): string {
    return new URL(this.instance).host;
  }

  /** v2.0 issuer of a tenant: `<instance><tid>/v2.0` unless {@link LocalAuthorityOptions.issuers} says otherwise. */
  issuerV2(tenantId = this.tenantId): string {
    return this.flavour.issuers?.v2?.(tenantId) ?? `${this.instance}${tenantId}/v2.0`;
  }

  /** v1.0 issuer of a tenant, as the public cloud writes it (`https://sts.windows.net/<tid>/`) unless {@link LocalAuthorityOptions.issuers} says otherwise. */
  issuerV1(tenantId = this.tenantId): string {
    return this.flavour.issuers?.v1?.(tenantId) ?? `https://sts.windows.net/${tenantId}/`;
  }

  /** Publishes a new key and signs new tokens with it; earlier keys stay published. */
  async rotateKey(alg = 'RS256', options: PublishKeyOptions = {}): Promise<AuthorityKey> {
    this.activeKey = await generateAuthorityKey(alg);
    this.publishKey(this.activeKey, options);
    return this.activeKey;
  }

  /** Adds `key` to the JWKS (optionally with its own `issuer`) without signing with it. */
  publishKey(key: AuthorityKey, options: PublishKeyOptions = {}): void {
    this.published.publish(key, options.issuer);
  }

  /**
   * Publishes `key` with a self-signed X.509 certificate in `x5c` (made with openssl at run time):
   * `x5c-only` leaves out `n`/`e`, as some JWKS do; `certificateOf` puts another key's certificate
   * there, so `n`/`e` and the certificate disagree. Tokens are not signed with it unless asked.
   */
  publishKeyWithCertificate(key: AuthorityKey, options: { form?: 'x5c-only' | 'n-e-and-x5c'; certificateOf?: AuthorityKey } = {}): void {
    const { n, e, ...rest } = key.publicJwk;
    const x5c = [selfSignedCertificate(options.certificateOf ?? key)];
    this.published.publishJwk(options.form === 'x5c-only' ? { ...rest, x5c } : { ...rest, n, e, x5c }, { key });
  }

  /** Publishes a JWK exactly as given (malformed material, a short modulus, `use: enc`, ...), for fault tests. */
  publishJwk(jwk: Record<string, unknown>): void {
    this.published.publishJwk(jwk);
  }

  /**
   * Publishes `key` only in the app-specific key set served at `.../discovery/v2.0/keys?appid=<appId>`
   * (what Entra does for an app with SAML SSO or a claims-mapping policy); the tenant-wide set lacks it.
   */
  publishAppKey(appId: string, key: AuthorityKey): void {
    this.published.publishJwk(key.publicJwk, { key, appId });
  }

  /** Removes a key from the JWKS (tokens it signed stop validating once caches refresh). */
  unpublishKey(kid: string): void {
    this.published.unpublish(kid);
  }

  /** A key this authority does not publish, for forged-token tests. */
  foreignKey(alg = 'RS256', kid?: string): Promise<AuthorityKey> {
    return generateAuthorityKey(alg, kid);
  }

  /** Zeroes the request counters and {@link tokenRequests}, and empties {@link tokenRequestLog}. */
  resetCounters(): void {
    Object.assign(this.requests, { discovery: 0, discoveryV1: 0, jwks: 0, token: 0, authorize: 0, endSession: 0, other: 0 });
    this.tokenLog.reset();
  }

  /** `https://127.0.0.1:<port>/<tenant>/oauth2/v2.0/token` (also the `aud` of client assertions). */
  tokenEndpoint(tenant = this.tenantId): string {
    return `${this.instance}${tenant}/oauth2/v2.0/token`;
  }

  /**
   * Registers (or replaces) an application: a client of the token endpoint and/or a resource
   * whose scopes can be requested. The authority's own `clientId` is registered without a secret.
   */
  registerApp(registration: AppRegistration): AppRegistration {
    return this.apps.register(registration);
  }

  /** Users of the sign-in page: `adele@`, `megan@`, `alex@contoso.test` (password `Passw0rd!`) and any added. */
  get users(): readonly LocalUser[] {
    return this.signIn.users.all;
  }

  /** Adds (or replaces, by username) a user of the sign-in page; `oid` defaults to a random GUID. */
  addUser(user: NewLocalUser): LocalUser {
    return this.signIn.users.add(user);
  }

  /** The user signing in as `username` (case-insensitive), if any. */
  user(username: string): LocalUser | undefined {
    return this.signIn.users.byUsername(username);
  }

  /** Records that user `oid` consented to `scopes` (full names, e.g. `api://<id>/access_as_user`) for `clientId`. */
  grantConsent(oid: string, clientId: string, scopes: readonly string[]): void {
    this.signIn.consents.grant(oid, clientId, scopes);
  }

  /** The resource scopes user `oid` has consented to for `clientId`. */
  consentedScopes(oid: string, clientId: string): readonly string[] {
    return this.signIn.consents.scopes(oid, clientId);
  }

  /**
   * A Conditional Access policy: tokens for `resourceClientId` only for an MFA authentication
   * (authorization code, refresh token and OBO grants answer `interaction_required` AADSTS50076
   * with a `capolids` claims challenge). Returns the policy id.
   */
  requireMfaFor(resourceClientId: string): string {
    return this.signIn.policies.requireMfaFor(resourceClientId);
  }

  /**
   * Maps the authentication context `value` (the `acrs` an API's claims challenge names, e.g. `c1`)
   * to "require MFA": On-Behalf-Of with such a claims request, for a user whose token shows no MFA
   * (`amr`), answers `interaction_required` with the same claims, so the challenge travels back to
   * the user. Without it, a claims request's `acrs` are granted as asked.
   */
  requireMfaForAuthenticationContext(value: string): void {
    this.signIn.policies.requireMfaForAuthenticationContext(value);
  }

  /** Removes every Conditional Access policy and authentication context mapping. */
  clearPolicies(): void {
    this.signIn.policies.clear();
  }

  /** Ends the matching authority sessions, revokes their refresh tokens and POSTs logout tokens to their clients. */
  backchannelLogout(who: LogoutSubject): Promise<BackchannelDelivery[]> {
    return this.signIn.backchannel.logout(who);
  }

  /** A back-channel logout token for `clientId` (claims `sub`, `sid` and overrides; header overrides, another key), for refusal tests. */
  mintLogoutToken(clientId: string, claims: LogoutTokenClaims = {}, options: { header?: Record<string, unknown>; key?: AuthorityKey } = {}): string {
    return this.signIn.backchannel.mint(clientId, claims, options);
  }

  /** Revokes every refresh token and authority session of user `oid`. */
  revokeUser(oid: string): void {
    this.signIn.revokeUser(oid);
  }

  /** Name of the authority's session cookie (`HttpOnly; Secure; SameSite=None; Path=/`; it carries the port: browsers share cookies across ports). */
  get sessionCookieName(): string {
    return this.signIn.sessions.cookieName;
  }

  /** Token endpoint requests per grant and per user `oid`, since start or {@link resetCounters}. */
  get tokenRequests(): TokenRequestCounters {
    return this.tokenLog.counters;
  }

  /** Form fields of the most recent token request. */
  get lastTokenRequest(): TokenRequestRecord | undefined {
    return this.tokenLog.last;
  }

  /** Form fields of the last 100 token requests, oldest first. */
  get tokenRequestLog(): readonly TokenRequestRecord[] {
    return this.tokenLog.entries;
  }

  /** Makes matching token requests misbehave (first matching fault wins) until removed. */
  injectTokenFault(fault: TokenFault, match?: TokenFaultMatch): TokenFaultHandle {
    return this.tokenFaults.inject(fault, match);
  }

  /** Removes every injected token fault. */
  clearTokenFaults(): void {
    this.tokenFaults.clear();
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
    const defaults = { clientId: this.clientId, tenantId: this.tenantId, key: this.activeKey };
    return mintToken(options, identity, { ...defaults, issuerV1: (tid) => this.issuerV1(tid), issuerV2: (tid) => this.issuerV2(tid) });
  }

  /** Stops the server and drops open (including hung) connections. */
  async close(): Promise<void> {
    this.tokens.close();
    await stopServer(this.server);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', this.instance).pathname;
    const match = TENANT_PATH.exec(path);
    const tenant = match?.[1] ?? '';
    const rest = match?.[2] ?? '';
    if (req.method === 'GET' && (rest === 'v2.0/.well-known/openid-configuration' || rest === '.well-known/openid-configuration')) {
      this.requests.discovery++;
      if (rest.startsWith('.well-known')) {
        this.requests.discoveryV1++;
        if (this.flavour.v1Discovery === false) return sendJson(res, 404, { error: 'not_found' });
      }
      return replyWithFault(res, this.discoveryFault, this.published.publicJwks(), () => this.discovery(tenant, rest.startsWith('v2.0')));
    }
    if (req.method === 'GET' && (rest === 'discovery/v2.0/keys' || rest === 'discovery/keys')) {
      this.requests.jwks++;
      return replyWithFault(res, this.jwksFault, this.published.publicJwks(), () => this.jwks(new URL(req.url ?? '/', this.instance).searchParams.get('appid')));
    }
    if (rest === 'oauth2/v2.0/authorize' || rest === 'oauth2/v2.0/logout') {
      this.requests[rest.endsWith('authorize') ? 'authorize' : 'endSession']++;
      return this.signIn.handle(rest.endsWith('authorize') ? 'authorize' : 'logout', req, res, tenant);
    }
    if (rest === 'oauth2/v2.0/token') {
      this.requests.token++;
      this.tokens.handle(req, res, tenant).catch(() => res.destroy());
      return;
    }
    this.requests.other++;
    sendJson(res, 404, { error: 'not_found' });
  }

  private discovery(tenant: string, v2: boolean): unknown {
    const template = isMultiTenantSegment(tenant) ? '{tenantid}' : tenant;
    return discoveryDocument(this.instance, tenant, v2, v2 ? this.issuerV2(template) : this.issuerV1(template));
  }

  /** The tenant-wide key set, or with `appId` the app-specific one (tenant keys plus that app's). */
  private jwks(appId: string | null): unknown {
    return this.published.jwks(this.publishKeyIssuer ? this.issuerV2('{tenantid}') : undefined, appId);
  }
}
