// Catalogue 4.15 (issue 13), #149-#152: what nestjs-obo reports through @opentelemetry/api, read back
// through the official OpenTelemetry SDK (in-memory span and metric exporters, the AsyncLocalStorage
// context manager, the W3C propagator) while real HTTP requests go through the real OboModule: the
// local authority's token endpoint over https, a downstream API on 127.0.0.1. Attribute names are
// checked against @opentelemetry/semantic-conventions, not against our own constants.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Controller, Get } from '@nestjs/common';
import { metrics, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_RESEND_COUNT,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_FULL,
} from '@opentelemetry/semantic-conventions';
import { DownstreamApi, RequiredScopes, TokenAcquisition } from 'nestjs-obo';
import { LocalAuthority } from 'nestjs-obo/testing';
import { HttpBrowser } from './support/http-browser.js';
import { send } from './support/http-reply.js';
import { throughAuthority } from './support/sign-in-steps.js';
import { startWebAppChain } from './support/web-app-chain.js';
import { startOboChain, type OboChain } from './support/obo-chain.js';
import { counted, exportedText, pointsOf, registerTelemetry, type MetricPoint, type TestTelemetry } from './support/telemetry-sdk.js';

const PACKAGE_VERSION = (JSON.parse(readFileSync(join(import.meta.dirname, '..', 'libs', 'obo', 'package.json'), 'utf8')) as { version: string }).version;
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const CLAIMS_REQUEST = '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}';
const CLAIMS_CHALLENGE = `Bearer realm="", error="insufficient_claims", claims="${b64(CLAIMS_REQUEST)}"`;
/** A query value the downstream receives and no telemetry may show. */
const QUERY_CANARY = `query-canary-${randomUUID()}`;

// ---------------------------------------------------------------------------------------------
// A downstream API that records each request's URL and headers and answers from a script
// ---------------------------------------------------------------------------------------------

type Reply = { readonly status: number; readonly headers?: Record<string, string> } | { readonly hang: true };

interface RecordingDownstream {
  readonly url: string;
  readonly port: number;
  readonly requests: Array<{ readonly url: string; readonly headers: IncomingHttpHeaders }>;
  readonly script: Reply[];
  close(): Promise<void>;
}

async function startRecordingDownstream(): Promise<RecordingDownstream> {
  const requests: RecordingDownstream['requests'] = [];
  const script: Reply[] = [];
  const server = createServer((req, res) => {
    requests.push({ url: req.url ?? '', headers: req.headers });
    const reply = script.shift() ?? { status: 200 };
    if ('hang' in reply) return; // close() drops the socket
    res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
    res.end(JSON.stringify({ ok: reply.status < 400 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    script,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Names filled in once the chain has started. */
const routes = { userScope: '', appScope: '' };

@Controller('t')
class TelemetryController {
  constructor(
    private readonly tokens: TokenAcquisition,
    private readonly downstream: DownstreamApi,
  ) {}

  @Get('user-token')
  @RequiredScopes('access_as_user')
  async userToken(): Promise<{ ok: boolean }> {
    return { ok: (await this.tokens.getAccessTokenForUser([routes.userScope])).length > 0 };
  }

  @Get('bad-scopes')
  @RequiredScopes('access_as_user')
  async badScopes(): Promise<{ ok: boolean }> {
    return { ok: (await this.tokens.getAccessTokenForUser(['two words'])).length > 0 };
  }

  @Get('app-token')
  @RequiredScopes('access_as_user')
  async appToken(): Promise<{ ok: boolean }> {
    return { ok: (await this.tokens.getAccessTokenForApp(routes.appScope, { allowInUserContext: true })).length > 0 };
  }

  @Get('query')
  @RequiredScopes('access_as_user')
  query(): Promise<unknown> {
    return this.downstream.get('downstream', '/api/items', { query: { q: QUERY_CANARY } });
  }

  /** The downstream call inside a span of the app's own, as an HTTP server instrumentation would open one. */
  @Get('traced')
  @RequiredScopes('access_as_user')
  traced(): Promise<unknown> {
    return trace.getTracer('test-app').startActiveSpan('test.handler', async (span) => {
      try {
        return await this.downstream.get('downstream', '/api/whoami');
      } finally {
        span.end();
      }
    });
  }
}

const named = (spans: readonly ReadableSpan[], name: string) => spans.filter((span) => span.name === name);
const clientSpans = (spans: readonly ReadableSpan[]) => spans.filter((span) => span.kind === SpanKind.CLIENT);

// ---------------------------------------------------------------------------------------------
// Without an SDK
// ---------------------------------------------------------------------------------------------

describe('#149 with no OpenTelemetry SDK registered', () => {
  it('registers nothing of its own, sends no trace context downstream, and serves tokens and downstream calls as before', async () => {
    const downstream = await startRecordingDownstream();
    const chain = await startOboChain({ downstreamUrl: downstream.url });
    try {
      const token = chain.userToken();
      expect((await send(`${chain.original.url}/api/profile`, token)).status).toBe(200);
      expect((await send(`${chain.original.url}/api/profile`, token)).status).toBe(200);
      expect(chain.authority.tokenRequests.onBehalfOf).toBe(1);
      // The API's globals are as the app left them: no TracerProvider, MeterProvider or propagator registered by us.
      expect(trace.getTracer('probe').startSpan('probe').isRecording()).toBe(false);
      expect(metrics.getMeterProvider().constructor.name).toBe('NoopMeterProvider');
      expect(propagation.fields()).toEqual([]);
      expect(downstream.requests.map((r) => r.headers.traceparent)).toEqual([undefined, undefined]);
    } finally {
      await chain.close();
      await downstream.close();
    }
  }, 30_000);
});

// ---------------------------------------------------------------------------------------------
// With the SDK
// ---------------------------------------------------------------------------------------------

describe('with the OpenTelemetry SDK registered (in-memory exporters)', () => {
  let telemetry: TestTelemetry;
  let authority: LocalAuthority;
  let downstream: RecordingDownstream;
  let chain: OboChain;
  let startupSpans: ReadableSpan[];
  const alphaId = randomUUID();
  const url = (path: string) => `${chain.original.url}${path}`;
  /** A fresh user's token (nothing cached for them yet). */
  const user = () => chain.userToken({ claims: { oid: randomUUID(), sub: randomUUID() } });
  /** The counters' change over `journey`. */
  async function delta(journey: () => Promise<void>): Promise<(name: string, attributes?: Record<string, unknown>) => number> {
    const before = await telemetry.metrics();
    await journey();
    const after = await telemetry.metrics();
    return (name, attributes) => counted(after, name, attributes) - counted(before, name, attributes);
  }
  /** The number of histogram values recorded for `name` with `attributes` over `journey`. */
  const histogramCount = (points: readonly MetricPoint[], name: string, attributes: Record<string, unknown>) =>
    pointsOf(points, name, attributes).reduce((sum, p) => sum + (p.value as { count: number }).count, 0);

  beforeAll(async () => {
    telemetry = registerTelemetry();
    authority = await LocalAuthority.start();
    authority.registerApp({ clientId: alphaId, scopes: ['Alpha.Read'] });
    downstream = await startRecordingDownstream();
    routes.userScope = `api://${alphaId}/Alpha.Read`;
    chain = await startOboChain({
      authority,
      downstreamUrl: downstream.url,
      controllers: [TelemetryController],
      original: {
        downstreamApis: { downstream: { baseUrl: downstream.url, scopes: [routes.userScope], timeoutMs: 1_000 } },
        // Every unknown kid is looked up at once, and a failed refresh blocks nothing: each test sees its own refresh.
        jwks: { cooldownSeconds: 0, failureBackoffSeconds: 0 },
      },
    });
    routes.appScope = `api://${chain.downstreamId}/.default`;
    startupSpans = telemetry.spans();
  }, 30_000);
  afterAll(async () => {
    await chain?.close();
    await downstream?.close();
    await authority?.close();
    await telemetry?.shutdown();
  });
  beforeEach(() => {
    telemetry.reset();
    authority.clearTokenFaults();
    authority.resetCounters();
    authority.jwksFault = 'none';
    downstream.requests.length = 0;
    downstream.script.length = 0;
  });

  describe('#149 a span per token acquisition, and the cache and provider metrics', () => {
    it('a miss then a hit: one obo.token.acquire span each (INTERNAL, provider, token kind, cache result), scope nestjs-obo at the package version, counted in obo.token.cache.lookups', async () => {
      const token = user();
      const change = await delta(async () => {
        expect((await send(url('/t/user-token'), token)).status).toBe(200);
        expect((await send(url('/t/user-token'), token)).status).toBe(200);
      });
      const spans = named(telemetry.spans(), 'obo.token.acquire');
      expect(spans.map((span) => [span.kind, span.attributes, span.status.code])).toEqual([
        [SpanKind.INTERNAL, { 'obo.provider': 'entra', 'obo.token.kind': 'user', 'obo.token.cache.result': 'miss' }, SpanStatusCode.UNSET],
        [SpanKind.INTERNAL, { 'obo.provider': 'entra', 'obo.token.kind': 'user', 'obo.token.cache.result': 'hit' }, SpanStatusCode.UNSET],
      ]);
      expect(spans.map((span) => span.instrumentationScope)).toEqual([
        { name: 'nestjs-obo', version: PACKAGE_VERSION, schemaUrl: undefined },
        { name: 'nestjs-obo', version: PACKAGE_VERSION, schemaUrl: undefined },
      ]);
      expect(authority.tokenRequests.onBehalfOf).toBe(1);
      expect(change('obo.token.cache.lookups', { 'obo.provider': 'entra', 'obo.token.kind': 'user', 'obo.token.cache.result': 'miss' })).toBe(1);
      expect(change('obo.token.cache.lookups', { 'obo.provider': 'entra', 'obo.token.kind': 'user', 'obo.token.cache.result': 'hit' })).toBe(1);
    });

    it("DownstreamApi's cached path reports its hit too: /api/profile twice gives a miss span, then a hit span, each before that request's CLIENT span", async () => {
      const token = user();
      expect((await send(url('/api/profile'), token)).status).toBe(200);
      expect((await send(url('/api/profile'), token)).status).toBe(200);
      const spans = telemetry.spans().filter((span) => span.name === 'obo.token.acquire' || span.kind === SpanKind.CLIENT);
      expect(spans.map((span) => span.attributes['obo.token.cache.result'] ?? span.name)).toEqual(['miss', 'GET', 'hit', 'GET']);
    });

    it('an app-only token: obo.token.kind app, a miss then a hit, and one provider request timed in obo.provider.request.duration (seconds)', async () => {
      const token = user();
      const before = await telemetry.metrics();
      expect((await send(url('/t/app-token'), token)).status).toBe(200);
      expect((await send(url('/t/app-token'), token)).status).toBe(200);
      const after = await telemetry.metrics();
      expect(named(telemetry.spans(), 'obo.token.acquire').map((span) => [span.attributes['obo.token.kind'], span.attributes['obo.token.cache.result']])).toEqual([
        ['app', 'miss'],
        ['app', 'hit'],
      ]);
      const app = { 'obo.provider': 'entra', 'obo.token.kind': 'app' };
      expect(histogramCount(after, 'obo.provider.request.duration', app) - histogramCount(before, 'obo.provider.request.duration', app)).toBe(1);
      expect(pointsOf(after, 'obo.provider.request.duration', app).map((p) => [p.unit, p.attributes[ATTR_ERROR_TYPE]])).toEqual([['s', undefined]]);
    });

    it('a provider refusal: the span fails with error.type ERR_OBO_CONSENT_REQUIRED (status ERROR, a miss), counted in obo.provider.errors by that code', async () => {
      authority.injectTokenFault({ kind: 'consent-required' });
      const change = await delta(async () => {
        expect((await send(url('/t/user-token'), user())).status).toBeGreaterThanOrEqual(400);
      });
      const [span] = named(telemetry.spans(), 'obo.token.acquire');
      expect(span!.attributes).toEqual({ 'obo.provider': 'entra', 'obo.token.kind': 'user', 'obo.token.cache.result': 'miss', [ATTR_ERROR_TYPE]: 'ERR_OBO_CONSENT_REQUIRED' });
      expect(span!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'ERR_OBO_CONSENT_REQUIRED' });
      expect(span!.events).toEqual([]);
      expect(change('obo.provider.errors', { 'obo.provider': 'entra', 'obo.token.kind': 'user', [ATTR_ERROR_TYPE]: 'ERR_OBO_CONSENT_REQUIRED' })).toBe(1);
      expect(change('obo.token.cache.lookups', { 'obo.token.cache.result': 'miss' })).toBe(1);
    });

    it('a provider answering 503: two timed attempts with error.type ERR_OBO_PROVIDER_UNAVAILABLE (one retry), one error counted', async () => {
      authority.injectTokenFault({ kind: 'status', status: 503 });
      const before = await telemetry.metrics();
      expect((await send(url('/t/user-token'), user())).status).toBe(503);
      const after = await telemetry.metrics();
      const failed = { 'obo.provider': 'entra', 'obo.token.kind': 'user', [ATTR_ERROR_TYPE]: 'ERR_OBO_PROVIDER_UNAVAILABLE' };
      expect(histogramCount(after, 'obo.provider.request.duration', failed) - histogramCount(before, 'obo.provider.request.duration', failed)).toBe(2);
      expect(counted(after, 'obo.provider.errors', failed) - counted(before, 'obo.provider.errors', failed)).toBe(1);
      expect(named(telemetry.spans(), 'obo.token.acquire').map((span) => span.attributes[ATTR_ERROR_TYPE])).toEqual(['ERR_OBO_PROVIDER_UNAVAILABLE']);
    });

    it('a call refused before any cache lookup fails its span (ERR_OBO_CONFIG_INVALID) without a cache result and counts no lookup', async () => {
      const change = await delta(async () => {
        expect((await send(url('/t/bad-scopes'), user())).status).toBe(500);
      });
      const [span] = named(telemetry.spans(), 'obo.token.acquire');
      expect(span!.attributes).toEqual({ 'obo.provider': 'entra', 'obo.token.kind': 'user', [ATTR_ERROR_TYPE]: 'ERR_OBO_CONFIG_INVALID' });
      expect(change('obo.token.cache.lookups')).toBe(0);
      expect(authority.requests.token).toBe(0);
    });

    it("a web app's silent acquisition (OboWebAppModule) has the same span: the signed-in user's token from their partition is a hit, before the CLIENT span to the Original API", async () => {
      const web = await startWebAppChain();
      try {
        const browser = new HttpBrowser();
        const first = await browser.navigate(`${web.url}/profile`);
        const { hops } = await throughAuthority(browser, first, new URL(web.chain.authority.instance).origin, { username: 'megan@contoso.test', password: 'Passw0rd!' });
        expect(hops.at(-1)!.status).toBe(200);
        telemetry.reset();
        expect((await browser.request(`${web.url}/profile`)).status).toBe(200);
        // The web app's acquisition (a hit from the partition), the Original API's (a hit in its cache) and
        // its call to the Downstream API, then the web app's call to the Original API ending last.
        const spans = telemetry.spans().filter((span) => span.name === 'obo.token.acquire' || span.kind === SpanKind.CLIENT);
        expect(spans.map((span) => span.attributes['obo.token.cache.result'] ?? span.attributes[ATTR_URL_FULL])).toEqual([
          'hit',
          'hit',
          `${web.chain.downstream!.url}/api/whoami`,
          `${web.chain.original.url}/api/profile`,
        ]);
        expect(spans[0]!.attributes).toEqual({ 'obo.provider': 'entra', 'obo.token.kind': 'user', 'obo.token.cache.result': 'hit' });
      } finally {
        await web.close();
      }
    }, 30_000);
  });

  describe('#150 a CLIENT span per downstream request (OpenTelemetry HTTP client conventions)', () => {
    it('is named by the method, with http.request.method, url.full (no query), server.address, server.port and http.response.status_code', async () => {
      expect((await send(url('/t/query'), user())).status).toBe(200);
      expect(downstream.requests.map((r) => r.url)).toEqual([`/api/items?q=${QUERY_CANARY}`]);
      const [span, ...more] = clientSpans(telemetry.spans());
      expect(more).toEqual([]);
      expect(span!.name).toBe('GET');
      expect(span!.attributes).toEqual({
        [ATTR_HTTP_REQUEST_METHOD]: 'GET',
        [ATTR_URL_FULL]: `${downstream.url}/api/items`,
        [ATTR_SERVER_ADDRESS]: '127.0.0.1',
        [ATTR_SERVER_PORT]: downstream.port,
        [ATTR_HTTP_RESPONSE_STATUS_CODE]: 200,
      });
      expect(span!.status.code).toBe(SpanStatusCode.UNSET);
    });

    it("continues the caller's trace: the CLIENT span is a child of the active span, and the downstream receives its traceparent", async () => {
      expect((await send(url('/t/traced'), user())).status).toBe(200);
      const [handler] = named(telemetry.spans(), 'test.handler');
      const [client] = clientSpans(telemetry.spans());
      expect(client!.parentSpanContext?.spanId).toBe(handler!.spanContext().spanId);
      expect(client!.spanContext().traceId).toBe(handler!.spanContext().traceId);
      const { traceId, spanId } = client!.spanContext();
      expect(downstream.requests.map((r) => r.headers.traceparent)).toEqual([`00-${traceId}-${spanId}-01`]);
      // The acquisition ran in the handler's trace too.
      expect(named(telemetry.spans(), 'obo.token.acquire').map((span) => span.parentSpanContext?.spanId)).toEqual([handler!.spanContext().spanId]);
    });

    it('a claims challenge: the refused request is a failed span (401, error.type "401"), the resend carries http.request.resend_count 1 and ends 200', async () => {
      const token = user();
      expect((await send(url('/api/profile'), token)).status).toBe(200);
      telemetry.reset();
      downstream.script.push({ status: 401, headers: { 'www-authenticate': CLAIMS_CHALLENGE } });
      expect((await send(url('/api/profile'), token)).status).toBe(200);
      const [refused, resent, ...more] = clientSpans(telemetry.spans());
      expect(more).toEqual([]);
      expect(refused!.attributes).toEqual({ [ATTR_HTTP_REQUEST_METHOD]: 'GET', [ATTR_URL_FULL]: `${downstream.url}/api/whoami`, [ATTR_SERVER_ADDRESS]: '127.0.0.1', [ATTR_SERVER_PORT]: downstream.port, [ATTR_HTTP_RESPONSE_STATUS_CODE]: 401, [ATTR_ERROR_TYPE]: '401' });
      expect(refused!.status).toEqual({ code: SpanStatusCode.ERROR, message: '401' });
      expect(resent!.attributes).toEqual({ [ATTR_HTTP_REQUEST_METHOD]: 'GET', [ATTR_URL_FULL]: `${downstream.url}/api/whoami`, [ATTR_SERVER_ADDRESS]: '127.0.0.1', [ATTR_SERVER_PORT]: downstream.port, [ATTR_HTTP_RESPONSE_STATUS_CODE]: 200, [ATTR_HTTP_REQUEST_RESEND_COUNT]: 1 });
      expect(resent!.status.code).toBe(SpanStatusCode.UNSET);
      // The cached token (a hit), then the token acquired with the claims (a miss).
      expect(named(telemetry.spans(), 'obo.token.acquire').map((span) => span.attributes['obo.token.cache.result'])).toEqual(['hit', 'miss']);
      expect(authority.tokenRequests.onBehalfOf).toBe(2);
    });

    it('a 503 from the downstream API fails the span with error.type "503"; a downstream that hangs past timeoutMs ends it with ERR_OBO_DOWNSTREAM_TIMEOUT', async () => {
      downstream.script.push({ status: 503 }, { hang: true });
      expect((await send(url('/api/profile'), user())).status).toBe(502);
      expect((await send(url('/api/profile'), user())).status).toBe(504);
      const [unavailable, hung] = clientSpans(telemetry.spans());
      expect([unavailable!.attributes[ATTR_HTTP_RESPONSE_STATUS_CODE], unavailable!.attributes[ATTR_ERROR_TYPE], unavailable!.status.code]).toEqual([503, '503', SpanStatusCode.ERROR]);
      expect([hung!.attributes[ATTR_HTTP_RESPONSE_STATUS_CODE], hung!.attributes[ATTR_ERROR_TYPE], hung!.status.code]).toEqual([undefined, 'ERR_OBO_DOWNSTREAM_TIMEOUT', SpanStatusCode.ERROR]);
    }, 15_000);
  });

  describe('#151 a span per signing-key refresh, with the metadata load inside it, and obo.jwks.refreshes', () => {
    it('at startup: obo.jwks.refresh (reason startup, 1 key) holding obo.authority.metadata.refresh (server.address)', () => {
      const [refresh, ...more] = named(startupSpans, 'obo.jwks.refresh');
      expect(more).toEqual([]);
      expect(refresh!.attributes).toEqual({ 'obo.jwks.refresh.reason': 'startup', 'obo.jwks.key_count': 1 });
      const [metadata] = named(startupSpans, 'obo.authority.metadata.refresh');
      expect(metadata!.attributes).toEqual({ [ATTR_SERVER_ADDRESS]: '127.0.0.1' });
      expect(metadata!.parentSpanContext?.spanId).toBe(refresh!.spanContext().spanId);
    });

    it('on key rotation: the first token signed with the new key makes one refresh (reason unknown_kid, 2 keys), counted once; the next makes none', async () => {
      await authority.rotateKey();
      const change = await delta(async () => {
        expect((await send(url('/t/user-token'), user())).status).toBe(200);
        expect((await send(url('/t/user-token'), user())).status).toBe(200);
      });
      const refreshes = named(telemetry.spans(), 'obo.jwks.refresh');
      expect(refreshes.map((span) => [span.attributes, span.status.code])).toEqual([[{ 'obo.jwks.refresh.reason': 'unknown_kid', 'obo.jwks.key_count': 2 }, SpanStatusCode.UNSET]]);
      expect(named(telemetry.spans(), 'obo.authority.metadata.refresh')).toHaveLength(1);
      expect(change('obo.jwks.refreshes', { 'obo.jwks.refresh.reason': 'unknown_kid' })).toBe(1);
      expect(authority.requests.jwks).toBe(1);
    });

    it('a refresh that fails (the JWKS answers 500) is a failed span with error.type "500", counted with it', async () => {
      await authority.rotateKey();
      authority.jwksFault = 'status-500';
      const change = await delta(async () => {
        expect((await send(url('/t/user-token'), user())).status).toBe(401);
      });
      const [refresh] = named(telemetry.spans(), 'obo.jwks.refresh');
      expect(refresh!.attributes).toEqual({ 'obo.jwks.refresh.reason': 'unknown_kid', [ATTR_ERROR_TYPE]: '500' });
      expect(refresh!.status).toEqual({ code: SpanStatusCode.ERROR, message: '500' });
      // The metadata itself loaded.
      expect(named(telemetry.spans(), 'obo.authority.metadata.refresh').map((span) => span.status.code)).toEqual([SpanStatusCode.UNSET]);
      expect(change('obo.jwks.refreshes', { 'obo.jwks.refresh.reason': 'unknown_kid', [ATTR_ERROR_TYPE]: '500' })).toBe(1);
    });
  });

  describe('#152 no token, assertion, secret or claim set in any span or metric', () => {
    it('after misses, hits, an app token, a claims challenge, a provider refusal, a downstream 401 and a key refresh, no exported value holds any of them', async () => {
      const canary = `claim-canary-${randomUUID()}`;
      const oid = randomUUID();
      const incoming = chain.userToken({ claims: { oid, sub: randomUUID(), canary, name: `Canary ${canary}` } });
      const assertions = [incoming];
      expect((await send(url('/api/profile'), incoming)).status).toBe(200);
      expect((await send(url('/t/user-token'), incoming)).status).toBe(200);
      expect((await send(url('/t/app-token'), incoming)).status).toBe(200);
      expect((await send(url('/t/query'), incoming)).status).toBe(200);
      downstream.script.push({ status: 401, headers: { 'www-authenticate': CLAIMS_CHALLENGE } });
      expect((await send(url('/api/profile'), incoming)).status).toBe(200);
      downstream.script.push({ status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } });
      expect((await send(url('/api/profile'), incoming)).status).toBe(200);
      authority.injectTokenFault({ kind: 'consent-required' });
      const refused = chain.userToken({ claims: { oid: randomUUID(), canary } });
      assertions.push(refused);
      expect((await send(url('/t/user-token'), refused)).status).toBeGreaterThanOrEqual(400);
      authority.clearTokenFaults();
      await authority.rotateKey();
      const rotated = chain.userToken({ claims: { oid: randomUUID(), canary } });
      assertions.push(rotated);
      expect((await send(url('/t/user-token'), rotated)).status).toBe(200);

      const spans = telemetry.spans();
      expect(spans.length).toBeGreaterThan(10);
      const text = exportedText(spans, await telemetry.metrics());
      const downstreamTokens = downstream.requests.map((r) => (r.headers.authorization ?? '').replace(/^Bearer /, ''));
      expect(downstreamTokens.length).toBeGreaterThan(3);
      const forbidden = [
        ...assertions,
        ...downstreamTokens,
        // Every part of every JWT: a header, a payload or a signature alone is a leak too.
        ...[...assertions, ...downstreamTokens].flatMap((jwt) => jwt.split('.')),
        chain.clientSecret,
        canary,
        oid,
        CLAIMS_REQUEST,
        b64(CLAIMS_REQUEST),
        QUERY_CANARY,
      ];
      expect(forbidden.filter((value) => value.length > 0 && text.includes(value))).toEqual([]);
      expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
      // No claim set: no claim names as keys of any exported value.
      expect(text).not.toMatch(/\\?"(oid|tid|sub|scp|aud|iss|preferred_username|acrs)\\?":/);
    }, 30_000);
  });
});
