// One variant of the telemetry-overhead bench in its own process (OpenTelemetry's globals are per
// process): the library (this tree's, or the pre-telemetry commit's copy), OboModule built through
// Nest DI, users cached through real On-Behalf-Of requests; then, on request over IPC, timed cache
// hits of TokenAcquisition and timed DownstreamApi calls. With `sdk: true` the OpenTelemetry SDK is
// registered first, as an app's `--import ./telemetry.js` would: AlwaysOn sampling, a
// BatchSpanProcessor and a PeriodicExportingMetricReader whose exporters drop what they get.
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { Test } from '@nestjs/testing';
import type * as Lib from '../../libs/obo/src/index.js';
import { failStartup, serveBench, serverConfig } from '../lib/child.js';
import { sample } from '../lib/stats.js';
import type { OriginalApiServerConfig } from './original-api.server.js';

/** The Original API's settings (as the end-to-end bench's), and what this variant loads. */
export interface TelemetryOverheadConfig extends Pick<OriginalApiServerConfig, 'instance' | 'tenantId' | 'clientId' | 'clientSecret' | 'downstreamBaseUrl' | 'downstreamScope'> {
  /** Absolute path of the library's compiled `index.js`. */
  libEntry: string;
  sdk: boolean;
  /** A JSON file holding the users' access tokens for the Original API (one OBO request each at startup); too many for an argument. */
  assertionsFile: string;
}

/** What `measure` takes. */
export interface MeasureRequest {
  path: 'hit' | 'downstream';
  maxMs: number;
  minSamples: number;
  maxSamples: number;
}

const config = serverConfig<TelemetryOverheadConfig>();

/** The SDK as an app registers it, exporting to nowhere: what is measured is the recording, not an exporter's I/O. */
async function registerSdk(): Promise<void> {
  const api = await import('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
  const { W3CTraceContextPropagator } = await import('@opentelemetry/core');
  const { BasicTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
  const { MeterProvider, PeriodicExportingMetricReader, AggregationTemporality } = await import('@opentelemetry/sdk-metrics');
  const success = { code: 0 };
  const spanExporter = { export: (_spans: unknown, done: (result: { code: number }) => void) => done(success), shutdown: async () => undefined };
  const metricExporter = {
    export: (_metrics: unknown, done: (result: { code: number }) => void) => done(success),
    forceFlush: async () => undefined,
    shutdown: async () => undefined,
    selectAggregationTemporality: () => AggregationTemporality.CUMULATIVE,
  };
  api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  api.propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  api.trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(spanExporter as never)] }));
  api.metrics.setGlobalMeterProvider(new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: metricExporter as never, exportIntervalMillis: 10_000 })] }));
}

function claimsOf(token: string): Lib.AccessTokenClaims {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Lib.AccessTokenClaims;
}

async function main(): Promise<void> {
  if (config.sdk) await registerSdk();
  const lib = (await import(config.libEntry)) as typeof Lib;
  const options: Lib.OboModuleOptions = {
    instance: config.instance,
    tenantId: config.tenantId,
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    downstreamApis: { downstream: { baseUrl: config.downstreamBaseUrl, scopes: [config.downstreamScope] } },
  };
  const module = await Test.createTestingModule({ imports: [lib.OboModule.forRoot(options)] }).compile();
  const acquisition = module.get(lib.TokenAcquisition);
  const downstream = module.get(lib.DownstreamApi);
  const context = module.get(lib.RequestContext);
  const { TokenExchanger } = (await import(config.libEntry.replace(/index\.js$/, 'outbound/token-acquisition/token-exchanger.js'))) as { TokenExchanger: abstract new () => unknown };
  const exchanger = module.get<unknown, { providerCalls?: number }>(TokenExchanger);
  const scopes = [config.downstreamScope];
  const assertions = JSON.parse(readFileSync(config.assertionsFile, 'utf8')) as string[];
  const principals = assertions.map((assertion) => {
    const claims = claimsOf(assertion);
    return new lib.Principal(
      { objectId: claims.oid as string, tenantId: claims.tid as string, subject: claims.sub as string, clientAppId: claims.azp as string, scopes: String(claims.scp).split(' '), roles: [], isAppOnly: false, claims },
      assertion,
    );
  });
  // Every user's token through a real On-Behalf-Of request: afterwards every call is a cache hit.
  for (const principal of principals) {
    const result = await acquisition.getAuthenticationResultForUser(scopes, { principal });
    if (result.fromCache) throw new Error('a user was cached before the bench populated it');
  }
  const hit = (i: number) => acquisition.getAccessTokenForUser(scopes, { principal: principals[i] });
  const call = (i: number) =>
    context.run(() => {
      context.setPrincipal(principals[i]!);
      return downstream.get<{ tokenKind?: string }>('downstream', '/api/whoami');
    });
  const checkHit = (token: string) => {
    if (token.length < 100) throw new Error('no token');
  };
  const checkCall = (body: { tokenKind?: string }) => {
    if (body.tokenKind !== 'user') throw new Error('the downstream call did not answer');
  };
  serveBench(
    `ipc://${process.pid}`,
    () => module.close(),
    {
      /** Timed calls; answers the samples (µs) and the provider calls made meanwhile (must be 0). */
      measure: async (payload) => {
        const request = payload as MeasureRequest;
        const callsBefore = exchanger.providerCalls ?? 0;
        const samples =
          request.path === 'hit' ? await sample(principals.length, request, hit, checkHit) : await sample(principals.length, request, call, checkCall);
        return { samples, providerCalls: (exchanger.providerCalls ?? 0) - callsBefore };
      },
    },
  );
}

main().catch(failStartup);
