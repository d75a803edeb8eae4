/**
 * Names of everything nestjs-obo reports through OpenTelemetry: the instrumentation scope, span
 * names, metric names and attribute keys. Attribute keys from the OpenTelemetry semantic conventions
 * (stable: `error.*`, `http.*`, `server.*`, `url.*`) are copied here, as the conventions advise
 * libraries to do, rather than depending on `@opentelemetry/semantic-conventions`; ours live under
 * `obo.`. None of them ever carries a token, an assertion, a secret or a claim set. Internal.
 */

/** Instrumentation scope name of every tracer and meter: the package name. */
export const INSTRUMENTATION_SCOPE_NAME = 'nestjs-obo';
/** Instrumentation scope version: the package version (a test keeps it equal to libs/obo/package.json). */
export const INSTRUMENTATION_SCOPE_VERSION = '0.1.0';

// ---- span names ----
/** One token acquisition (TokenAcquisition, WebAppTokenAcquisition), cache hit or miss. INTERNAL. */
export const SPAN_TOKEN_ACQUIRE = 'obo.token.acquire';
/** One refresh of the authority's signing keys (metadata, then the JWKS). INTERNAL. */
export const SPAN_JWKS_REFRESH = 'obo.jwks.refresh';
/** One load of the authority's discovery or metadata document(s). INTERNAL. */
export const SPAN_METADATA_REFRESH = 'obo.authority.metadata.refresh';
// Downstream calls are CLIENT spans named by the HTTP method alone (`GET`), as the HTTP conventions say.

// ---- metric names ----
/** Counter `{lookup}`: token cache lookups that ended, by result (hit / miss). */
export const METRIC_TOKEN_CACHE_LOOKUPS = 'obo.token.cache.lookups';
/** Histogram `s`: duration of one request (attempt) to the identity provider's token endpoint. */
export const METRIC_PROVIDER_REQUEST_DURATION = 'obo.provider.request.duration';
/** Counter `{error}`: token requests that failed, by `error.type` (the ERR_OBO_* code). */
export const METRIC_PROVIDER_ERRORS = 'obo.provider.errors';
/** Counter `{refresh}`: signing-key (JWKS) refreshes, by reason, with `error.type` when one failed. */
export const METRIC_JWKS_REFRESHES = 'obo.jwks.refreshes';
/** Gauge `1`: 1 while a Redis circuit breaker is open (Redis calls skipped), 0 while closed. */
export const METRIC_REDIS_CIRCUIT_OPEN = 'obo.redis.circuit.open';

// ---- attribute keys: OpenTelemetry semantic conventions (stable) ----
export const ATTR_ERROR_TYPE = 'error.type';
export const ATTR_HTTP_REQUEST_METHOD = 'http.request.method';
export const ATTR_HTTP_REQUEST_RESEND_COUNT = 'http.request.resend_count';
export const ATTR_HTTP_RESPONSE_STATUS_CODE = 'http.response.status_code';
export const ATTR_SERVER_ADDRESS = 'server.address';
export const ATTR_SERVER_PORT = 'server.port';
export const ATTR_URL_FULL = 'url.full';

// ---- attribute keys: ours ----
/** `entra` (msal-node) or `oidc` (any other OpenID Connect authority). */
export const ATTR_OBO_PROVIDER = 'obo.provider';
/** `user` (On-Behalf-Of, or a web app's signed-in user) or `app` (client credentials). */
export const ATTR_OBO_TOKEN_KIND = 'obo.token.kind';
/** `hit` (from our cache, no token request) or `miss`. */
export const ATTR_OBO_TOKEN_CACHE_RESULT = 'obo.token.cache.result';
/** Why signing keys were refreshed: `startup`, `missing`, `expired`, `unknown_kid`, `health_check`. */
export const ATTR_OBO_JWKS_REFRESH_REASON = 'obo.jwks.refresh.reason';
/** Usable signing keys after a refresh. */
export const ATTR_OBO_JWKS_KEY_COUNT = 'obo.jwks.key_count';
/** Which circuit breaker: `token_cache` or `session_store`. */
export const ATTR_OBO_CIRCUIT_NAME = 'obo.circuit.name';
