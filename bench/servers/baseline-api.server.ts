// Baseline 4 of the end-to-end bench, the physical limit: the same Nest/Express `GET /api/profile`
// with no guard, calling the downstream server with a fixed token through the global fetch, and
// answering the same shape as ours. Two switches add, one at a time, what the module needs by
// design, to tell their cost apart from the module's own: `asyncLocalStorage` runs every request
// inside `AsyncLocalStorage.run` (an Express middleware; the module's RequestContext is built on
// it), `deadlineMs` gives the downstream call a deadline through an AbortSignal, cleared once the
// body is read (as DownstreamApi does).
import 'reflect-metadata';
import { AsyncLocalStorage } from 'node:async_hooks';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import { failStartup, serveBench, serverConfig } from '../lib/child-server.js';

export interface BaselineApiServerConfig {
  readonly downstreamBaseUrl: string;
  /** A downstream access token of the usual size, sent as is on every call. */
  readonly fixedToken: string;
  readonly objectId: string;
  readonly tenantId: string;
  readonly asyncLocalStorage?: boolean;
  readonly deadlineMs?: number;
}

const config = serverConfig<BaselineApiServerConfig>();
const whoami = `${config.downstreamBaseUrl}/api/whoami`;
const authorization = `Bearer ${config.fixedToken}`;

@Controller('api')
class ProfileController {
  @Get('profile')
  async profile(): Promise<{ caller: { objectId: string; tenantId: string }; downstream: unknown }> {
    const caller = { objectId: config.objectId, tenantId: config.tenantId };
    if (config.deadlineMs === undefined) {
      const response = await fetch(whoami, { headers: { accept: 'application/json', authorization } });
      if (!response.ok) throw new Error(`downstream answered ${response.status}`);
      return { caller, downstream: (await response.json()) as unknown };
    }
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), config.deadlineMs);
    timer.unref();
    try {
      const response = await fetch(whoami, { headers: { accept: 'application/json', authorization }, signal: controller.signal });
      if (!response.ok) throw new Error(`downstream answered ${response.status}`);
      return { caller, downstream: (await response.json()) as unknown };
    } finally {
      clearTimeout(timer);
    }
  }
}

@Module({ controllers: [ProfileController] })
class BaselineApiModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create(BaselineApiModule, { logger: ['error', 'warn'] });
  if (config.asyncLocalStorage) {
    const storage = new AsyncLocalStorage<object>();
    app.use((_request: unknown, _response: unknown, next: () => void) => storage.run({}, next));
  }
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  serveBench(`http://127.0.0.1:${port}`, () => app.close());
}

main().catch(failStartup);
