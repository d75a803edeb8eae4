import { OboConfigurationError } from '../../errors/obo.error.js';
import { describeValue } from '../../options/option-checks.js';
import { resolveOboOptions, type ResolvedOboOptions } from '../../options/resolve-obo-options.js';
import { resolveSessionOptions, type ResolvedSessionOptions } from '../session/resolve-session-options.js';
import type { OboWebAppModuleOptions } from './web-app-module-options.interface.js';

/** Web-app options with every default applied and every value checked. Internal. */
export interface ResolvedWebAppOptions {
  /** Authority, client, credential, egress and downstream APIs, resolved as `OboModule` resolves them. */
  readonly shared: ResolvedOboOptions;
  readonly redirectUri: URL;
  readonly postLogoutRedirectUri?: string;
  readonly scopes: readonly string[];
  readonly session: ResolvedSessionOptions;
  readonly paths: { readonly signIn: string; readonly signOut: string; readonly backchannelLogout: string; readonly redirect: string };
}

const OWN_KEYS = new Set(['redirectUri', 'postLogoutRedirectUri', 'scopes', 'session', 'signInPath', 'signOutPath', 'backchannelLogoutPath', 'downstreamApis', 'tokenTimeoutMs']);
const PATH = /^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]{0,255}$/;
const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);

function isLoopback(url: URL): boolean {
  return url.hostname === '127.0.0.1' || url.hostname === '[::1]' || url.hostname === 'localhost';
}

function absoluteUrl(option: string, value: unknown): URL {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new OboConfigurationError(`webApp.${option}`, `must be an absolute https URL without a fragment or credentials, as registered at the authority (got ${describeValue(value)}).`);
  }
  if (url.protocol === 'http:' && !isLoopback(url)) {
    throw new OboConfigurationError(`webApp.${option}`, 'must use https (plain http is accepted only for a loopback host such as 127.0.0.1 during development).');
  }
  return url;
}

function path(option: string, value: unknown, fallback: string): string {
  const chosen = value ?? fallback;
  if (typeof chosen !== 'string' || !PATH.test(chosen) || chosen.includes('//')) {
    throw new OboConfigurationError(`webApp.${option}`, `must be a path starting with one "/", e.g. "${fallback}" (got ${describeValue(value)}).`);
  }
  return chosen;
}

/**
 * Validates `OboWebAppModule` options once, at startup. The authority and credential fields are
 * checked by the same rules as `OboModule`'s (their messages name those options).
 * @throws {OboConfigurationError} `ERR_OBO_CONFIG_INVALID` naming the option and the fix
 */
export function resolveWebAppOptions(options: OboWebAppModuleOptions): ResolvedWebAppOptions {
  if (!options || typeof options !== 'object') throw new OboConfigurationError('webApp', 'must be an object with clientId, a client credential, redirectUri and tenantId (Entra ID) or issuer.');
  const shared: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) if (!OWN_KEYS.has(key)) shared[key] = value;
  if (typeof options.clientId !== 'string' || options.clientId === '') throw new OboConfigurationError('webApp.clientId', 'is required: the web app\u2019s application (client) id.');
  if (options.clientSecret === undefined && options.clientCertificate === undefined && options.clientAssertion === undefined && options.clientPrivateKey === undefined) {
    throw new OboConfigurationError('webApp.clientSecret', 'or another client credential (clientCertificate, clientAssertion, clientPrivateKey) is required: a web app redeems authorization codes as a confidential client.');
  }
  const downstreamApis = Object.fromEntries(Object.entries(options.downstreamApis ?? {}).map(([name, api]) => [name, { ...api, tokenKind: 'user' as const }]));
  const resolved = resolveOboOptions({
    ...(shared as object),
    ...(options.issuer !== undefined && (shared as { audience?: unknown }).audience === undefined ? { audience: options.clientId } : {}),
    downstreamApis,
    tokenAcquisition: options.tokenTimeoutMs === undefined ? undefined : { timeoutMs: options.tokenTimeoutMs },
  });
  if (resolved.multiTenant && resolved.provider === 'entra') {
    throw new OboConfigurationError('webApp.tenantId', 'must be one tenant\u2019s GUID for now: multi-tenant web-app sign-in (organizations/common) is not supported yet.');
  }
  const redirectUri = absoluteUrl('redirectUri', options.redirectUri);
  if (redirectUri.search !== '') throw new OboConfigurationError('webApp.redirectUri', 'must not carry a query string.');
  const postLogout = options.postLogoutRedirectUri === undefined ? undefined : absoluteUrl('postLogoutRedirectUri', options.postLogoutRedirectUri).href;
  const scopes = options.scopes ?? [];
  if (!Array.isArray(scopes) || !scopes.every((s) => typeof s === 'string' && /^[\x21\x23-\x5b\x5d-\x7e]{1,512}$/.test(s))) {
    throw new OboConfigurationError('webApp.scopes', 'must be a list of scope names (printable ASCII, no spaces, quotes or backslashes).');
  }
  const paths = {
    signIn: path('signInPath', options.signInPath, '/auth/sign-in'),
    signOut: path('signOutPath', options.signOutPath, '/auth/sign-out'),
    backchannelLogout: path('backchannelLogoutPath', options.backchannelLogoutPath, '/auth/backchannel-logout'),
    redirect: redirectUri.pathname,
  };
  const all = Object.values(paths);
  if (new Set(all).size !== all.length) throw new OboConfigurationError('webApp.redirectUri', `path, signInPath, signOutPath and backchannelLogoutPath must differ (got ${all.join(', ')}).`);
  return {
    shared: resolved,
    redirectUri,
    postLogoutRedirectUri: postLogout,
    scopes: Object.freeze(scopes.filter((s) => !OIDC_SCOPES.has(s))),
    session: resolveSessionOptions(options.session, redirectUri),
    paths,
  };
}
