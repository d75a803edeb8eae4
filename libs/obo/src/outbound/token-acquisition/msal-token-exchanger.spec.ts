import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalAuthority } from '../../../testing/index.js';
import { OboError } from '../../errors/obo.error.js';
import { resolveOboOptions } from '../../options/resolve-obo-options.js';
import { createConfidentialClient } from './confidential-client.provider.js';
import { MsalTokenExchanger } from './msal-token-exchanger.js';

describe('MsalTokenExchanger against a local authority (real msal-node over https)', () => {
  let authority: LocalAuthority;
  const clientId = randomUUID();
  const downstreamId = randomUUID();
  const clientSecret = `secret-${randomUUID()}`;

  beforeAll(async () => {
    authority = await LocalAuthority.start({ clientId });
    authority.registerApp({ clientId, clientSecret, scopes: ['access_as_user'] });
    authority.registerApp({ clientId: downstreamId, scopes: ['Downstream.Read'] });
  });
  afterAll(async () => {
    await authority?.close();
  });

  function exchanger(timeoutMs: number): MsalTokenExchanger {
    const options = resolveOboOptions({ instance: authority.instance, tenantId: authority.tenantId, clientId, clientSecret, tokenAcquisition: { timeoutMs } });
    return new MsalTokenExchanger(options, createConfidentialClient(options));
  }

  it('sends no token request once the caller has been answered: msal finishing its work after the deadline posts nothing', async () => {
    authority.resetCounters();
    // A client assertion that takes 1 s: msal builds the token request (after discovery) only then,
    // long after the caller's 500 ms deadline answered it.
    const options = resolveOboOptions({
      instance: authority.instance,
      tenantId: authority.tenantId,
      clientId,
      clientAssertion: async () => {
        await sleep(1_000);
        return 'a-client-assertion';
      },
      tokenAcquisition: { timeoutMs: 500 },
    });
    const slow = new MsalTokenExchanger(options, createConfidentialClient(options));
    const request = { assertion: authority.mintUserToken(), scopes: [`api://${downstreamId}/Downstream.Read`], tenantId: authority.tenantId };
    const error = await slow.onBehalfOf(request).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OboError);
    expect((error as OboError).code).toBe('ERR_OBO_PROVIDER_TIMEOUT');
    await sleep(1_500); // msal gets its assertion 0.5 s after the answer
    expect(authority.requests.discovery).toBeGreaterThanOrEqual(1);
    expect(authority.requests.token).toBe(0);
  }, 15_000);

  it('still exchanges normally within the deadline', async () => {
    authority.resetCounters();
    const request = { assertion: authority.mintUserToken(), scopes: [`api://${downstreamId}/Downstream.Read`], tenantId: authority.tenantId };
    const token = await exchanger(5_000).onBehalfOf(request);
    expect(token.accessToken.split('.')).toHaveLength(3);
    expect(authority.requests.token).toBe(1);
  });

  describe('a cold authority: the first call runs alone', () => {
    const scope = () => [`api://${downstreamId}/Downstream.Read`];
    const userRequest = (oid: string) => ({ assertion: authority.mintUserToken({ claims: { oid } }), scopes: scope(), tenantId: authority.tenantId });
    const outcome = (promise: Promise<unknown>) =>
      promise.then(
        () => 'token',
        (e: unknown) => (e as OboError).code,
      );

    afterEach(() => authority.clearTokenFaults());

    it('when the provider does not answer the first call, a caller queued behind it fails with it and sends nothing', async () => {
      authority.resetCounters();
      authority.injectTokenFault({ kind: 'hang' });
      const cold = exchanger(800);
      const first = outcome(cold.onBehalfOf(userRequest(randomUUID())));
      await sleep(300); // the second caller still has ~300 ms left when the first one times out
      const second = outcome(cold.onBehalfOf(userRequest(randomUUID())));
      expect(await first).toBe('ERR_OBO_PROVIDER_TIMEOUT');
      expect(await second).toBe('ERR_OBO_PROVIDER_TIMEOUT');
      await sleep(500);
      expect(authority.requests.token).toBe(1);
    }, 15_000);

    it('when the first caller is refused for its own reasons, a queued caller still tries and gets its token', async () => {
      authority.resetCounters();
      const refused = randomUUID();
      authority.injectTokenFault({ kind: 'invalid-grant', code: 50013 }, { oid: refused });
      const cold = exchanger(5_000);
      const first = outcome(cold.onBehalfOf(userRequest(refused)));
      const second = outcome(cold.onBehalfOf(userRequest(randomUUID()))); // queued: the first is still in discovery
      expect(await first).toBe('ERR_OBO_ASSERTION_REJECTED');
      expect(await second).toBe('token');
    }, 15_000);
  });
});
