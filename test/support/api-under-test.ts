import type { INestApplication, LoggerService, LogLevel } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import { OboModule, type OboModuleExtras, type OboModuleOptions } from 'nestjs-obo';
import type { LocalAuthority } from 'nestjs-obo/testing';
import { ClassScopedController, TestApiController } from './test-api.controller.js';

/** The HTTP platforms the library supports; every helper here defaults to `express`. */
export type HttpAdapterName = 'express' | 'fastify';

/** Both platforms, for `describe.each(ADAPTERS)`. */
export const ADAPTERS: readonly HttpAdapterName[] = ['express', 'fastify'];

/** A Nest app protected by OboModule, listening on 127.0.0.1. */
export interface ApiUnderTest {
  readonly app: INestApplication;
  readonly url: string;
  close(): Promise<void>;
}

/** Options pointing at the local authority: its instance, tenant and client id. */
export function optionsFor(authority: LocalAuthority, overrides: Partial<OboModuleOptions> = {}): OboModuleOptions {
  return { instance: authority.instance, tenantId: authority.tenantId, clientId: authority.clientId, ...overrides };
}

/** Boots the test API with `OboModule.forRoot(options)` (global guard on unless extras say otherwise). */
export async function startApi(options: OboModuleOptions, extras: OboModuleExtras = {}, adapter: HttpAdapterName = 'express'): Promise<ApiUnderTest> {
  @Module({ imports: [OboModule.forRoot({ ...options, ...extras })], controllers: [TestApiController, ClassScopedController] })
  class TestAppModule {}
  return listen(TestAppModule, adapter);
}

/**
 * Creates the app on `adapter` and listens on a free loopback port. Logs are off unless
 * `OBO_TEST_LOG` is set or a `logger` is given.
 */
export async function listen(module: unknown, adapter: HttpAdapterName = 'express', logger?: LoggerService): Promise<ApiUnderTest> {
  const levels: LogLevel[] | false = process.env.OBO_TEST_LOG ? ['debug', 'log', 'warn', 'error'] : false;
  const options = { logger: logger ?? levels };
  // Loaded on demand: the express-only suites never load Fastify.
  const app =
    adapter === 'fastify'
      ? await NestFactory.create(module as never, new (await import('@nestjs/platform-fastify')).FastifyAdapter(), options)
      : await NestFactory.create(module as never, options);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}`, close: () => app.close() };
}
