import { Inject, Injectable, Logger, type ExecutionContext } from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { AuthGuard, type IAuthModuleOptions } from '@nestjs/passport';
import jsonwebtoken from 'jsonwebtoken';
import { RequestContext } from '../context/request-context.service.js';
import { Principal } from '../context/principal.js';
import { invalidRequest, invalidToken, OboHttpException, signingKeysUnavailable, tokenMissing } from '../errors/obo-http.exception.js';
import { withRejectionHeaders } from '../errors/reject.js';
import { RESOLVED_OBO_OPTIONS } from '../options/obo-options.constants.js';
import type { ResolvedOboOptions } from '../options/resolve-obo-options.js';
import { PublicMetadata } from '../scopes/public.decorator.js';
import { extractBearerToken, type BearerSource } from './extract-bearer-token.js';
import { JwtBearerStrategy, pendingValidations, type PendingValidation } from './jwt-bearer.strategy.js';
import { ValidatedTokenCache } from './validated-token.cache.js';
import { SigningKeysUnavailableError } from './signing-key.store.js';
import { ClaimsRejection } from './validate-claims.js';

/**
 * Authenticates the bearer token (passport-jwt through `@nestjs/passport`) and answers every
 * failure per RFC 6750: 401 bare challenge without credentials, 400 `invalid_request`, 401
 * `invalid_token` (one generic description: bad signature, unknown key, wrong audience and wrong
 * issuer look alike), 503 with `Retry-After` when keys cannot be fetched. `@Public()` skips it.
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard() {
  private readonly logger = new Logger(JwtAuthGuard.name);
  private readonly authOptions: IAuthModuleOptions;
  /** AuthGuard's options; an app's `PassportModule.register()` may property-inject its own. */
  declare options: IAuthModuleOptions;

  constructor(
    strategy: JwtBearerStrategy,
    private readonly reflector: Reflector,
    private readonly adapterHost: HttpAdapterHost,
    private readonly requestContext: RequestContext,
    private readonly validated: ValidatedTokenCache,
    @Inject(RESOLVED_OBO_OPTIONS) private readonly oboOptions: ResolvedOboOptions,
  ) {
    const authOptions = { defaultStrategy: strategy.strategyName, session: false } satisfies IAuthModuleOptions;
    super(authOptions);
    this.authOptions = authOptions;
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride(PublicMetadata, [context.getHandler(), context.getClass()])) return true;
    const request = context.switchToHttp().getRequest<BearerSource & { user?: unknown; authInfo?: unknown }>();
    const { realm } = this.oboOptions;
    const extracted = extractBearerToken(request, this.oboOptions.maxTokenLength);
    if (extracted.kind !== 'token') {
      const exception = extracted.kind === 'missing' ? tokenMissing(realm) : extracted.kind === 'malformed' ? invalidRequest(realm) : invalidToken(realm);
      throw withRejectionHeaders(context, this.adapterHost, exception);
    }
    const known = this.validated.get(extracted.token);
    if (known) {
      request.user = known;
      this.requestContext.setPrincipal(known);
      return true;
    }
    const pending: PendingValidation = { token: extracted.token };
    pendingValidations.set(request, pending);
    // An app's PassportModule.register({ defaultStrategy }) is property-injected into AuthGuard
    // after construction; this guard must always run its own module's strategy.
    this.options = this.authOptions;
    try {
      await super.canActivate(context);
    } catch (error) {
      throw withRejectionHeaders(context, this.adapterHost, this.toRejection(error));
    } finally {
      pendingValidations.delete(request);
      request.authInfo = undefined; // passport puts jsonwebtoken's error here; never let it be serialised
    }
    const principal = request.user as Principal;
    this.validated.remember(extracted.token, principal, pending.key!.kid);
    this.requestContext.setPrincipal(principal);
    return true;
  }

  override handleRequest<TUser = Principal>(error: unknown, user: unknown, info: unknown): TUser {
    if (error || !(user instanceof Principal)) throw error ?? info ?? new ClaimsRejection('no principal');
    return user as TUser;
  }

  private toRejection(error: unknown): OboHttpException {
    const { realm } = this.oboOptions;
    if (error instanceof OboHttpException) return error;
    if (error instanceof SigningKeysUnavailableError) return signingKeysUnavailable(error.retryAfterSeconds);
    if (error instanceof ClaimsRejection) {
      this.logger.debug(`Token rejected: ${error.reason}`);
      return invalidToken(realm, error.expired, error);
    }
    if (error instanceof jsonwebtoken.TokenExpiredError) return invalidToken(realm, true, error);
    // jsonwebtoken and jwks-rsa errors quote expected values and kids: keep them out of logs and bodies.
    this.logger.debug(`Token rejected: ${error instanceof Error ? error.name : 'unknown error'}`);
    return invalidToken(realm, false, error);
  }
}
