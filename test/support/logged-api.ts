import { Module, type LoggerService } from '@nestjs/common';
import { OboModule, type OboModuleOptions } from 'nestjs-obo';
import { listen, type ApiUnderTest, type HttpAdapterName } from './api-under-test.js';
import { ClassScopedController, TestApiController } from './test-api.controller.js';

/**
 * Boots the test API with `OboModule.forRoot(options)` like `startApi`, but with every Nest log
 * line (start-up included) going to `logger`; listens on a free 127.0.0.1 port.
 */
export async function startLoggedApi(options: OboModuleOptions, logger: LoggerService, adapter: HttpAdapterName = 'express'): Promise<ApiUnderTest> {
  @Module({ imports: [OboModule.forRoot(options)], controllers: [TestApiController, ClassScopedController] })
  class LoggedAppModule {}
  return listen(LoggedAppModule, adapter, logger);
}
