import type { Cluster, Redis } from 'ioredis';
import type { Dispatcher } from 'undici';
import type {
  ClaimMappingOptions,
  ClientCertificateCredential,
  ClientPrivateKeyCredential,
  DelegationOptions,
  TokenExchangeOptions,
  DistributedCacheOptions,
  DownstreamApiOptions,
  EgressOptions,
  FederatedTokenFileAssertion,
  JwksOptions,
  OboModuleOptions,
  ProtectedResourceOptions,
  TokenAcquisitionOptions,
} from './obo-module-options.interface.js';

/**
 * Option values that are never walked for keys: plain values, lists, functions and objects the user
 * owns (an ioredis client...). An option whose type is another object is a nested options object
 * and must be declared with {@link nested} or {@link recordOf}; to take a client instance the user
 * owns (an undici `Dispatcher`...), add its type here.
 */
type Opaque = string | number | boolean | bigint | symbol | readonly unknown[] | ((...args: never[]) => unknown) | Redis | Cluster | Dispatcher;

/** The runtime tree of known option keys. */
export interface KeyTree {
  /** `object`: `keys` are its members; `record`: its keys are the user's names, each value has `keys`. */
  readonly kind: 'object' | 'record';
  readonly keys: Readonly<Record<string, 'value' | KeyTree>>;
}

/**
 * A {@link KeyTree} tied, at compile time only, to the exact key set `K` of the options interface
 * it describes (invariant in `K`: a tree made for an older, narrower interface does not fit). Keyed
 * by the key union, not the interface, because interfaces of optional members all fit each other.
 */
export interface NestedKeys<K extends PropertyKey> extends KeyTree {
  readonly __keys?: (key: K) => K;
}

/** What one option is in the tree: a value, the keys of the nested options interface it holds, or of each value of a record. */
export type KeyNode<V> = [V] extends [Opaque] ? 'value' : ObjectKeyNode<Exclude<V, (...args: never[]) => unknown>>;

/** An option that is an object, or a function or an object (`clientAssertion`): the object's keys. */
type ObjectKeyNode<V> = string extends keyof V ? NestedKeys<keyof V[string & keyof V]> : NestedKeys<keyof V>;

/**
 * Every member of `T`, none left out and none extra: adding an option to an options interface
 * without adding it here fails to compile.
 */
export type KeyShape<T> = { readonly [K in keyof Required<T>]-?: KeyNode<NonNullable<Required<T>[K]>> };

/** The keys of a nested options object. */
export function nested<T>(keys: KeyShape<T>): NestedKeys<keyof T> {
  return { kind: 'object', keys };
}

/** A record keyed by the user's names (`downstreamApis`), each value an options object with `keys`. */
export function recordOf<E>(keys: KeyShape<E>): NestedKeys<keyof E> {
  return { kind: 'record', keys };
}

const V = 'value';

/** Every key of {@link OboModuleOptions}, typed so that it cannot fall behind the interfaces. */
export const OBO_OPTION_KEYS: KeyShape<OboModuleOptions> = {
  instance: V,
  azureCloudInstance: V,
  knownAuthorities: V,
  tenantId: V,
  clientId: V,
  audience: V,
  allowedTenants: V,
  acceptedTokenVersions: V,
  clockToleranceSeconds: V,
  algorithms: V,
  maxTokenLength: V,
  maxTokenLifetimeSeconds: V,
  allowedClientApplications: V,
  scopeClaim: V,
  roleClaim: V,
  realm: V,
  jwks: nested<JwksOptions>({
    cacheMaxAgeSeconds: V,
    cooldownSeconds: V,
    failureBackoffSeconds: V,
    timeoutMs: V,
    maxResponseBytes: V,
    appSpecificKeys: V,
  }),
  validatedTokenCacheMaxEntries: V,
  clientSecret: V,
  clientCertificate: nested<ClientCertificateCredential>({ privateKey: V, thumbprintSha256: V, x5c: V }),
  clientAssertion: nested<FederatedTokenFileAssertion>({ federatedTokenFile: V }),
  tokenAcquisition: nested<TokenAcquisitionOptions>({
    timeoutMs: V,
    cacheMaxEntries: V,
    refreshMarginSeconds: V,
    refreshAheadSeconds: V,
    clientCapabilities: V,
  }),
  downstreamApis: recordOf<DownstreamApiOptions>({ baseUrl: V, scopes: V, tokenKind: V, timeoutMs: V, tenantId: V, audience: V, resource: V }),
  distributedCache: nested<DistributedCacheOptions>({
    redis: V,
    encryptionKeys: V,
    keyPrefix: V,
    operationTimeoutMs: V,
    failureThreshold: V,
    openSeconds: V,
    lock: V,
    lockTtlMs: V,
  }),
  egress: nested<EgressOptions>({ dispatcher: V, proxyFromEnvironment: V, ca: V }),
  protectedResource: nested<ProtectedResourceOptions>({ resource: V, scopePrefix: V, resourceName: V, resourceDocumentation: V, jwksUri: V, resourceSigningAlgValuesSupported: V }),
  // Authorities other than Entra ID (issue 10).
  issuer: V,
  tokenProfile: V,
  claimMapping: nested<ClaimMappingOptions>({ scopes: V, appPermissions: V, clientId: V, userId: V, isAppOnly: V }),
  delegation: nested<DelegationOptions>({ maxActors: V, allowedActors: V }),
  clientAuthentication: V,
  clientPrivateKey: nested<ClientPrivateKeyCredential>({ privateKey: V, keyId: V, algorithm: V }),
  tokenExchange: nested<TokenExchangeOptions>({ subjectTokenType: V, requestedTokenType: V }),
};
