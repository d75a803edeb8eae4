// Our token acquisition built the way OboModule wires it, without Nest DI, and the plain msal-node
// baseline, both pointed at one LocalAuthority.
import { ConfidentialClientApplication } from '@azure/msal-node';
import { RequestContext } from '../../libs/obo/src/context/request-context.service.js';
import type { TokenAcquisitionOptions } from '../../libs/obo/src/options/obo-module-options.interface.js';
import { resolveOboOptions, type ResolvedOboOptions } from '../../libs/obo/src/options/resolve-obo-options.js';
import { createConfidentialClient } from '../../libs/obo/src/outbound/token-acquisition/confidential-client.provider.js';
import { MsalTokenExchanger } from '../../libs/obo/src/outbound/token-acquisition/msal-token-exchanger.js';
import { TokenAcquisition } from '../../libs/obo/src/outbound/token-acquisition/token-acquisition.service.js';
import { TokenCache } from '../../libs/obo/src/outbound/token-cache/token-cache.js';
import type { Fixture } from './fixture.js';

export interface Ours {
  readonly options: ResolvedOboOptions;
  readonly cache: TokenCache;
  readonly exchanger: MsalTokenExchanger;
  readonly acquisition: TokenAcquisition;
}

/** A fresh ("cold") set of our providers: new options, TokenCache, msal client, exchanger and TokenAcquisition. */
export function buildOurs(fixture: Fixture, tokenAcquisition?: TokenAcquisitionOptions): Ours {
  const options = resolveOboOptions({
    instance: fixture.authority.instance,
    tenantId: fixture.authority.tenantId,
    clientId: fixture.originalId,
    clientSecret: fixture.clientSecret,
    tokenAcquisition,
  });
  const cache = new TokenCache(options);
  const exchanger = new MsalTokenExchanger(options, createConfidentialClient(options));
  return { options, cache, exchanger, acquisition: new TokenAcquisition(options, new RequestContext(), cache, exchanger) };
}

/**
 * Baseline 1: one shared msal-node ConfidentialClientApplication with its defaults (in-memory
 * cache, msal's own network client), configured as the msal-node lab's recipe (§1).
 */
export function newMsalClient(fixture: Fixture): ConfidentialClientApplication {
  const { authority } = fixture;
  return new ConfidentialClientApplication({
    auth: {
      clientId: fixture.originalId,
      authority: `${authority.instance}${authority.tenantId}`,
      clientSecret: fixture.clientSecret,
      knownAuthorities: [authority.authorityHost],
    },
  });
}
