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
