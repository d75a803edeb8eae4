import { randomUUID } from 'node:crypto';
import type { AuthorityKey } from './authority-keys.js';
import type { MintOptions } from './mint-options.js';
import { signCompact } from './sign-jwt.js';

/** What {@link mintToken} takes from the authority when `options` leave a value out. */
export interface MintDefaults {
  /** Default audience (the protected API's client id). */
  readonly clientId: string;
  /** Default tenant. */
  readonly tenantId: string;
  /** Default signing key (the active one). */
  readonly key: AuthorityKey;
  issuerV1(tenantId: string): string;
  issuerV2(tenantId: string): string;
}

/**
 * Signs an access token: standard Entra claims for `options.version`, then the `identity`
 * claims, then `options.claims` / `options.header` overrides (`undefined` removes a member).
 */
export function mintToken(options: MintOptions, identity: Record<string, unknown>, defaults: MintDefaults): string {
  const version = options.version ?? '2.0';
  const tid = options.tenantId ?? defaults.tenantId;
  const key = options.key ?? defaults.key;
  const now = Math.floor(Date.now() / 1000);
  const client = randomClientFor(defaults.clientId);
  const claims: Record<string, unknown> = {
    aud: options.audience ?? (version === '2.0' ? defaults.clientId : `api://${defaults.clientId}`),
    iss: version === '2.0' ? defaults.issuerV2(tid) : defaults.issuerV1(tid),
    iat: now,
    nbf: now,
    exp: now + (options.lifetimeSeconds ?? 3600),
    ver: version,
    tid,
    ...(version === '2.0' ? { azp: client, azpacr: '1' } : { appid: client, appidacr: '1' }),
    uti: randomUUID().replaceAll('-', ''),
    ...identity,
  };
  const header: Record<string, unknown> = { typ: 'JWT', alg: key.alg, kid: key.kid, ...(version === '1.0' ? { x5t: key.kid } : {}) };
  applyOverrides(claims, options.claims);
  applyOverrides(header, options.header);
  const alg = typeof header.alg === 'string' ? header.alg : key.alg;
  return signCompact(options.rawHeader ?? JSON.stringify(header), options.rawPayload ?? JSON.stringify(claims), alg, key.privateKey);
}

/** Sets each override on `target`; a value of `undefined` removes the member. */
export function applyOverrides(target: Record<string, unknown>, overrides?: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(overrides ?? {})) {
    if (value === undefined) delete target[name];
    else target[name] = value;
  }
}

// A stable client application id per API, so tokens look as if one client app called.
const clients = new Map<string, string>();
function randomClientFor(api: string): string {
  let client = clients.get(api);
  if (!client) clients.set(api, (client = randomUUID()));
  return client;
}
