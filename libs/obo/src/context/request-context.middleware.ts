import { Injectable, type NestMiddleware } from '@nestjs/common';
import { RequestContext } from './request-context.service.js';

/** Gives every request its own empty context, so nothing of one request is visible in the next. */
@Injectable()
export class RequestContextMiddleware implements NestMiddleware {
  constructor(private readonly context: RequestContext) {}

  use(_request: unknown, _response: unknown, next: () => void): void {
    this.context.run(next);
  }
}
