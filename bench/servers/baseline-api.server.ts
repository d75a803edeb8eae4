// Baseline 4 of the end-to-end bench, the physical limit: the same Nest/Express `GET /api/profile`
// with no guard, calling the downstream server with a fixed token and answering the same shape as
// ours. The downstream call goes through the HTTP client DownstreamApi uses (undici's `request`
// on a keep-alive pool), or with `client: 'fetch'` through Node's global fetch, what hand-rolled
// code usually does. Two switches add, one at a time, what the module needs by design, to tell
// their cost apart from the module's own: `asyncLocalStorage` runs every request inside
// `AsyncLocalStorage.run` (an Express middleware; the module's RequestContext is built on it),
// `deadlineMs` gives the downstream call a deadline the way DownstreamApi does (a timer and a
// one-listener object as undici's abort signal, cleared once the body is read).
import 'reflect-metadata';
import { AsyncLocalStorage } from 'node:async_hooks';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Agent } from 'undici';
import type { AddressInfo } from 'node:net';
import { failStartup, serveBench, serverConfig } from '../lib/child.js';

export interface BaselineApiServerConfig {
  downstreamBaseUrl: string;
  /** A downstream access token of the usual size, sent as is on every call. */
  fixedToken: string;
  objectId: string;
  tenantId: string;
  /** The downstream client: `undici` (default, as DownstreamApi) or `fetch`. */
  client?: 'undici' | 'fetch';
  asyncLocalStorage?: boolean;
  deadlineMs?: number;
}

const config = serverConfig<BaselineApiServerConfig>();
const whoami = `${config.downstreamBaseUrl}/api/whoami`;
const authorization = `Bearer ${config.fixedToken}`;

const pool = new Agent();
const origin = new URL(config.downstreamBaseUrl).origin;
const path = '/api/whoami';
const headers = { accept: 'application/json', authorization };

/** What DownstreamApi hands undici as its abort signal: `aborted`, `reason`, one listener. */
class DeadlineSignal {
  aborted = false;
  reason: Error | undefined = undefined;
  private listener: (() => void) | undefined = undefined;
  addEventListener(_type: 'abort', listener: () => void): void {
    this.listener = listener;
  }
  removeEventListener(_type: 'abort', listener: () => void): void {
    if (this.listener === listener) this.listener = undefined;
  }
  expire(): void {
    this.aborted = true;
    this.reason = new Error('deadline passed');
    this.listener?.();
  }
}

async function viaUndici(signal?: DeadlineSignal): Promise<unknown> {
  const response = await pool.request({ origin, path, method: 'GET', headers, signal });
  if (response.statusCode !== 200) throw new Error(`downstream answered ${response.statusCode}`);
  return JSON.parse(await response.body.text()) as unknown;
}

async function viaFetch(signal?: AbortSignal): Promise<unknown> {
  const response = await fetch(whoami, { headers, signal });
  if (!response.ok) throw new Error(`downstream answered ${response.status}`);
  return (await response.json()) as unknown;
}

async function downstreamCall(): Promise<unknown> {
  if (config.deadlineMs === undefined) return config.client === 'fetch' ? viaFetch() : viaUndici();
  if (config.client === 'fetch') {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), config.deadlineMs);
    try {
      return await viaFetch(controller.signal);
    } finally {
      clearTimeout(timer);
    }
  }
  const signal = new DeadlineSignal();
  const timer = setTimeout(() => signal.expire(), config.deadlineMs);
  timer.unref();
  try {
    return await viaUndici(signal);
  } finally {
    clearTimeout(timer);
  }
}

@Controller('api')
class ProfileController {
  @Get('profile')
  async profile(): Promise<{ caller: { objectId: string; tenantId: string }; downstream: unknown }> {
    const caller = { objectId: config.objectId, tenantId: config.tenantId };
    return { caller, downstream: await downstreamCall() };
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
