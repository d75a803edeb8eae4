import { randomBytes, randomUUID } from 'node:crypto';
import { Principal, type AccessTokenClaims } from '../../libs/obo/src/context/principal.js';
import { LocalAuthority } from '../../libs/obo/testing/index.js';

/** The authority, the Original API (the OBO caller) and the Downstream API (the resource) it calls. */
export interface Fixture {
  readonly authority: LocalAuthority;
  readonly originalId: string;
  readonly downstreamId: string;
  readonly clientSecret: string;
  /** `api://<downstream>/Downstream.Read`. */
  readonly scope: string;
}

export async function startFixture(): Promise<Fixture> {
  const originalId = randomUUID();
  const downstreamId = randomUUID();
  const clientSecret = `secret-${randomUUID()}`;
  const authority = await LocalAuthority.start({ clientId: originalId });
  authority.registerApp({ clientId: originalId, clientSecret, scopes: ['access_as_user'] });
  authority.registerApp({ clientId: downstreamId, scopes: ['Downstream.Read', 'Downstream.Write'] });
  return { authority, originalId, downstreamId, clientSecret, scope: `api://${downstreamId}/Downstream.Read` };
}

const b64 = (bytes: number) => randomBytes(bytes).toString('base64url');

/**
 * A user access token for the Original API, signed by the authority (RS256), with the claims an
 * Entra v2.0 token usually carries besides the minted defaults (aio, rh, names, ipaddr, ...), so
 * its size (~1.4 KB) is close to a real one.
 */
export function mintAssertion(fixture: Fixture, n: number): string {
  return fixture.authority.mintUserToken({
    audience: fixture.originalId,
    claims: {
      aio: `AVQAq/8${b64(54)}`,
      given_name: 'Test',
      family_name: `User ${n}`,
      name: `Test User ${n}`,
      preferred_username: `user${n}@contoso.example`,
      ipaddr: '203.0.113.7',
      rh: `1.AR8A${b64(48)}AA.`,
      uti: b64(16),
      ver: '2.0',
      xms_tcdt: 1_600_000_000,
    },
  });
}

export function claimsOf(token: string): AccessTokenClaims {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as AccessTokenClaims;
}

/** The Principal the module's guard would build from a validated `assertion`. */
export function principalFor(assertion: string): Principal {
  const claims = claimsOf(assertion);
  return new Principal(
    {
      objectId: claims.oid!,
      tenantId: claims.tid!,
      subject: claims.sub,
      clientAppId: claims.azp,
      scopes: (claims.scp ?? '').split(' ').filter(Boolean),
      roles: [],
      isAppOnly: false,
      claims,
    },
    assertion,
  );
}
