import { OboConfigurationError } from '../errors/obo.error.js';
import type { OboModuleOptions } from './obo-module-options.interface.js';
import { describeValue } from './option-checks.js';

/**
 * `jwks.appSpecificKeys`: whether to fetch the app-specific key set (`?appid=<client id>`).
 * @throws {OboConfigurationError} when it is not a boolean, or when it is on and a downstream API
 * is called On-Behalf-Of: an app whose tokens are signed with app-specific keys (SAML SSO or a
 * claims-mapping policy) cannot be a middle tier.
 */
export function resolveAppSpecificKeys(options: OboModuleOptions): boolean {
  const value = options.jwks?.appSpecificKeys;
  if (value === undefined || value === false) return false;
  if (value !== true) throw new OboConfigurationError('jwks.appSpecificKeys', `must be true or false (got ${describeValue(value)}).`);
  for (const [name, api] of Object.entries(options.downstreamApis ?? {})) {
    const tokenKind: unknown = typeof api === 'object' && api !== null ? (api.tokenKind ?? 'user') : 'user';
    if (tokenKind === 'user') {
      throw new OboConfigurationError(
        'jwks.appSpecificKeys',
        `cannot be used with On-Behalf-Of, and downstreamApis.${name} calls its API On-Behalf-Of the user (tokenKind "user"). ` +
          'An app registration whose tokens are signed with app-specific keys (SAML SSO or a claims-mapping policy) cannot be a middle tier: ' +
          `give downstreamApis.${name} tokenKind "app", or protect this API with an app registration without custom signing keys.`,
      );
    }
  }
  return true;
}
