export { OboModule } from './obo.module.js';
export { MODULE_OPTIONS_TOKEN as OBO_MODULE_OPTIONS } from './obo.module-definition.js';
export type { OboModuleExtras } from './obo.module-definition.js';
export type {
  AccessTokenVersion,
  ClaimMappingOptions,
  ClientCertificateCredential,
  ClientPrivateKeyCredential,
  DelegationOptions,
  TokenExchangeOptions,
  TokenProfileName,
  DistributedCacheOptions,
  DownstreamApiOptions,
  EgressOptions,
  FederatedTokenFileAssertion,
  JwksOptions,
  OboModuleOptions,
  ProtectedResourceOptions,
  TokenAcquisitionOptions,
} from './options/obo-module-options.interface.js';
export type { AzureCloudInstance } from './authority/entra-clouds.js';
export { TokenAcquisition } from './outbound/token-acquisition/token-acquisition.service.js';
export type { AppTokenOptions, AuthenticationResultInfo, UserTokenOptions } from './outbound/token-acquisition/token-acquisition.service.js';
export type { TokenTarget } from './outbound/token-acquisition/token-target.js';
export { DownstreamApi } from './outbound/downstream-api/downstream-api.service.js';
export type { DownstreamCallOptions } from './outbound/downstream-api/downstream-api.service.js';
export { OboExceptionFilter } from './errors/obo-exception.filter.js';
export { TOKEN_CACHE_STORE } from './outbound/token-cache/token-cache-store.interface.js';
export type { CachedToken, TokenCacheStore } from './outbound/token-cache/token-cache-store.interface.js';
export { JwtAuthGuard } from './inbound/jwt/jwt-auth.guard.js';
export { AccessTokenValidator } from './inbound/access-token-validator.service.js';
export { ScopesGuard } from './inbound/scopes/scopes.guard.js';
export { RequiredScopes, RequiredAppPermissions } from './inbound/scopes/required-scopes.decorator.js';
export { RequiredAuthentication } from './inbound/scopes/required-authentication.decorator.js';
export type { AuthenticationRequirement } from './inbound/scopes/required-authentication.decorator.js';
export { ProtectedRoutes } from './inbound/scopes/protected-routes.service.js';
export type { ProtectedRoute } from './inbound/scopes/protected-routes.service.js';
export type { RouteRequirement } from './inbound/scopes/route-requirement.js';
export type { ProtectedResourceMetadataDocument } from './inbound/protected-resource/protected-resource-metadata.service.js';
export { Public } from './inbound/scopes/public.decorator.js';
export { Authorize } from './inbound/scopes/authorize.decorator.js';
export { CurrentUser } from './context/current-user.decorator.js';
export { RequestContext } from './context/request-context.service.js';
export { Principal } from './context/principal.js';
export type { AccessTokenClaims, DelegationActor, PrincipalInit } from './context/principal.js';
export { OboError, OboConfigurationError, ClaimsChallengeError, ProviderUnavailableError, ScopedOboError, StepUpRequiredError } from './errors/obo.error.js';
export type { OboErrorCode } from './errors/obo-error-code.js';
export { OboHttpException } from './errors/obo-http.exception.js';
export type { OboErrorBody } from './errors/obo-http.exception.js';
export { OboGraphQLRejection } from './errors/graphql-rejection.js';
export type { OboGraphQLErrorExtensions } from './errors/graphql-rejection.js';
export { OboWebAppModule } from './web-app/web-app.module.js';
export type { OboWebAppModuleExtras } from './web-app/web-app.module-definition.js';
export type { OboWebAppModuleOptions } from './web-app/options/web-app-module-options.interface.js';
export type { SessionOptions, RedisSessionStoreOptions } from './web-app/session/session-options.interface.js';
export { AuthorizeForScopes } from './web-app/authorize-for-scopes/authorize-for-scopes.decorator.js';
export { WebAppTokenAcquisition } from './web-app/token-acquisition/web-app-token-acquisition.service.js';
export type { WebAppUserTokenOptions } from './web-app/token-acquisition/web-app-token-acquisition.service.js';
export { WebAppDownstreamApi } from './web-app/downstream-api/web-app-downstream-api.service.js';
export type { WebAppDownstreamCallOptions } from './web-app/downstream-api/web-app-downstream-api.service.js';
export { WebAppContext } from './web-app/context/web-app-context.service.js';
export type { SignedInAccount } from './web-app/sign-in/sign-in-client.js';
export { SignedInGuard } from './web-app/routes/signed-in.guard.js';
export { AuthorityHealthIndicator } from './observability/authority-health.indicator.js';
export { RedisTokenCacheHealthIndicator } from './observability/redis-token-cache-health.indicator.js';
export type { OboHealthDetails, OboHealthIndicatorResult } from './observability/health-indicator-result.js';
export { InteractionRequiredError } from './web-app/errors/interaction-required.error.js';
export type { InteractionReason } from './web-app/errors/interaction-required.error.js';
