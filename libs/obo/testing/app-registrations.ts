import { createHash, type KeyObject } from 'node:crypto';
import { assertLoopbackUrl } from './loopback.js';

/** An application registered with the local authority: a client, a resource (API), or both. */
export interface AppRegistration {
  /** The application (client) id. */
  clientId: string;
  /** Secret accepted as `client_secret` (post body or HTTP Basic). */
  clientSecret?: string;
  /** Public key that verifies `client_assertion` JWTs (RS256 or PS256). */
  clientAssertionKey?: KeyObject;
  /** Application ID URI; default `api://<clientId>`. */
  identifierUri?: string;
  /** Delegated scopes the app exposes as a resource, e.g. `['access_as_user']`. */
  scopes?: string[];
  /** App permissions this client holds on other APIs: resource clientId → role values. */
  appRoles?: Record<string, string[]>;
  /** Redirect URIs of a web app: `/authorize` accepts only these, compared exactly. */
  redirectUris?: string[];
  /** Where `/logout` may send the browser afterwards (exact match); otherwise a "signed out" page. */
  postLogoutRedirectUris?: string[];
  /** OpenID Connect back-channel logout URI (http or https, loopback hosts only). */
  backchannelLogoutUri?: string;
  /** Name shown on the consent page. Default: the client id. */
  displayName?: string;
}

/** The registrations of one local authority, looked up by client id or identifier URI. */
export class AppRegistry {
  private readonly apps = new Map<string, AppRegistration>();

  /** Adds `registration`, replacing any earlier one with the same client id. */
  register(registration: AppRegistration): AppRegistration {
    if (registration.backchannelLogoutUri !== undefined) assertLoopbackUrl(registration.backchannelLogoutUri, 'backchannelLogoutUri');
    this.apps.set(registration.clientId, registration);
    return registration;
  }

  /** The registration of `clientId`, if any. */
  get(clientId: string): AppRegistration | undefined {
    return this.apps.get(clientId);
  }

  /** The app whose client id or identifier URI is `identifier` (case-insensitive, no trailing slash). */
  resolveResource(identifier: string): AppRegistration | undefined {
    const wanted = normalise(identifier);
    for (const app of this.apps.values()) {
      if (normalise(app.clientId) === wanted || normalise(identifierUriOf(app)) === wanted) return app;
    }
    return undefined;
  }
}

/** The Application ID URI of `app` (`api://<clientId>` unless set). */
export function identifierUriOf(app: AppRegistration): string {
  return app.identifierUri ?? `api://${app.clientId}`;
}

/** A stable service-principal object id for a client: the `oid` and `sub` of its app-only tokens. */
export function servicePrincipalId(clientId: string): string {
  return guidFrom(`service-principal:${clientId}`);
}

/** Entra's pairwise `sub`: stable per (user `oid`, application), different across applications. */
export function pairwiseSubject(oid: string, clientId: string): string {
  return guidFrom(`pairwise:${oid.toLowerCase()}:${clientId.toLowerCase()}`);
}

function guidFrom(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function normalise(identifier: string): string {
  return identifier.replace(/\/+$/, '').toLowerCase();
}
