import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { webAppConfig } from './web-app-config.js';

async function bootstrap(): Promise<void> {
  const { host, port } = webAppConfig();
  const app = await NestFactory.create(AppModule);
  app.enableShutdownHooks();
  await app.listen(port, host);
  // The demo and the tests read this line to learn the URL.
  new Logger('WebApp').log(`Web app listening on ${await app.getUrl()}`);
}

bootstrap().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
