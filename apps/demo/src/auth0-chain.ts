import { randomBytes } from 'node:crypto';
import { LocalOidcAuthority, type DevCertificate } from 'nestjs-obo/testing';
import { claimsOf, type DemoChain } from './demo-chain.js';
import { startSampleApps } from './sample-apps.js';

/** API identifiers (the `aud` of their tokens), as an Auth0 tenant would have them. */
const ORIGINAL_AUDIENCE = 'https://original.example.test/';
const DOWNSTREAM_AUDIENCE = 'https://downstream.example.test/';

/** RFC 9470 step-up asked for in step 5: multi-factor, within the last five minutes. */
const MFA_ACR = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';
const MFA_MAX_AGE_SECONDS = 300;

/** A client id of Auth0's form (32 letters and digits). */
function auth0ClientId(): string {
  return randomBytes(16).toString('hex');
}

/**
 * The chain on a local authority of Auth0's issuer shape and token dialect: the Original API
 * (audience {@link ORIGINAL_AUDIENCE}, scope `access_as_user`, permission `Profile.Read.All` for
 * machine callers) whose confidential client may exchange user tokens for the Downstream API
 * (RFC 8693, Auth0 On-Behalf-Of) and get its own machine tokens with `Downstream.Read.All`; the
 * Downstream API (audience {@link DOWNSTREAM_AUDIENCE}, scopes `Downstream.Read`, `Downstream.Read.All`).
 * Both samples run with `AUTH_PROVIDER=oidc`, `OIDC_PROFILE=auth0`.
 */
export async function startAuth0Chain(root: string, tls: DevCertificate): Promise<DemoChain> {
  const originalClientId = auth0ClientId();
  const clientSecret = randomBytes(24).toString('base64url');
  const machineClientId = auth0ClientId();
  // Auth0 documents requested_token_type as required for its token exchange: so is it here.
  const authority = await LocalOidcAuthority.start({ tls, dialect: 'auth0', audience: ORIGINAL_AUDIENCE, clientId: auth0ClientId(), requestedTokenType: 'required' });
  authority.registerApi({ audience: ORIGINAL_AUDIENCE, scopes: ['access_as_user', 'Profile.Read.All'] });
  authority.registerApi({ audience: DOWNSTREAM_AUDIENCE, scopes: ['Downstream.Read', 'Downstream.Read.All'] });
  authority.registerClient({
    clientId: originalClientId,
    clientSecret,
    apis: [ORIGINAL_AUDIENCE],
    delegatedScopes: { [DOWNSTREAM_AUDIENCE]: ['Downstream.Read'] },
    appScopes: { [DOWNSTREAM_AUDIENCE]: ['Downstream.Read.All'] },
  });
  console.log(`Local authority (Auth0 shape): issuer ${authority.issuer}, token endpoint ${authority.tokenEndpoint}`);

  const samples = await startSampleApps(root, {
    common: { NODE_EXTRA_CA_CERTS: tls.certPath, AUTH_PROVIDER: 'oidc', OIDC_ISSUER: authority.issuer, OIDC_PROFILE: 'auth0' },
    downstream: { OIDC_AUDIENCE: DOWNSTREAM_AUDIENCE },
    original: (downstreamUrl) => ({
      OIDC_AUDIENCE: ORIGINAL_AUDIENCE,
      OIDC_CLIENT_ID: originalClientId,
      OIDC_CLIENT_SECRET: clientSecret,
      DOWNSTREAM_API_BASE_URL: downstreamUrl,
      DOWNSTREAM_API_AUDIENCE: DOWNSTREAM_AUDIENCE,
      DOWNSTREAM_API_SCOPES: 'Downstream.Read',
    }),
  }).catch(async (error: unknown) => {
    await authority.close();
    throw error;
  });
  return {
    originalUrl: samples.original.url,
    originalClientId,
    userClaimNames: ['aud', 'scope', 'sub', 'azp'],
    exchangeLabel: 'token exchange requests',
    exchanges: () => authority.tokenRequests.tokenExchange,
    mintUserToken: () => authority.mintUserToken(),
    mintTokenWithoutScope: () => authority.mintUserToken({ scopes: ['Files.Read'] }),
    mintAppToken: () => authority.mintAppToken({ clientId: machineClientId, scopes: ['Profile.Read.All'] }),
    stepUp: {
      title: 'The authority asks this user for a recent multi-factor sign-in (RFC 9470 step-up)',
      error: 'insufficient_user_authentication',
      inject: (userToken) =>
        authority.injectTokenFault(
          { kind: 'step-up', acrValues: MFA_ACR, maxAge: MFA_MAX_AGE_SECONDS },
          { grant: 'token_exchange', subject: claimsOf(userToken).sub as string, times: 1 },
        ),
    },
    stop: async () => {
      await samples.stop();
      await authority.close();
    },
  };
}
