import { Module, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import { OboModule, type OboModuleOptions } from 'nestjs-obo';
import type { ApiUnderTest } from './api-under-test.js';
import { ClassScopedController, TestApiController } from './test-api.controller.js';

/**
 * Boots the test API with `OboModule.forRoot(options)` like `startApi`, but with every Nest log
 * line (start-up included) going to `logger`; listens on a free 127.0.0.1 port.
 */
export async function startLoggedApi(options: OboModuleOptions, logger: LoggerService): Promise<ApiUnderTest> {
  @Module({ imports: [OboModule.forRoot(options)], controllers: [TestApiController, ClassScopedController] })
  class LoggedAppModule {}
  const app = await NestFactory.create(LoggedAppModule, { logger });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}`, close: () => app.close() };
}
