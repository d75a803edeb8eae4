// #122 (inbound): an authority we did not write. panva's oidc-provider (OpenID Certified) issues
// RFC 9068 JWT access tokens for the Original API with its own keys; OboModule, configured only
// with its issuer and the API's audience, must accept them and refuse every altered variant with
// the RFC 6750 401, exactly as it does for our own authority.
import { AccessTokenValidator } from 'nestjs-obo';
import { startApi, type ApiUnderTest } from './support/api-under-test.js';
import { nowSeconds } from './support/clock.js';
import { expectRejection, get } from './support/expect-rejection.js';
import { ORIGINAL_API, OidcProviderAuthority } from './support/oidc-provider-authority.js';

describe('#122 an authority we did not write: oidc-provider access tokens at OboModule (rfc9068 profile)', () => {
  let op: OidcProviderAuthority;
  let api: ApiUnderTest;
  let delegated: string;

  beforeAll(async () => {
    op = await OidcProviderAuthority.start();
    api = await startApi({ issuer: op.issuer, audience: ORIGINAL_API.audience, tokenProfile: 'rfc9068' });
    delegated = `${api.url}/delegated`;
  });

  afterAll(async () => {
    await api?.close();
    await op?.close();
  });

  it('accepts its token: the principal is its subject, its client and its scope', async () => {
    const token = await op.mintUserToken({ subject: 'user-7' });
    const res = await get(delegated, token);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ objectId: 'user-7', subject: 'user-7', tenantId: op.issuer, clientAppId: op.spaClientId, scopes: ['access_as_user'], isAppOnly: false, actors: [] });
  });

  it('AccessTokenValidator.validate takes the same token (jose verifies its signature)', async () => {
    const token = await op.mintUserToken({ subject: 'user-8' });
    const principal = await api.app.get(AccessTokenValidator).validate(token);
    expect(principal.objectId).toBe('user-8');
  });

  it('refuses a token for its other resource (wrong audience) with 401 invalid_token', async () => {
    expectRejection(await get(delegated, await op.mintUserToken({ resource: 'https://downstream.example.test', scope: 'Downstream.Read' })), 'H401');
  });

  it('refuses the variants its own key signed: typ JWT, no typ, another aud, another iss, no client_id, no jti', async () => {
    const variants = [
      { header: { typ: 'JWT' } },
      { header: { typ: undefined } },
      { claims: { aud: 'https://elsewhere.example.test' } },
      { claims: { iss: `${op.issuer}/` } },
      { claims: { client_id: undefined } },
      { claims: { jti: undefined } },
    ];
    for (const variant of variants) {
      const res = await get(delegated, await op.mintUserToken(variant));
      expect({ variant, status: res.status }).toEqual({ variant, status: 401 });
      expectRejection(res, 'H401');
    }
  });

  it('refuses an expired token with the expired description', async () => {
    const token = await op.mintUserToken({ issuedAt: nowSeconds() - 7_200, expiresAt: nowSeconds() - 3_600 });
    expectRejection(await get(delegated, token), 'H401-expired');
  });

  it('refuses a tampered token: one payload byte changed, the signature kept', async () => {
    const [head, body, signature] = (await op.mintUserToken({ subject: 'user-9' })).split('.') as [string, string, string];
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>;
    const tampered = `${head}.${Buffer.from(JSON.stringify({ ...payload, sub: 'admin' })).toString('base64url')}.${signature}`;
    expectRejection(await get(delegated, tampered), 'H401');
  });

  it('answers 403 insufficient_scope for a valid token without the route’s scope', async () => {
    const token = await op.mintUserToken({ scope: 'access_as_user' });
    expect((await get(`${api.url}/admin/default`, token)).status).toBe(403);
  });
});
