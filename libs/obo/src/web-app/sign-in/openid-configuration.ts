import { customFetch, discovery, enableNonRepudiationChecks, type ClientAuth, type Configuration, type CustomFetch } from 'openid-client';
import { fetch as undiciFetch, type Dispatcher } from 'undici';
import { ProviderUnavailableError } from '../../errors/obo.error.js';
import { DEFAULT_RETRY_AFTER_SECONDS } from '../../outbound/token-acquisition/token-request-failure.js';
import { transportFailure } from './openid-failure.js';

/** What discovery needs to know of the web app. */
export interface OpenIdDiscoveryRequest {
  readonly issuer: URL;
  readonly clientId: string;
  readonly redirectUri: URL;
  readonly clientAuth: ClientAuth;
  readonly timeoutMs: number;
  readonly dispatcher?: Dispatcher;
}

/** A fetch for openid-client and jose that goes through `dispatcher` (the module's egress: proxy, extra CAs). */
export function egressFetch(dispatcher: Dispatcher): CustomFetch {
  // undici's own fetch: only it takes an undici 7 dispatcher. Its Response is the WHATWG one openid-client and jose read.
  return ((url: string, init: Record<string, unknown>) => undiciFetch(url, { ...init, dispatcher } as Parameters<typeof undiciFetch>[1])) as unknown as CustomFetch;
}

/**
 * openid-client's configuration from `<issuer>/.well-known/openid-configuration` (its `issuer` must
 * match), with ID-token signatures checked against the authority's keys (`enableNonRepudiationChecks`:
 * not only TLS, OpenID Connect Core 3.1.3.7).
 * @throws {ProviderUnavailableError} `ERR_OBO_PROVIDER_UNAVAILABLE` / `_TIMEOUT` naming the URL when it cannot be read or used
 */
export async function discoverConfiguration(request: OpenIdDiscoveryRequest): Promise<Configuration> {
  let config: Configuration;
  try {
    config = await discovery(request.issuer, request.clientId, { redirect_uris: [request.redirectUri.href] }, request.clientAuth, {
      timeout: Math.ceil(request.timeoutMs / 1000),
      ...(request.dispatcher ? { [customFetch]: egressFetch(request.dispatcher) } : {}),
    });
  } catch (error) {
    const where = `${request.issuer.href.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const why = error instanceof Error ? error.message.slice(0, 120) : 'error';
    throw transportFailure(error) ?? new ProviderUnavailableError('ERR_OBO_PROVIDER_UNAVAILABLE', DEFAULT_RETRY_AFTER_SECONDS, `The authority's metadata at ${where} could not be used (${why}).`, { cause: error });
  }
  enableNonRepudiationChecks(config);
  return config;
}
