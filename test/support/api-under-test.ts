import type { INestApplication } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import { OboModule, type OboModuleExtras, type OboModuleOptions } from 'nestjs-obo';
import type { LocalAuthority } from 'nestjs-obo/testing';
import { ClassScopedController, TestApiController } from './test-api.controller.js';

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
export async function startApi(options: OboModuleOptions, extras: OboModuleExtras = {}): Promise<ApiUnderTest> {
  @Module({ imports: [OboModule.forRoot({ ...options, ...extras })], controllers: [TestApiController, ClassScopedController] })
  class TestAppModule {}
  return listen(TestAppModule);
}

/** Listens on a free loopback port. */
export async function listen(module: unknown): Promise<ApiUnderTest> {
  const app = await NestFactory.create(module as never, { logger: process.env.OBO_TEST_LOG ? ['debug', 'log', 'warn', 'error'] : false });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}`, close: () => app.close() };
}
