import type { KeyObject } from 'node:crypto';
import type { JWK } from 'jose';

/** A grant of the generic authority's token endpoint. */
export type OidcGrant = 'token_exchange' | 'client_credentials';

/** An API (resource server) of a {@link LocalOidcAuthority}. */
export interface OidcApiRegistration {
  /** Its identifier and the `aud` of its tokens (Auth0 API identifier, Keycloak client id, Okta AS audience). Compared exactly. */
  audience: string;
  /** RFC 8707 resource indicator naming it. Default: the audience when that is an absolute URI. */
  resource?: string;
  /** The scopes it defines. */
  scopes: readonly string[];
}

/** A client of a {@link LocalOidcAuthority}'s token endpoint. */
export interface OidcClientRegistration {
  /** `client_id`. */
  clientId: string;
  /** Secret accepted by `client_secret_basic` and `client_secret_post`. */
  clientSecret?: string;
  /** Public key (a JWK or a KeyObject) that verifies its `private_key_jwt` assertions (RS256, PS256, ES256). */
  publicKey?: JWK | KeyObject;
  /**
   * Audiences of the APIs this client is (Auth0's "Custom API client"): a subject token must be for
   * one of them. Default: none (every token exchange is refused).
   */
  apis?: readonly string[];
  /** Grants it may use. Default: both. A grant not listed answers 400 `unauthorized_client`. */
  grants?: readonly OidcGrant[];
  /**
   * Scopes it may request for users by token exchange, per API audience. Default: every scope of every
   * API. An API not listed answers 403 `access_denied`.
   */
  delegatedScopes?: Readonly<Record<string, readonly string[]>>;
  /** Scopes it may request for itself by client credentials, per API audience. Default: none (403 `access_denied`). */
  appScopes?: Readonly<Record<string, readonly string[]>>;
  /** Roles of its app-only tokens per API audience (RFC 9068 `roles`, Keycloak `resource_access.<api>.roles`). */
  appRoles?: Readonly<Record<string, readonly string[]>>;
}

/** The APIs, clients and user grants of one generic authority. */
export class OidcRegistry {
  private readonly apis = new Map<string, OidcApiRegistration>();
  private readonly clients = new Map<string, OidcClientRegistration>();
  private readonly userScopes = new Map<string, readonly string[]>();

  /** Adds (or replaces, by audience) an API. */
  registerApi(api: OidcApiRegistration): OidcApiRegistration {
    this.apis.set(api.audience, api);
    return api;
  }

  /** Adds (or replaces, by client id) a client. */
  registerClient(client: OidcClientRegistration): OidcClientRegistration {
    this.clients.set(client.clientId, client);
    return client;
  }

  /** Limits what `subject` holds on the API `audience` to `scopes` (default: every scope of the API). */
  grantUserScopes(subject: string, audience: string, scopes: readonly string[]): void {
    this.userScopes.set(JSON.stringify([subject, audience]), [...scopes]);
  }

  /** The scopes `subject` holds on `api`. */
  scopesOfUser(subject: string, api: OidcApiRegistration): readonly string[] {
    return this.userScopes.get(JSON.stringify([subject, api.audience])) ?? api.scopes;
  }

  /** Every scope of every API, for the metadata's `scopes_supported`. */
  allScopes(): string[] {
    return [...this.apis.values()].flatMap((api) => api.scopes);
  }

  /** The client `clientId`, if registered. */
  client(clientId: string): OidcClientRegistration | undefined {
    return this.clients.get(clientId);
  }

  /** The API whose audience is `audience` (exactly). */
  apiByAudience(audience: string): OidcApiRegistration | undefined {
    return this.apis.get(audience);
  }

  /** The API whose resource indicator is `resource` (exactly). */
  apiByResource(resource: string): OidcApiRegistration | undefined {
    return [...this.apis.values()].find((api) => resourceOf(api) === resource);
  }
}

/** The RFC 8707 resource indicator of `api`: its `resource`, else its audience when that is an absolute URI. */
export function resourceOf(api: OidcApiRegistration): string | undefined {
  if (api.resource !== undefined) return api.resource;
  return URL.canParse(api.audience) ? api.audience : undefined;
}
