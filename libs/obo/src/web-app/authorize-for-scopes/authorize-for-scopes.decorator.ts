import { Reflector } from '@nestjs/core';

/** What `@AuthorizeForScopes()` asks for, read by its interceptor. Internal. */
export interface AuthorizeForScopesMetadata {
  /** Scopes to ask the user to consent to, besides those of the failed token request. */
  readonly scopes: readonly string[];
}

/** @internal Metadata read by the AuthorizeForScopes interceptor. */
export const AuthorizeForScopesMetadata = Reflector.createDecorator<AuthorizeForScopesMetadata>({ key: 'obo:authorize-for-scopes' });

/**
 * On a web-app page (GET route or controller): when acquiring a token for the signed-in user needs
 * the user (consent to new scopes, a Conditional Access or CAE claims challenge from the authority or
 * relayed by a called API, a revoked session), the browser is redirected to the authority with those
 * scopes and claims and brought back to the same page afterwards (Microsoft.Identity.Web's
 * `[AuthorizeForScopes]`). Elsewhere such failures answer 401.
 * @example @AuthorizeForScopes(['api://original/access_as_user'])
 */
export const AuthorizeForScopes = (scopes: readonly string[] = []): ClassDecorator & MethodDecorator => AuthorizeForScopesMetadata({ scopes: Object.freeze([...scopes]) });
