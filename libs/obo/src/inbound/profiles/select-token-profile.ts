import type { ResolvedInboundOptions } from '../../options/resolve-obo-options.js';
import { entraProfile } from './entra.profile.js';
import { genericProfile } from './generic.profile.js';
import type { TokenProfile } from './token-profile.js';

/** The token profile the options name: Entra ID's, or a generic authority's. */
export function selectTokenProfile(options: ResolvedInboundOptions): TokenProfile {
  return options.tokenProfile === 'entra' ? entraProfile(options) : genericProfile(options);
}
