import { generateKeyPairSync } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { formEncode, JWT_CLIENT_ASSERTION_TYPE, TokenEndpointAuth } from './token-endpoint-auth.js';

const endpoint = 'https://issuer.example/oauth/token';

describe('#118 TokenEndpointAuth: client authentication at a generic token endpoint', () => {
  it('client_secret_basic form-encodes id and secret before base64 (RFC 6749 §2.3.1)', async () => {
    const form = new URLSearchParams();
    const headers: Record<string, string> = {};
    await new TokenEndpointAuth('my client', 'client_secret_basic', { kind: 'secret', clientSecret: 'a:b+c/d %e' }).apply(form, headers, endpoint);
    expect(headers.authorization).toBe(`Basic ${Buffer.from('my+client:a%3Ab%2Bc%2Fd+%25e').toString('base64')}`);
    expect([...form]).toEqual([]);
  });

  it('formEncode is application/x-www-form-urlencoded', () => {
    expect(formEncode('a b:c+d/é*')).toBe('a+b%3Ac%2Bd%2F%C3%A9*');
  });

  it('client_secret_post puts client_id and client_secret in the body', async () => {
    const form = new URLSearchParams();
    const headers: Record<string, string> = {};
    await new TokenEndpointAuth('client', 'client_secret_post', { kind: 'secret', clientSecret: 's' }).apply(form, headers, endpoint);
    expect(Object.fromEntries(form)).toEqual({ client_id: 'client', client_secret: 's' });
    expect(headers).toEqual({});
  });

  it.each(['RS256', 'PS256', 'ES256'] as const)('private_key_jwt signs %s: iss = sub = client id, aud = token endpoint, a minute at most, a unique jti', async (algorithm) => {
    const { privateKey, publicKey } = algorithm === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
    const auth = new TokenEndpointAuth('client', 'private_key_jwt', {
      kind: 'private-key',
      privateKey: { privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, algorithm, keyId: 'k1' },
    });
    const assertions: string[] = [];
    for (let i = 0; i < 2; i++) {
      const form = new URLSearchParams();
      await auth.apply(form, {}, endpoint);
      expect(form.get('client_id')).toBe('client');
      expect(form.get('client_assertion_type')).toBe(JWT_CLIENT_ASSERTION_TYPE);
      assertions.push(form.get('client_assertion')!);
    }
    const { payload } = await jwtVerify(assertions[0]!, publicKey, { issuer: 'client', subject: 'client', audience: endpoint, algorithms: [algorithm] });
    expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(60);
    expect(decodeProtectedHeader(assertions[0]!)).toMatchObject({ alg: algorithm, kid: 'k1' });
    const { payload: second } = await jwtVerify(assertions[1]!, publicKey);
    expect(second.jti).toEqual(expect.any(String));
    expect(second.jti).not.toBe(payload.jti);
  });

  it('private_key_jwt with a clientAssertion callback sends what the callback returns', async () => {
    const form = new URLSearchParams();
    await new TokenEndpointAuth('client', 'private_key_jwt', { kind: 'assertion', clientAssertion: async () => 'assertion-from-the-platform' }).apply(form, {}, endpoint);
    expect(form.get('client_assertion')).toBe('assertion-from-the-platform');
  });

  it('a key that cannot sign the algorithm is ERR_OBO_CLIENT_CREDENTIALS_INVALID, without the key in the message', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const auth = new TokenEndpointAuth('client', 'private_key_jwt', { kind: 'private-key', privateKey: { privateKey: pem, algorithm: 'ES256' } });
    const error = await auth.apply(new URLSearchParams(), {}, endpoint).catch((e: unknown) => e as Error & { code: string });
    expect(error).toMatchObject({ code: 'ERR_OBO_CLIENT_CREDENTIALS_INVALID' });
    expect((error as Error).message).not.toContain('PRIVATE KEY');
  });
});
