// Catalogue #110: large legitimate tokens. Real users in many groups carry access tokens far over
// 8 KB; the default maxTokenLength must let through whatever Node's default 16 KiB header limit
// lets through, log a size refusal once (size only), and never follow a groups-overage pointer.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { OboModule } from 'nestjs-obo';
import { LocalAuthority } from 'nestjs-obo/testing';
import { optionsFor } from './support/api-under-test.js';
import { CapturingLogger } from './support/capturing-logger.js';
import { expectRejection, get } from './support/expect-rejection.js';
import { startStubDownstream, type StubDownstream } from './support/stub-downstream.js';
import { TestApiController } from './support/test-api.controller.js';

/** The other claims of a real Entra v2 user token, at their usual sizes (values made up). */
const USER_CLAIMS = {
  aio: randomBytes(150).toString('base64url'),
  amr: ['pwd', 'mfa'],
  family_name: 'Doe',
  given_name: 'Jordan',
  ipaddr: '203.0.113.24',
  onprem_sid: 'S-1-5-21-1004336348-1177238915-682003330-512000',
  rh: `0.${randomBytes(48).toString('base64url')}.`,
  upn: 'jordan.doe@contoso.example',
  unique_name: 'jordan.doe@contoso.example',
  xms_tcdt: 1_600_000_000,
};

/** Directory-role template ids as Entra writes them in `wids`. */
const WIDS = ['62e90394-69f5-4237-9190-012177145e10', 'f2ef992c-3afb-46b9-b7cf-a126ee74c451', 'b79fbf4d-3ef9-4689-8143-76b194e85509'];

describe('#110 large legitimate tokens (default maxTokenLength; Node header limit raised to 64 KiB so oversized tokens reach the app)', () => {
  let authority: LocalAuthority;
  let app: Awaited<ReturnType<typeof NestFactory.create>>;
  let server: Server;
  let url: string;
  let graph: StubDownstream;
  const logger = new CapturingLogger();
  const sizeLines = (): string[] => logger.lines.filter((l) => l.includes('refused for its size'));

  beforeAll(async () => {
    authority = await LocalAuthority.start();
    graph = await startStubDownstream();
    @Module({ imports: [OboModule.forRoot(optionsFor(authority))], controllers: [TestApiController] })
    class LargeTokensModule {}
    app = await NestFactory.create(LargeTokensModule, { logger });
    await app.init();
    // An operator who lets large headers in raises Node's limit; maxTokenLength (default) is then the cap.
    server = createServer({ maxHeaderSize: 65_536 }, app.getHttpAdapter().getInstance());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await app?.close();
    await graph?.close();
    await authority?.close();
  });

  it('answers 200 to a token with 200 groups and 3 wids (about 12.3 KB, over the old 12,288 default)', async () => {
    const groups = Array.from({ length: 200 }, () => randomUUID());
    const token = authority.mintUserToken({ claims: { ...USER_CLAIMS, groups, wids: WIDS } });
    expect(token.length).toBeGreaterThan(12_288);
    expect(token.length).toBeLessThan(13_000);
    const res = await get(`${url}/delegated`, token);
    expect(res.status).toBe(200);
    expect(sizeLines()).toEqual([]);
  });

  it('answers 401 invalid_token to a correctly signed 20 KB token and logs one warning with its size and none of its text', async () => {
    const token = authority.mintUserToken({ claims: { pad: 'p'.repeat(15_000) } });
    expect(token.length).toBeGreaterThan(16_384);
    logger.clear();
    expectRejection(await get(`${url}/delegated`, token), 'H401');
    expect(sizeLines()).toHaveLength(1);
    expect(sizeLines()[0]).toMatch(new RegExp(`^warn .*\\b${token.length} characters, over maxTokenLength \\(16384\\)`));
    const logs = logger.lines.join('\n');
    for (const part of token.split('.')) expect(logs).not.toContain(part.slice(0, 24));
    expect(logs).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
  });

  it('keeps a flood of oversized tokens to that one line (at most one a minute) while answering each 401', async () => {
    const token = authority.mintUserToken({ claims: { pad: 'q'.repeat(15_000) } });
    for (let i = 0; i < 20; i++) expectRejection(await get(`${url}/delegated`, token), 'H401');
    expect(sizeLines()).toHaveLength(1);
  });

  it('answers 200 to a groups-overage token and never fetches its _claim_sources endpoint', async () => {
    const oid = randomUUID();
    const token = authority.mintUserToken({
      claims: {
        oid,
        _claim_names: { groups: 'src1' },
        _claim_sources: { src1: { endpoint: `${graph.url}/v1.0/users/${oid}/getMemberObjects` } },
      },
    });
    const res = await get(`${url}/delegated`, token);
    expect(res.status).toBe(200);
    expect(graph.tokens).toHaveLength(0); // the counting loopback server saw no request at all
    // the counter does count: a direct request shows up
    await fetch(`${graph.url}/probe`);
    expect(graph.tokens).toHaveLength(1);
  });
});
