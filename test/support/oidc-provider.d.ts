// oidc-provider (panva) v9 ships no TypeScript types and @types/oidc-provider is not installed; this
// declares only the part the tests use (test/support/oidc-provider-authority.ts). Names and shapes
// follow oidc-provider's docs/README.md and lib/ (provider.js, models/, helpers/errors.js).
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  /** A statically configured or found client (`provider.Client.find(id)`). */
  export interface Client {
    readonly clientId: string;
  }

  /** What `features.resourceIndicators.getResourceServerInfo` returns. */
  export interface ResourceServerInfo {
    scope: string;
    audience?: string;
    accessTokenTTL?: number;
    accessTokenFormat?: 'opaque' | 'jwt';
    jwt?: { sign?: { alg?: string; kid?: string } };
  }

  /** `provider.ResourceServer`: the model `getResourceServerInfo`'s answer is wrapped in. */
  export class ResourceServer {
    constructor(identifier: string, info: ResourceServerInfo);
    readonly audience?: string;
    readonly scope: string;
    readonly scopes: Set<string>;
    identifier(): string;
  }

  /** An access token (`provider.AccessToken` or `provider.ClientCredentials`) before or after `save()`. */
  export interface AccessTokenModel {
    accountId?: string;
    clientId?: string;
    scope?: string;
    gty?: string;
    jti?: string;
    resourceServer?: ResourceServer;
    readonly kind: string;
    /** Seconds the token lives (from `ttl.AccessToken` / the resource server's `accessTokenTTL`). */
    readonly expiration: number;
    readonly tokenType: string;
    /** Issues the token: for a JWT-format resource server, the signed JWT. */
    save(): Promise<string>;
  }

  export interface AccessTokenInit {
    accountId: string;
    client: Client;
    scope?: string;
    gty?: string;
    resourceServer?: ResourceServer;
    iat?: number;
    exp?: number;
  }

  /** The per-request context oidc-provider gives grant handlers and configuration functions. */
  export interface KoaContextWithOIDC {
    oidc: {
      params?: Record<string, string | string[] | undefined>;
      client?: Client;
      route?: string;
    };
    status: number;
    body: unknown;
  }

  /** `formats.customizers.jwt`'s third argument: the JWT about to be signed. */
  export interface StructuredJwt {
    header?: Record<string, unknown>;
    payload: Record<string, unknown>;
  }

  export class Provider {
    constructor(issuer: string, configuration?: Record<string, unknown>);
    readonly issuer: string;
    readonly Client: {
      find(id: string): Promise<Client | undefined>;
      /** The storage adapter clients not in the `clients` option are found through. */
      readonly adapter: { upsert(id: string, payload: Record<string, unknown>): Promise<void> };
    };
    readonly AccessToken: new (init: AccessTokenInit) => AccessTokenModel;
    readonly ResourceServer: typeof ResourceServer;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    use(middleware: (ctx: KoaContextWithOIDC, next: () => Promise<void>) => Promise<void>): void;
    on(event: 'server_error', listener: (ctx: KoaContextWithOIDC, error: Error) => void): this;
    registerGrantType(
      name: string,
      handler: (ctx: KoaContextWithOIDC, next: () => Promise<void>) => Promise<void>,
      parameters?: string[] | Set<string>,
      allowedDuplicateParameters?: string[] | Set<string>,
    ): void;
  }
  export default Provider;

  export namespace errors {
    class OIDCProviderError extends Error {
      readonly error: string;
      readonly error_description?: string;
      readonly statusCode: number;
    }
    class InvalidRequest extends OIDCProviderError {
      constructor(description?: string);
    }
    class InvalidTarget extends OIDCProviderError {
      constructor(description?: string);
    }
    class InvalidScope extends OIDCProviderError {
      constructor(description?: string, scope?: string);
    }
  }
}
