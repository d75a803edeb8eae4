import { OboError } from '../../errors/obo.error.js';

/**
 * What a token is for at an authority other than Entra ID: the RFC 8693 / client-credentials
 * `audience` (Auth0's API identifier, Okta's authorization-server audience, Keycloak's client id)
 * and/or the RFC 8707 `resource` (an absolute URI). On Entra ID the scopes name the resource.
 */
export interface TokenTarget {
  audience?: string;
  resource?: string;
}

const MAX_TARGET_LENGTH = 2_048;

function checked(method: string, name: 'audience' | 'resource', value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const printable = typeof value === 'string' && value.length > 0 && value.length <= MAX_TARGET_LENGTH && /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/.test(value);
  let uri = true;
  if (printable && name === 'resource') {
    try {
      uri = !new URL(value).hash;
    } catch {
      uri = false;
    }
  }
  if (!printable || !uri) {
    const what = name === 'audience' ? 'the identifier of the API at the authority, printable text' : 'an absolute URI without a fragment (RFC 8707)';
    throw new OboError('ERR_OBO_CONFIG_INVALID', `${method}: options.${name} must be ${what}.`);
  }
  return value;
}

/**
 * The target a caller named, checked: refused on Entra ID (the scopes name the resource there);
 * at another authority each given value must be well formed. Returns `{}` when none was named.
 * @throws {OboError} `ERR_OBO_CONFIG_INVALID`
 */
export function tokenTarget(method: string, provider: 'entra' | 'oidc', options: TokenTarget): TokenTarget {
  const { audience, resource } = options;
  if (audience === undefined && resource === undefined) return {};
  if (provider === 'entra') {
    throw new OboError('ERR_OBO_CONFIG_INVALID', `${method}: options.${audience !== undefined ? 'audience' : 'resource'} applies only to an authority other than Entra ID; on Entra ID the scopes name the resource.`);
  }
  const target: TokenTarget = {};
  const checkedAudience = checked(method, 'audience', audience);
  const checkedResource = checked(method, 'resource', resource);
  if (checkedAudience !== undefined) target.audience = checkedAudience;
  if (checkedResource !== undefined) target.resource = checkedResource;
  return target;
}
