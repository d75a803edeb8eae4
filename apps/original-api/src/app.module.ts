import { Module } from '@nestjs/common';
import { OboModule } from 'nestjs-obo';
import { HealthController } from './health.controller.js';
import { originalConfig } from './original-config.js';
import { ProfileController } from './profile.controller.js';

@Module({
  imports: [OboModule.forRootAsync({ useFactory: () => originalConfig().obo })],
  controllers: [ProfileController, HealthController],
})
export class AppModule {}
