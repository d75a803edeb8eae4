import { Module } from '@nestjs/common';
import { OboModule } from 'nestjs-obo';
import { mcpConfig } from './mcp-config.js';
import { McpController } from './mcp.controller.js';

@Module({
  imports: [OboModule.forRootAsync({ useFactory: () => mcpConfig().obo })],
  controllers: [McpController],
})
export class AppModule {}
