import type { ExchangeRequest, ExchangedToken } from '../../libs/obo/src/outbound/token-acquisition/msal-token-exchanger.js';
import { pairwiseSubject } from '../../libs/obo/testing/index.js';
import { claimsOf, type Fixture } from './fixture.js';

/**
 * Population only (BENCH_OURS_REAL_MAX below the largest level): answers an On-Behalf-Of request
 * with what the local authority's token endpoint would issue (an access token for the downstream
 * API, signed by the authority, with the user's claims), without the HTTP round trip and msal.
 * It is plugged into a second TokenAcquisition that shares the measured one's TokenCache, so
 * entries are written through the same public path; hits never reach any exchanger.
 */
export class StubExchanger {
  calls = 0;

  constructor(private readonly fixture: Fixture) {}

  async onBehalfOf(request: ExchangeRequest): Promise<ExchangedToken> {
    this.calls++;
    const user = claimsOf(request.assertion!);
    const { authority, downstreamId, originalId } = this.fixture;
    const lifetime = authority.tokenLifetimeSeconds;
    const accessToken = authority.mintUserToken({
      audience: downstreamId,
      tenantId: user.tid,
      lifetimeSeconds: lifetime,
      claims: {
        oid: user.oid,
        tid: user.tid,
        sub: pairwiseSubject(user.oid!, downstreamId),
        name: user.name,
        preferred_username: user.preferred_username,
        azp: originalId,
        azpacr: '1',
        scp: 'Downstream.Read',
      },
    });
    return { accessToken, expiresOn: Math.floor(Date.now() / 1000 + lifetime) * 1000, scopes: [...request.scopes] };
  }
}
