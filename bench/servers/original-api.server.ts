// The Original API (ours) of the end-to-end and app-heap benches: OboModule with its defaults (or
// the cache bounds given) and the sample's `GET /api/profile` (apps/original-api): guard, scopes,
// an On-Behalf-Of token from TokenAcquisition (cached after the user's first call) through
// DownstreamApi, and the downstream call. Over IPC only (no route): `heap` (full GC, then the
// process's memory figures) and `clear-caches` (empties the validated-token or the OBO token cache).
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { CurrentUser, DownstreamApi, OboModule, RequiredScopes, type Principal } from '../../libs/obo/src/index.js';
import { ValidatedTokenCache } from '../../libs/obo/src/inbound/jwt/validated-token.cache.js';
import { TokenCache } from '../../libs/obo/src/outbound/token-cache/token-cache.js';
import { failStartup, serveBench, serverConfig } from '../lib/child.js';
import { heapAfterGc } from '../lib/stats.js';

export interface OriginalApiServerConfig {
  instance: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** `http://127.0.0.1:<port>` of the downstream server. */
  downstreamBaseUrl: string;
  /** `api://<downstream>/Downstream.Read`. */
  downstreamScope: string;
  validatedTokenCacheMaxEntries?: number;
  cacheMaxEntries?: number;
}

/** What `heap` answers, bytes. */
export interface HeapReport {
  heapUsed: number;
  /** V8's committed heap (`heapTotal`): what the heap holds of the resident set. */
  heapTotal: number;
  rss: number;
  external: number;
  arrayBuffers: number;
  /** Peak resident set of the process so far (`process.resourceUsage().maxRSS`). */
  maxRss: number;
  validatedTokens: number;
  oboTokens: number;
}

const config = serverConfig<OriginalApiServerConfig>();

@Controller('api')
class ProfileController {
  constructor(private downstream: DownstreamApi) {}

  @Get('profile')
  @RequiredScopes('access_as_user')
  async profile(@CurrentUser() user: Principal): Promise<{ caller: { objectId: string; tenantId: string }; downstream: unknown }> {
    const downstream = await this.downstream.get<unknown>('downstream', '/api/whoami');
    return { caller: { objectId: user.objectId, tenantId: user.tenantId }, downstream };
  }
}

@Module({
  imports: [
    OboModule.forRoot({
      instance: config.instance,
      tenantId: config.tenantId,
      clientId: config.clientId,
      clientSecret: config.clientSecret,
      downstreamApis: { downstream: { baseUrl: config.downstreamBaseUrl, scopes: [config.downstreamScope] } },
      ...(config.validatedTokenCacheMaxEntries !== undefined ? { validatedTokenCacheMaxEntries: config.validatedTokenCacheMaxEntries } : {}),
      ...(config.cacheMaxEntries !== undefined ? { tokenAcquisition: { cacheMaxEntries: config.cacheMaxEntries } } : {}),
    }),
  ],
  controllers: [ProfileController],
})
class OriginalApiModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create(OriginalApiModule, { logger: ['error', 'warn'] });
  await app.listen(0, '127.0.0.1');
  const server = app.getHttpServer() as Server;
  // Private LRUs, read and emptied from here (bench code), not through anything the library offers.
  const validated = app.get(ValidatedTokenCache) as unknown as { entries?: { size: number; clear(): void } };
  const tokens = app.get(TokenCache);
  const lru = tokens as unknown as { entries: { clear(): void } };
  serveBench(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, () => app.close(), {
    heap: async (): Promise<HeapReport> => {
      server.closeIdleConnections();
      await sleep(200);
      await heapAfterGc();
      const m = process.memoryUsage();
      const maxRss = process.resourceUsage().maxRSS * 1024;
      return { heapUsed: m.heapUsed, heapTotal: m.heapTotal, rss: m.rss, external: m.external, arrayBuffers: m.arrayBuffers, maxRss, validatedTokens: validated.entries?.size ?? 0, oboTokens: tokens.size };
    },
    'clear-caches': (which: unknown) => {
      if (which === 'validated' || which === 'both') validated.entries?.clear();
      if (which === 'obo' || which === 'both') lru.entries.clear();
    },
  });
}

main().catch(failStartup);
