// Catalogue 4.9 (#95-#99) for the RFC 8693 path (issue 10): a battery of token exchanges at a
// generic authority (Auth0 dialect), succeeding and failing every way the authority can fail, with
// every Nest log line of every level captured. No log line and no answer may hold the user's token,
// the client secret, a client assertion or an issued token; no answer may hold provider text.
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import { OboModule } from 'nestjs-obo';
import { LocalOidcAuthority, type OidcTokenFault } from 'nestjs-obo/testing';
import { ProfileController } from '../apps/original-api/src/profile.controller.js';
import { CapturingLogger } from './support/capturing-logger.js';
import { get, LEAK_PATTERNS } from './support/expect-rejection.js';
import { startStubDownstream, type StubDownstream } from './support/stub-downstream.js';

const MARKER = 'PROVIDER-TEXT-MARKER';

describe('#95-#99 no secrets in logs or answers on the RFC 8693 path', () => {
  const logger = new CapturingLogger();
  let authority: LocalOidcAuthority;
  let downstream: StubDownstream;
  let originalUrl: string;
  let close: () => Promise<void>;
  const clientId = 'original-api';
  const clientSecret = `secret-${'s'.repeat(24)}-${Date.now()}`;
  const downstreamAudience = 'https://downstream.example.test/';

  beforeAll(async () => {
    authority = await LocalOidcAuthority.start({ dialect: 'auth0' });
    authority.registerApi({ audience: downstreamAudience, scopes: ['Downstream.Read'] });
    authority.registerClient({ clientId, clientSecret, apis: [authority.audience], grants: ['token_exchange'], delegatedScopes: { [downstreamAudience]: ['Downstream.Read'] } });
    downstream = await startStubDownstream();
    @Module({
      imports: [
        OboModule.forRoot({
          issuer: authority.issuer,
          audience: authority.audience,
          tokenProfile: 'auth0',
          clientId,
          clientSecret,
          downstreamApis: { downstream: { baseUrl: downstream.url, audience: downstreamAudience, scopes: ['Downstream.Read'] } },
        }),
      ],
      controllers: [ProfileController],
    })
    class OriginalModule {}
    const app = await NestFactory.create(OriginalModule, { logger });
    await app.listen(0, '127.0.0.1');
    originalUrl = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    close = () => app.close();
  });

  afterAll(async () => {
    await close?.();
    await downstream?.close();
    await authority?.close();
  });

  it('holds for a success and for every failure of the authority', async () => {
    const faults: Array<OidcTokenFault | undefined> = [
      undefined,
      { kind: 'error', error: 'invalid_grant', description: `${MARKER} subject token rejected` },
      { kind: 'error', error: 'invalid_request', description: `Invalid token ${MARKER}` },
      { kind: 'error', error: 'access_denied', description: MARKER },
      { kind: 'error', error: 'consent_required', description: MARKER },
      { kind: 'error', error: 'unauthorized_client', description: MARKER },
      { kind: 'error', error: 'invalid_client', description: MARKER },
      { kind: 'error', error: 'invalid_target', description: MARKER },
      { kind: 'step-up', acrValues: 'urn:example:mfa', maxAge: 300 },
      { kind: 'status', status: 500, body: { error: 'server_error', error_description: MARKER } },
      { kind: 'bad-token-response', variant: 'token-type-dpop' },
      { kind: 'altered-token', audience: 'https://elsewhere.example.test/' },
      { kind: 'malformed-json' },
    ];
    const userTokens: string[] = [];
    const answers: string[] = [];
    for (const [i, fault] of faults.entries()) {
      const subject = `auth0|leak-${i}`;
      authority.grantUserScopes(subject, downstreamAudience, ['Downstream.Read']);
      const token = authority.mintUserToken({ subject });
      userTokens.push(token);
      const handle = fault ? authority.injectTokenFault(fault, { subject }) : undefined;
      const res = await get(`${originalUrl}/api/profile`, token);
      handle?.remove();
      answers.push(`${res.status} ${[...(res.headers as Headers).entries()].map(([k, v]) => `${k}: ${v}`).join('\n')}\n${res.body}`);
      if (fault === undefined) expect(res.status).toBe(200);
      else expect(res.status).toBeGreaterThanOrEqual(400);
    }
    const issued = downstream.tokens.filter((t) => t.length > 0);
    expect(issued.length).toBeGreaterThan(0);
    const secrets = [
      ...userTokens.flatMap((t) => [t, t.split('.')[2]!]),
      ...issued.flatMap((t) => [t, t.split('.')[2]!]),
      clientSecret,
      Buffer.from(`${clientId}:${clientSecret}`).toString('base64'),
    ];
    const lines = logger.lines;
    expect(lines.length).toBeGreaterThan(0);
    for (const text of [...lines, ...answers]) for (const secret of secrets) expect(text.includes(secret) ? `${text.slice(0, 80)} holds a secret` : 'clean').toBe('clean');
    // The success answer is the sample's own body (the caller's tenant is the issuer); the error answers must name nothing.
    for (const answer of answers.slice(1)) {
      expect(answer).not.toContain(MARKER);
      for (const pattern of LEAK_PATTERNS) expect(answer).not.toMatch(pattern);
    }
  });
});
