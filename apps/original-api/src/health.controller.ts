import { Controller, Get } from '@nestjs/common';
import { Public } from 'nestjs-obo';

@Controller('health')
export class HealthController {
  /** Liveness; answers without a token and while the authority is down. */
  @Get()
  @Public()
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }
}
