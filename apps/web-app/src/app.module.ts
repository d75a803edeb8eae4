import { Module } from '@nestjs/common';
import { OboWebAppModule } from 'nestjs-obo';
import { PagesController } from './pages.controller.js';
import { webAppConfig } from './web-app-config.js';

@Module({
  imports: [OboWebAppModule.forRootAsync({ useFactory: () => webAppConfig().webApp })],
  controllers: [PagesController],
})
export class AppModule {}
