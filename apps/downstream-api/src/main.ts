import 'reflect-metadata';
import { Logger, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { downstreamConfig } from './downstream-config.js';

/** `HTTP_ADAPTER=fastify` serves the app on Fastify (`@nestjs/platform-fastify`); the default is Express. */
async function createApp(adapter = process.env.HTTP_ADAPTER || 'express'): Promise<INestApplication> {
  if (adapter === 'express') return NestFactory.create(AppModule);
  if (adapter !== 'fastify') throw new Error(`HTTP_ADAPTER must be "express" or "fastify" (got "${adapter}").`);
  const { FastifyAdapter } = await import('@nestjs/platform-fastify');
  return NestFactory.create(AppModule, new FastifyAdapter());
}

async function bootstrap(): Promise<void> {
  const { host, port } = downstreamConfig();
  const app = await createApp();
  app.enableShutdownHooks();
  await app.listen(port, host);
  // The demo and the tests read this line to learn the port.
  new Logger('DownstreamApi').log(`Downstream API listening on ${await app.getUrl()}`);
}

bootstrap().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
