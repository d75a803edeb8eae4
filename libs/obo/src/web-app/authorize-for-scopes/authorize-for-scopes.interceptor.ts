import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { catchError, from, mergeMap, type Observable } from 'rxjs';
import { InteractionRequiredError } from '../errors/interaction-required.error.js';
import { SignInChallenge } from '../routes/sign-in-challenge.service.js';
import { AuthorizeForScopesMetadata } from './authorize-for-scopes.decorator.js';

/**
 * Turns an {@link InteractionRequiredError} thrown by a `@AuthorizeForScopes()` page into a redirect
 * to the authority (a GET page only: a POST's body would be lost on the way, so it answers 401).
 */
@Injectable()
export class AuthorizeForScopesInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly challenge: SignInChallenge,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const metadata = this.reflector.getAllAndOverride(AuthorizeForScopesMetadata, [context.getHandler(), context.getClass()]);
    if (metadata === undefined) return next.handle();
    const request = context.switchToHttp().getRequest<{ method: string; originalUrl?: string; url: string }>();
    if (request.method !== 'GET' && request.method !== 'HEAD') return next.handle();
    return next.handle().pipe(
      catchError((error: unknown) => {
        if (!(error instanceof InteractionRequiredError)) throw error;
        const scopes = [...new Set([...metadata.scopes, ...error.scopes])];
        return from(this.challenge.redirectToAuthority({ scopes, claims: error.claims, stepUp: error.stepUp, returnUrl: request.originalUrl ?? request.url, reason: error.reason })).pipe(
          mergeMap((redirect) => {
            throw redirect;
          }),
        );
      }),
    );
  }
}
