// Security catalogue section 4.2 (cases #15 to #31): token structure and signature.
// Every forged or malformed token is built from real RS256 keys of the local authority.
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, randomBytes, randomUUID, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompactEncrypt } from 'jose';
import { LocalAuthority, signCompact, type AuthorityKey } from 'nestjs-obo/testing';
import { ADAPTERS, optionsFor, startApi, type ApiUnderTest } from './support/api-under-test.js';
import { expectRejection, get } from './support/expect-rejection.js';

const b64u = (value: string | Buffer): string => Buffer.from(value).toString('base64url');

/** The JSON text of a token's header or payload segment. */
function segmentJson(token: string, index: 0 | 1): string {
  return Buffer.from(token.split('.')[index]!, 'base64url').toString('utf8');
}

/** Joins already-encoded parts; no signing. */
function compact(header: unknown, payloadSegment: string, signature = ''): string {
  return `${b64u(JSON.stringify(header))}.${payloadSegment}.${signature}`;
}

/** RS256 over arbitrary bytes (for payloads that are not valid UTF-8, which signCompact cannot express). */
function signBytesRs256(header: Buffer, payload: Buffer, key: KeyObject): string {
  const input = `${b64u(header)}.${b64u(payload)}`;
  return `${input}.${b64u(sign('sha256', Buffer.from(input), key))}`;
}

async function expectOwner(url: string, token: string): Promise<void> {
  const res = await get(url, token);
  expect(res.status).toBe(200);
  expect((JSON.parse(res.body) as { objectId: string }).objectId).toBe((JSON.parse(segmentJson(token, 1)) as { oid: string }).oid);
}

describe.each(ADAPTERS)('4.2 token structure and signature on %s', (adapter) => {
  // Fixed ids with hex letters, so lookalike characters can be swapped into them (#31).
  const tenantId = 'c0ffee00-abcd-4ecd-8eee-0123456789ab';
  const clientId = 'a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d';
  let authority: LocalAuthority;
  let api: ApiUnderTest;
  let delegated: string;
  let key: AuthorityKey;
  let valid: string;

  beforeAll(async () => {
    authority = await LocalAuthority.start({ tenantId, clientId });
    api = await startApi(optionsFor(authority), {}, adapter);
    delegated = `${api.url}/delegated`;
    key = authority.activeKey;
    valid = authority.mintUserToken();
    await expectOwner(delegated, valid); // positive control; also warms the key cache
  });

  afterAll(async () => {
    await api?.close();
    await authority?.close();
  });

  const header = (): Record<string, unknown> => JSON.parse(segmentJson(valid, 0)) as Record<string, unknown>;
  const payloadSegment = (): string => valid.split('.')[1]!;

  describe('#15 wrong number of segments', () => {
    it.each([
      ['one segment', () => 'abc'],
      ['two segments', () => 'a.b'],
      ['the header and payload of a valid token only', () => valid.split('.').slice(0, 2).join('.')],
      ['four segments', () => 'a.b.c.d'],
      ['a valid token with a fourth segment', () => `${valid}.${valid.split('.')[2]}`],
      ['three empty segments', () => '..'],
      ['a valid token with an empty middle segment', () => `${valid.split('.')[0]}..${valid.split('.')[2]}`],
    ])('answers 401 invalid_token for %s', async (_name, token) => {
      expectRejection(await get(delegated, token()), 'H401');
    });
  });

  describe('#16 segments that are not base64url JSON', () => {
    // Characters outside token68 make the Authorization header itself malformed: 400, as for #5.
    it.each(['!!!.###.$$$', 'e30=.e30=.e30=', 'e30.e30.e30=.'])('answers 400 invalid_request for "%s" (outside the token68 syntax)', async (token) => {
      expectRejection(await get(delegated, token), 'H400');
    });

    it.each([
      ['token68 characters that are not base64url ("+++.///.~~~")', () => '+++.///.~~~'],
      ['a padded last segment ("e30.e30.e30=")', () => 'e30.e30.e30='],
      ['"e30.e30." (empty objects, no signature)', () => 'e30.e30.'],
      ['"e30.e30.e30" (empty objects)', () => 'e30.e30.e30'],
      ['base64url of plain text', () => `${b64u('not json')}.${b64u('not json')}.${b64u('sig')}`],
      ['random bytes in every segment', () => `${randomBytes(40).toString('base64url')}.${randomBytes(90).toString('base64url')}.${randomBytes(256).toString('base64url')}`],
      ['a header segment of random bytes before a real payload and signature', () => `${randomBytes(30).toString('base64url')}.${valid.split('.').slice(1).join('.')}`],
    ])('answers 401 invalid_token for %s', async (_name, token) => {
      expectRejection(await get(delegated, token()), 'H401');
    });
  });

  describe('#17 header or payload that is not a JSON object, correctly signed', () => {
    it.each([
      ['text that is not JSON', () => 'not json'],
      ['a JSON string', () => '"a string"'],
      ['a JSON array', () => '[1,2,3]'],
      ['a JSON array holding the real claims', () => `[${segmentJson(valid, 1)}]`],
      ['a JSON number', () => '42'],
      ['JSON null', () => 'null'],
      ['JSON true', () => 'true'],
      ['truncated JSON', () => '{"aud":'],
      ['the real claims followed by trailing text', () => `${segmentJson(valid, 1)}x`],
      ['empty', () => ''],
      ['the real claims after a byte order mark', () => `\ufeff${segmentJson(valid, 1)}`],
    ])('answers 401 invalid_token for a payload that is %s', async (_name, rawPayload) => {
      expectRejection(await get(delegated, authority.mintUserToken({ rawPayload: rawPayload() })), 'H401');
    });

    it.each([
      ['a JSON string', '"JWT"'],
      ['a JSON array', '["RS256"]'],
      ['text that is not JSON', 'RS256'],
    ])('answers 401 invalid_token for a header that is %s', async (_name, rawHeader) => {
      expectRejection(await get(delegated, authority.mintUserToken({ rawHeader })), 'H401');
    });

    it.each([
      ['a lone continuation byte', Buffer.from([0x80])],
      ['an overlong encoding of "/"', Buffer.from([0xc0, 0xaf])],
      ['a truncated 3-byte sequence', Buffer.from([0xe2, 0x82])],
      ['an encoded UTF-16 surrogate', Buffer.from([0xed, 0xa0, 0x80])],
    ])('answers 401 invalid_token for claims holding invalid UTF-8 (%s)', async (_name, bytes) => {
      const claims = segmentJson(valid, 1);
      // {"name":"<bad bytes>", ...the real claims}
      const payload = Buffer.concat([Buffer.from('{"x_bad":"'), bytes, Buffer.from(`",${claims.slice(1)}`)]);
      const token = signBytesRs256(Buffer.from(segmentJson(valid, 0)), payload, key.privateKey);
      expectRejection(await get(delegated, token), 'H401');
    });

    it('answers 200 for the same claims re-signed from their raw JSON text (positive control)', async () => {
      await expectOwner(delegated, signBytesRs256(Buffer.from(segmentJson(valid, 0)), Buffer.from(segmentJson(valid, 1)), key.privateKey));
    });
  });

  describe('#18 alg none', () => {
    it.each(['none', 'None', 'NONE', 'nOnE'])('answers 401 invalid_token for alg "%s" with an empty signature', async (alg) => {
      expectRejection(await get(delegated, compact({ ...header(), alg }, payloadSegment())), 'H401');
    });

    it.each(['none', 'None', 'NONE'])('answers 401 invalid_token for alg "%s" with a random signature', async (alg) => {
      expectRejection(await get(delegated, compact({ ...header(), alg }, payloadSegment(), randomBytes(256).toString('base64url'))), 'H401');
    });

    it('answers 401 invalid_token for alg "none" carrying a real RS256 signature over its own input', async () => {
      const token = signCompact(JSON.stringify({ ...header(), alg: 'none' }), segmentJson(valid, 1), 'RS256', key.privateKey);
      expectRejection(await get(delegated, token), 'H401');
    });

    it.each([
      ['no alg', { alg: undefined }],
      ['an empty alg', { alg: '' }],
      ['alg null', { alg: null }],
      ['alg as an array', { alg: ['RS256'] }],
      ['alg with a trailing space', { alg: 'RS256 ' }],
      ['alg in lower case', { alg: 'rs256' }],
    ])('answers 401 invalid_token for %s over a real RS256 signature', async (_name, override) => {
      const h: Record<string, unknown> = { ...header(), ...override };
      if (override.alg === undefined) delete h.alg;
      const token = signCompact(JSON.stringify(h), segmentJson(valid, 1), 'RS256', key.privateKey);
      expectRejection(await get(delegated, token), 'H401');
    });
  });

  describe('#19 key confusion: HS256 keyed with the RSA public key', () => {
    const publicKey = (): KeyObject => createPublicKey(key.privateKey);
    const secrets: Array<[string, () => Buffer | string]> = [
      ['the SPKI PEM text', () => publicKey().export({ type: 'spki', format: 'pem' }) as string],
      ['the SPKI PEM text without its final newline', () => (publicKey().export({ type: 'spki', format: 'pem' }) as string).trimEnd()],
      ['the PKCS#1 PEM text', () => publicKey().export({ type: 'pkcs1', format: 'pem' }) as string],
      ['the SPKI DER bytes', () => publicKey().export({ type: 'spki', format: 'der' })],
      ['the PKCS#1 DER bytes', () => publicKey().export({ type: 'pkcs1', format: 'der' })],
      ['the JWK "n" string', () => String(key.publicJwk.n)],
      ['the JWK "n" bytes', () => Buffer.from(String(key.publicJwk.n), 'base64url')],
      ['the published JWK as JSON text', () => JSON.stringify(key.publicJwk)],
    ];

    it.each(secrets)('answers 401 invalid_token for HS256 with %s as secret and the real kid', async (_name, secret) => {
      const token = signCompact(JSON.stringify({ ...header(), alg: 'HS256' }), segmentJson(valid, 1), 'HS256', secret());
      expectRejection(await get(delegated, token), 'H401');
    });

    it.each(['HS384', 'HS512'])('answers 401 invalid_token for %s keyed with the SPKI PEM text', async (alg) => {
      const pem = publicKey().export({ type: 'spki', format: 'pem' }) as string;
      const token = signCompact(JSON.stringify({ ...header(), alg }), segmentJson(valid, 1), alg, pem);
      expectRejection(await get(delegated, token), 'H401');
    });
  });

  describe('#20 the right RSA key under another RSA algorithm', () => {
    it.each(['PS256', 'PS384', 'PS512', 'RS384', 'RS512'])('answers 401 invalid_token for a token the IdP key signed with %s', async (alg) => {
      expectRejection(await get(delegated, authority.mintUserToken({ header: { alg } })), 'H401');
    });

    it('answers 200 for the same token signed with RS256 (positive control)', async () => {
      await expectOwner(delegated, authority.mintUserToken({ header: { alg: 'RS256' } }));
    });
  });

  describe('#21 alg bound to the key type (default algorithms)', () => {
    it.each(['ES256', 'ES384', 'EdDSA'])('answers 401 invalid_token for an %s token whose kid names the RSA key', async (alg) => {
      const foreign = await authority.foreignKey(alg, key.kid);
      expectRejection(await get(delegated, authority.mintUserToken({ key: foreign })), 'H401');
    });
  });

  describe('#22 #23 #24 tampered or missing signature', () => {
    const parts = (): [string, string, string] => valid.split('.') as [string, string, string];
    const flipByte = (segment: string, index: number): string => {
      const bytes = Buffer.from(segment, 'base64url');
      bytes[index] = bytes[index]! ^ 0x01;
      return bytes.toString('base64url');
    };

    it.each([
      ['the first signature byte flipped', ([a, b, c]: string[]) => `${a}.${b}.${flipByte(c!, 0)}`],
      ['a middle signature byte flipped', ([a, b, c]: string[]) => `${a}.${b}.${flipByte(c!, 128)}`],
      ['the last signature byte flipped', ([a, b, c]: string[]) => `${a}.${b}.${flipByte(c!, 255)}`],
      ['the signature truncated by one byte', ([a, b, c]: string[]) => `${a}.${b}.${Buffer.from(c!, 'base64url').subarray(0, 255).toString('base64url')}`],
      ['the signature truncated to half', ([a, b, c]: string[]) => `${a}.${b}.${c!.slice(0, 171)}`],
      ['the signature with "=" padding added', ([a, b, c]: string[]) => `${a}.${b}.${c}=`],
      ['the signature with "==" padding added', ([a, b, c]: string[]) => `${a}.${b}.${c}==`],
      ['the signature in standard base64 with padding', ([a, b, c]: string[]) => `${a}.${b}.${Buffer.from(c!, 'base64url').toString('base64')}`],
      ['the signature re-encoded with non-zero trailing bits (same bytes, other text)', ([a, b, c]: string[]) => {
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
        const last = alphabet.indexOf(c!.at(-1)!);
        const variant = `${c!.slice(0, -1)}${alphabet[(last & 0b110000) | 0b000101]}`;
        expect(Buffer.from(variant, 'base64url').equals(Buffer.from(c!, 'base64url'))).toBe(true);
        return `${a}.${b}.${variant}`;
      }],
      ['the signature doubled', ([a, b, c]: string[]) => `${a}.${b}.${c}${c}`],
      ['a zero-byte signature of the right length', ([a, b]: string[]) => `${a}.${b}.${Buffer.alloc(256).toString('base64url')}`],
      ['the signature of another token by the same key', ([a, b]: string[]) => `${a}.${b}.${authority.mintUserToken().split('.')[2]}`],
    ])('#22 answers 401 invalid_token for %s', async (_name, make) => {
      expectRejection(await get(delegated, make(parts())), 'H401');
    });

    it.each([
      ['scp widened to "access_as_user Admin.All"', { scp: 'access_as_user Admin.All' }],
      ['oid changed', { oid: randomUUID() }],
      ['exp pushed out by a day', { exp: Math.floor(Date.now() / 1000) + 90_000 }],
      ['tid changed', { tid: randomUUID() }],
    ])('#23 answers 401 invalid_token for the payload with %s under the original signature', async (_name, change) => {
      const [a, b, c] = parts();
      const claims = { ...(JSON.parse(Buffer.from(b, 'base64url').toString('utf8')) as Record<string, unknown>), ...change };
      expectRejection(await get(delegated, `${a}.${b64u(JSON.stringify(claims))}.${c}`), 'H401');
    });

    it('#23 answers 401 invalid_token for the same claims re-serialised with whitespace under the original signature', async () => {
      const [a, b, c] = parts();
      const spaced = JSON.stringify(JSON.parse(Buffer.from(b, 'base64url').toString('utf8')), null, 1);
      expectRejection(await get(delegated, `${a}.${b64u(spaced)}.${c}`), 'H401');
    });

    it('#23 answers 401 invalid_token for the header with another kid under the original signature', async () => {
      const [, b, c] = parts();
      expectRejection(await get(delegated, `${b64u(JSON.stringify({ ...header(), x5t: 'changed' }))}.${b}.${c}`), 'H401');
    });

    it('#24 answers 401 invalid_token for "header.payload." with alg RS256', async () => {
      const [a, b] = parts();
      expectRejection(await get(delegated, `${a}.${b}.`), 'H401');
    });
  });

  describe('#25 header key references are never used nor fetched', () => {
    let attackerServer: Server;
    let attackerUrl: string;
    let attackerRequests = 0;
    let attacker: AuthorityKey;
    let attackerJwk: Record<string, unknown>;
    let certKey: KeyObject;
    let certDerB64: string;
    let certPem: string;

    beforeAll(async () => {
      attacker = await authority.foreignKey('RS256');
      attackerJwk = { ...attacker.publicJwk };
      // A self-signed attacker certificate for x5c/x5u (openssl, as scripts/test.mjs uses for TLS).
      const dir = mkdtempSync(join(tmpdir(), 'obo-x5c-'));
      try {
        execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '1', '-subj', '/CN=attacker',
          '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'ignore' });
        certKey = createPrivateKey(readFileSync(join(dir, 'k.pem')));
        certPem = readFileSync(join(dir, 'c.pem'), 'utf8');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      certDerB64 = certPem.replace(/-----[^-]+-----|\s/g, '');
      // The attacker's host would serve its key set and certificate, if anyone asked.
      attackerServer = createServer((req, res) => {
        attackerRequests++;
        if (req.url?.startsWith('/jwks')) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [attackerJwk] }));
        else res.writeHead(200, { 'content-type': 'application/x-pem-file' }).end(certPem);
      });
      await new Promise<void>((resolve) => attackerServer.listen(0, '127.0.0.1', resolve));
      attackerUrl = `http://127.0.0.1:${(attackerServer.address() as AddressInfo).port}`;
    });

    afterAll(async () => {
      attackerServer?.closeAllConnections();
      await new Promise<void>((resolve) => (attackerServer ? attackerServer.close(() => resolve()) : resolve()));
    });

    const cases: Array<[string, () => { header: Record<string, unknown>; key: KeyObject }]> = [
      ['jku naming the attacker key set, attacker kid', () => ({ header: { kid: attacker.kid, jku: `${attackerUrl}/jwks.json` }, key: attacker.privateKey })],
      ['jku naming the attacker key set, real kid', () => ({ header: { kid: key.kid, jku: `${attackerUrl}/jwks.json` }, key: attacker.privateKey })],
      ['x5u naming the attacker certificate', () => ({ header: { kid: 'x5u-key', x5u: `${attackerUrl}/cert.pem` }, key: certKey })],
      ['x5u naming the attacker certificate, real kid', () => ({ header: { kid: key.kid, x5u: `${attackerUrl}/cert.pem` }, key: certKey })],
      ['an embedded attacker jwk', () => ({ header: { kid: attacker.kid, jwk: attackerJwk }, key: attacker.privateKey })],
      ['an embedded attacker jwk, real kid', () => ({ header: { kid: key.kid, jwk: { ...attackerJwk, kid: key.kid } }, key: attacker.privateKey })],
      ['an attacker x5c chain', () => ({ header: { kid: 'x5c-key', x5c: [certDerB64] }, key: certKey })],
      ['an attacker x5c chain, real kid', () => ({ header: { kid: key.kid, x5c: [certDerB64] }, key: certKey })],
      ['jku, x5u, jwk and x5c together', () => ({
        header: { kid: attacker.kid, jku: `${attackerUrl}/jwks.json`, x5u: `${attackerUrl}/cert.pem`, jwk: attackerJwk, x5c: [certDerB64] },
        key: attacker.privateKey,
      })],
    ];

    it.each(cases)('answers 401 invalid_token for a token signed by an attacker key with %s', async (_name, make) => {
      const { header: extra, key: signingKey } = make();
      const token = signCompact(JSON.stringify({ ...header(), ...extra }), segmentJson(valid, 1), 'RS256', signingKey);
      expectRejection(await get(delegated, token), 'H401');
    });

    it('accepts a real token that carries a jku naming the attacker host, without fetching it', async () => {
      // The header is signed by the real key; jku must simply be ignored.
      const token = authority.mintUserToken({ header: { jku: `${attackerUrl}/jwks.json`, x5u: `${attackerUrl}/cert.pem` } });
      await expectOwner(delegated, token);
    });

    it('sent no request to the jku/x5u host (and the host does count requests)', async () => {
      await new Promise((resolve) => setTimeout(resolve, 300)); // let any background fetch land
      expect(attackerRequests).toBe(0);
      expect((await fetch(`${attackerUrl}/jwks.json`)).status).toBe(200);
      expect(attackerRequests).toBe(1);
    });
  });

  describe('#26 crit and b64 header parameters', () => {
    it.each([
      ['crit naming an unknown extension', { crit: ['exp-foo'], 'exp-foo': 1 }],
      ['crit ["b64"] with b64 false', { crit: ['b64'], b64: false }],
      ['crit ["b64"] with b64 true', { crit: ['b64'], b64: true }],
      ['b64 false without crit', { b64: false }],
      ['b64 true without crit', { b64: true }],
      ['an empty crit list', { crit: [] }],
      ['crit naming a registered claim', { crit: ['exp'] }],
      ['crit as a string', { crit: 'exp-foo', 'exp-foo': 1 }],
    ])('answers 401 invalid_token for a correctly signed token with %s', async (_name, extra) => {
      expectRejection(await get(delegated, authority.mintUserToken({ header: extra })), 'H401');
    });

    it('answers 200 for an unknown non-critical header parameter (positive control)', async () => {
      await expectOwner(delegated, authority.mintUserToken({ header: { 'exp-foo': 1 } }));
    });
  });

  describe('#27 typ must be JWT', () => {
    it.each([
      ['at+jwt', 'at+jwt'],
      ['application/at+jwt', 'application/at+jwt'],
      ['id_token', 'id_token'],
      ['dpop+jwt', 'dpop+jwt'],
      ['JWS', 'JWS'],
      ['JOSE', 'JOSE'],
      ['"JWT " with a trailing space', 'JWT '],
      ['an empty string', ''],
      ['missing', undefined],
      ['a number', 1],
      ['null', null],
      ['an array', ['JWT']],
    ])('answers 401 invalid_token for typ %s', async (_name, typ) => {
      expectRejection(await get(delegated, authority.mintUserToken({ header: { typ } })), 'H401');
    });

    it.each(['JWT', 'jwt', 'Jwt'])('answers 200 for typ "%s" (positive control)', async (typ) => {
      await expectOwner(delegated, authority.mintUserToken({ header: { typ } }));
    });
  });

  describe('#28 ID tokens presented as access tokens', () => {
    const idTokenClaims = { scp: undefined, roles: undefined, nonce: randomUUID(), email: 'user@example.test', at_hash: 'x' };

    it.each([
      ['aud is another client application', () => authority.mintUserToken({ audience: randomUUID(), claims: idTokenClaims })],
      ['aud is this API (SPA and API share one registration)', () => authority.mintUserToken({ claims: idTokenClaims })],
      ['aud is this API, idtyp user', () => authority.mintUserToken({ claims: { ...idTokenClaims, idtyp: 'user' } })],
      ['aud is this API, v1.0', () => authority.mintUserToken({ version: '1.0', audience: clientId, claims: idTokenClaims })],
      ['aud is this API, an empty scp', () => authority.mintUserToken({ claims: { ...idTokenClaims, scp: '' } })],
      ['aud is this API, an empty roles list', () => authority.mintUserToken({ claims: { ...idTokenClaims, roles: [] } })],
    ])('answers 401 invalid_token for an ID-token-like token where %s and neither scp nor roles is set', async (_name, token) => {
      expectRejection(await get(delegated, token()), 'H401');
      expectRejection(await get(`${api.url}/authenticated`, token()), 'H401');
    });
  });

  describe('#29 JWE and JSON serialisations', () => {
    it('answers 401 invalid_token for a JWE (RSA-OAEP-256, A256GCM) wrapping a valid token under the IdP public key', async () => {
      const jwe = await new CompactEncrypt(new TextEncoder().encode(valid))
        .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: key.kid, cty: 'JWT', typ: 'JWT' })
        .encrypt(createPublicKey(key.privateKey));
      expect(jwe.split('.')).toHaveLength(5);
      expectRejection(await get(delegated, jwe), 'H401');
    });

    it('answers 401 invalid_token for a direct-key JWE with five segments', async () => {
      const jwe = await new CompactEncrypt(new TextEncoder().encode(segmentJson(valid, 1)))
        .setProtectedHeader({ alg: 'dir', enc: 'A128GCM', kid: key.kid })
        .encrypt(randomBytes(16));
      expectRejection(await get(delegated, jwe), 'H401');
    });

    it('answers 401 invalid_token for five segments made of a valid token', async () => {
      const [a, b, c] = valid.split('.');
      expectRejection(await get(delegated, `${a}.${b}.${c}.${b}.${c}`), 'H401');
    });

    const general = (): string => {
      const [h, p, s] = valid.split('.');
      return JSON.stringify({ payload: p, signatures: [{ protected: h, signature: s }] });
    };
    const flattened = (): string => {
      const [h, p, s] = valid.split('.');
      return JSON.stringify({ payload: p, protected: h, signature: s });
    };

    // Raw JSON has quotes, braces and commas: not token68, so the header itself is malformed (as #5/#7).
    it.each([
      ['general', general],
      ['flattened', flattened],
    ])('answers 400 invalid_request for a %s JWS JSON serialisation sent as is', async (_name, json) => {
      expectRejection(await get(delegated, json()), 'H400');
    });

    it.each([
      ['general', general],
      ['flattened', flattened],
    ])('answers 401 invalid_token for a %s JWS JSON serialisation sent base64url-encoded', async (_name, json) => {
      expectRejection(await get(delegated, b64u(json())), 'H401');
    });
  });

  describe('#30 duplicate member names', () => {
    const claims = (): string => segmentJson(valid, 1);
    /** The real claims with `member` inserted first (so the real value comes last) or last. */
    const withFirst = (member: string): string => `{${member},${claims().slice(1)}`;
    const withLast = (member: string): string => `${claims().slice(0, -1)},${member}}`;

    it.each([
      ['aud: another audience first, the API last (last-wins would accept)', () => withFirst(`"aud":"${randomUUID()}"`)],
      ['aud: the API first, another audience last', () => withLast(`"aud":"${randomUUID()}"`)],
      ['aud: the same value twice', () => withLast(`"aud":"${clientId}"`)],
      ['scp: "x" first, access_as_user last (last-wins would accept)', () => withFirst('"scp":"x"')],
      ['scp: access_as_user first, "x" last', () => withLast('"scp":"x"')],
      ['aud written once plainly and once with a \\u escape', () => withFirst(`"a\\u0075d":"${randomUUID()}"`)],
      ['iss: a foreign issuer first', () => withFirst('"iss":"https://attacker.example/"')],
      ['a nested object with a repeated member', () => withLast('"xms_cc":{"cp1":1,"cp1":2}')],
      ['an object inside an array with a repeated member', () => withLast('"x_list":[{"a":1,"a":2}]')],
    ])('answers 401 invalid_token for a correctly signed payload with %s', async (_name, rawPayload) => {
      expectRejection(await get(delegated, authority.mintUserToken({ rawPayload: rawPayload() })), 'H401');
    });

    it.each([
      ['alg: "none" first, RS256 last (last-wins would accept)', () => `{"alg":"none","typ":"JWT","alg":"RS256","kid":"${key.kid}"}`],
      ['alg: RS256 first, "none" last', () => `{"alg":"RS256","typ":"JWT","kid":"${key.kid}","alg":"none"}`],
      ['kid: an unknown kid first, the real kid last', () => `{"kid":"${randomUUID()}","alg":"RS256","typ":"JWT","kid":"${key.kid}"}`],
      ['typ: at+jwt first, JWT last', () => `{"typ":"at+jwt","alg":"RS256","typ":"JWT","kid":"${key.kid}"}`],
      ['kid twice with the same value', () => `{"alg":"RS256","typ":"JWT","kid":"${key.kid}","kid":"${key.kid}"}`],
    ])('answers 401 invalid_token for a correctly signed header with %s', async (_name, rawHeader) => {
      expectRejection(await get(delegated, authority.mintUserToken({ rawHeader: rawHeader() })), 'H401');
    });

    it('answers 200 for the same raw header and payload text without duplicates (positive control)', async () => {
      const rawHeader = `{"alg":"RS256","typ":"JWT","kid":"${key.kid}"}`;
      const rawPayload = withLast('"x_list":[{"a":1,"b":2},{"a":3}],"x_nested":{"aud":"same names in another object are fine"}');
      await expectOwner(delegated, authority.mintUserToken({ rawHeader, rawPayload }));
    });
  });

  describe('#31 lookalike, invisible and case-changed characters', () => {
    const issuer = (): string => authority.issuerV2();
    const swapFirst = (text: string, from: string, to: string): string => {
      const at = text.indexOf(from, text.indexOf(tenantId.slice(0, 4)));
      expect(at).toBeGreaterThanOrEqual(0);
      return `${text.slice(0, at)}${to}${text.slice(at + from.length)}`;
    };

    it.each([
      ['Cyrillic с (U+0441) for "c" in the tenant part', () => swapFirst(issuer(), 'c', '\u0441')],
      ['Cyrillic е (U+0435) for "e" in the tenant part', () => swapFirst(issuer(), 'e', '\u0435')],
      ['Cyrillic а (U+0430) for "a" in the tenant part', () => swapFirst(issuer(), 'a', '\u0430')],
      ['a trailing space', () => `${issuer()} `],
      ['a trailing zero-width space', () => `${issuer()}\u200b`],
      ['a zero-width space inside', () => issuer().replace('/v2.0', '/\u200bv2.0')],
      ['a leading zero-width no-break space (BOM)', () => `\ufeff${issuer()}`],
      ['fullwidth "ｈ" (NFKC-equivalent to "h")', () => issuer().replace('https', '\uff48ttps')],
      ['a superscript zero (NFKC-equivalent to "0")', () => issuer().replace('v2.0', 'v2.\u2070')],
      ['an upper-case scheme', () => issuer().replace('https', 'HTTPS')],
      ['a trailing slash', () => `${issuer()}/`],
    ])('answers 401 invalid_token for a v2.0 iss with %s', async (_name, iss) => {
      expectRejection(await get(delegated, authority.mintUserToken({ claims: { iss: iss() } })), 'H401');
    });

    it.each([
      ['Cyrillic о (U+043E) in "windows"', () => authority.issuerV1().replace('windows', 'wind\u043ews')],
      ['a trailing space', () => `${authority.issuerV1()} `],
      ['a zero-width space in the host', () => authority.issuerV1().replace('sts.', 'sts\u200b.')],
      ['an upper-case host', () => authority.issuerV1().replace('sts.windows.net', 'STS.WINDOWS.NET')],
    ])('answers 401 invalid_token for a v1.0 iss with %s', async (_name, iss) => {
      expectRejection(await get(delegated, authority.mintUserToken({ version: '1.0', claims: { iss: iss() } })), 'H401');
    });

    it('answers 200 for an unaltered v1.0 token (positive control)', async () => {
      await expectOwner(delegated, authority.mintUserToken({ version: '1.0' }));
    });

    it.each([
      ['a trailing space', () => `${clientId} `],
      ['a trailing zero-width space', () => `${clientId}\u200b`],
      ['a leading zero-width space', () => `\u200b${clientId}`],
      ['upper-case letters', () => clientId.toUpperCase()],
      ['fullwidth "ａ" (NFKC-equivalent to "a")', () => `\uff41${clientId.slice(1)}`],
      ['Cyrillic а (U+0430) for "a"', () => `\u0430${clientId.slice(1)}`],
      ['api:// form with a trailing space', () => `api://${clientId} `],
      ['api:// form with an upper-case scheme', () => `API://${clientId}`],
      ['a one-element array holding the clientId with a trailing space', () => [`${clientId} `]],
    ])('answers 401 invalid_token for aud with %s', async (_name, aud) => {
      expectRejection(await get(delegated, authority.mintUserToken({ audience: aud() })), 'H401');
    });

    it.each([
      ['upper case', () => tenantId.toUpperCase()],
      ['Cyrillic с (U+0441) for "c"', () => `\u0441${tenantId.slice(1)}`],
      ['a trailing space', () => `${tenantId} `],
      ['a trailing zero-width space', () => `${tenantId}\u200b`],
      ['fullwidth digits (NFKC-equivalent)', () => tenantId.replace('0123', '\uff10\uff11\uff12\uff13')],
    ])('answers 401 invalid_token for tid in %s, with iss built from the same tid', async (_name, tid) => {
      const token = authority.mintUserToken({ claims: { tid: tid(), iss: authority.issuerV2(tid()) } });
      expectRejection(await get(delegated, token), 'H401');
    });

    it.each([
      ['access_as_user joined to admin by a no-break space', 'access_as_user\u00a0admin'],
      ['fullwidth letters', '\uff41\uff43\uff43\uff45\uff53\uff53_as_user'],
      ['a trailing zero-width space', 'access_as_user\u200b'],
      ['a Cyrillic а (U+0430)', '\u0430ccess_as_user'],
      ['a long s (U+017F, NFKC "s")', 'acce\u017fs_as_user'],
      ['upper case', 'ACCESS_AS_USER'],
      ['title case', 'Access_As_User'],
      ['an ideographic space separator', 'admin\u3000access_as_user'],
      ['a tab separator', 'admin\taccess_as_user'],
    ])('answers 403 insufficient_scope for scp with %s', async (_name, scp) => {
      const res = await get(delegated, authority.mintUserToken({ claims: { scp } }));
      expectRejection(res, 'H403');
      expect((res.headers as Headers).get('www-authenticate')).toMatch(/, scope="access_as_user"$/);
    });

    it.each(['access_as_user admin', 'admin access_as_user', 'admin  access_as_user'])('answers 200 for scp "%s" (positive control)', async (scp) => {
      await expectOwner(delegated, authority.mintUserToken({ claims: { scp } }));
    });
  });
});

describe.each(ADAPTERS)('4.2 #21 alg bound to the key type (RS256 and ES256 both allowed) on %s', (adapter) => {
  let authority: LocalAuthority;
  let api: ApiUnderTest;
  let rsa: AuthorityKey;
  let ec: AuthorityKey;
  let delegated: string;

  beforeAll(async () => {
    authority = await LocalAuthority.start();
    rsa = authority.activeKey;
    ec = await authority.rotateKey('ES256'); // both published
    api = await startApi(optionsFor(authority, { algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'] }), {}, adapter);
    delegated = `${api.url}/delegated`;
  });

  afterAll(async () => {
    await api?.close();
    await authority?.close();
  });

  it('answers 200 for RS256 under the RSA kid (positive control)', async () => {
    await expectOwner(delegated, authority.mintUserToken({ key: rsa }));
  });

  it('answers 200 for ES256 under the EC kid (positive control)', async () => {
    await expectOwner(delegated, authority.mintUserToken({ key: ec }));
  });

  it('answers 401 invalid_token for ES256 signed by a foreign EC key under the RSA kid', async () => {
    const foreign = await authority.foreignKey('ES256', rsa.kid);
    expectRejection(await get(delegated, authority.mintUserToken({ key: foreign })), 'H401');
  });

  it('answers 401 invalid_token for EdDSA signed by a foreign key under the RSA kid', async () => {
    const foreign = await authority.foreignKey('EdDSA', rsa.kid);
    expectRejection(await get(delegated, authority.mintUserToken({ key: foreign })), 'H401');
  });

  it('answers 401 invalid_token for PS256 signed by the real RSA key whose JWK says alg RS256', async () => {
    expectRejection(await get(delegated, authority.mintUserToken({ key: rsa, header: { alg: 'PS256' } })), 'H401');
  });

  it('answers 401 invalid_token for RS256 signed by the RSA key under the EC kid', async () => {
    expectRejection(await get(delegated, authority.mintUserToken({ key: rsa, header: { kid: ec.kid } })), 'H401');
  });

  it('answers 401 invalid_token for ES256 signed by the EC key under the RSA kid', async () => {
    expectRejection(await get(delegated, authority.mintUserToken({ key: ec, header: { kid: rsa.kid } })), 'H401');
  });

  it('answers 401 invalid_token for HS256 keyed with the EC public key PEM under the EC kid', async () => {
    const pem = createPublicKey(ec.privateKey).export({ type: 'spki', format: 'pem' }) as string;
    const token = authority.mintUserToken({ key: ec });
    const forged = signCompact(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: ec.kid }), segmentJson(token, 1), 'HS256', pem);
    expectRejection(await get(delegated, forged), 'H401');
  });
});
