import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { mcpConfig } from './mcp-config.js';

async function bootstrap(): Promise<void> {
  const { host, port, resource } = mcpConfig();
  const app = await NestFactory.create(AppModule);
  app.enableShutdownHooks();
  await app.listen(port, host);
  // The demo and the tests read this line to learn the port.
  new Logger('McpServer').log(`MCP server listening on ${await app.getUrl()} (MCP endpoint ${resource})`);
}

bootstrap().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
