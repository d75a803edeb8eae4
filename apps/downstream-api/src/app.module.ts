import { Module } from '@nestjs/common';
import { OboModule } from 'nestjs-obo';
import { downstreamConfig } from './downstream-config.js';
import { HealthController } from './health.controller.js';
import { WhoAmIController } from './whoami.controller.js';

@Module({
  imports: [OboModule.forRootAsync({ useFactory: () => downstreamConfig().obo })],
  controllers: [WhoAmIController, HealthController],
})
export class AppModule {}
