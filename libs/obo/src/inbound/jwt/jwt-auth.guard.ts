import { Inject, Injectable, Logger, type ExecutionContext } from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { AuthGuard, type IAuthModuleOptions } from '@nestjs/passport';
import { httpRequestOf, isGraphQL } from '../../context/http-request-of.js';
import { RequestContext } from '../../context/request-context.service.js';
import { Principal } from '../../context/principal.js';
import { invalidRequest, invalidToken, OboHttpException, tokenMissing } from '../../errors/obo-http.exception.js';
import { AccessTokenValidator } from '../access-token-validator.service.js';
import { withRejectionHeaders } from '../../errors/reject.js';
import { RESOLVED_OBO_OPTIONS } from '../../options/obo-options.constants.js';
import type { ResolvedOboOptions } from '../../options/resolve-obo-options.js';
import { PublicMetadata } from '../scopes/public.decorator.js';
import { extractBearerToken, type BearerSource } from './extract-bearer-token.js';
import { JwtBearerStrategy, pendingValidations, type PendingValidation } from './jwt-bearer.strategy.js';
import { ValidatedTokenCache } from './validated-token.cache.js';
import { ThrottledWarning } from './throttled-warning.js';
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
  // Oversized tokens can come in floods: one line a minute, with the count of the others.
  private readonly sizeWarning = new ThrottledWarning(this.logger, 60_000);
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
    private readonly validator: AccessTokenValidator,
  ) {
    const authOptions = { defaultStrategy: strategy.strategyName, session: false } satisfies IAuthModuleOptions;
    super(authOptions);
    this.authOptions = authOptions;
  }

  /**
   * Synchronous for a token the validated-token cache still vouches for (Nest then runs no
   * promise for this guard); a promise when the token must be validated.
   */
  override canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (this.isPublic(context.getClass(), context.getHandler())) return true;
    const request = httpRequestOf<BearerSource & { user?: unknown; authInfo?: unknown }>(context);
    const origin = this.oboOptions;
    if (!request) throw withRejectionHeaders(context, this.adapterHost, tokenMissing(origin)); // a resolver whose GraphQL context has no `req`
    // A token the validated-token cache still vouches for skips the token68 scan (it passed it when it
    // was remembered) and is looked up once.
    let known: Principal | undefined;
    const extracted = extractBearerToken(request, this.oboOptions.maxTokenLength, (token) => (known = this.validated.get(token)) !== undefined);
    if (extracted.kind !== 'token') {
      if (extracted.kind === 'too-long') this.warnTooLong(extracted.length);
      const exception = extracted.kind === 'missing' ? tokenMissing(origin) : extracted.kind === 'malformed' ? invalidRequest(origin) : invalidToken(origin);
      throw withRejectionHeaders(context, this.adapterHost, exception);
    }
    if (known) {
      request.user = known;
      this.requestContext.setPrincipal(known);
      return true;
    }
    return this.validateFully(context, request, extracted.token);
  }

  /** One line with the size (never the token): a legitimate user in many groups is told apart from junk. */
  private warnTooLong(length: number): void {
    const max = this.oboOptions.maxTokenLength;
    this.sizeWarning.warn(
      () => `Bearer token refused for its size: ${length} characters, over maxTokenLength (${max}). If real users carry tokens this large (many groups, wids or roles), raise maxTokenLength.`,
    );
  }

  /**
   * Validations in flight, by request: the fields of one GraphQL operation each run the guard on the
   * same request, in parallel, and share one validation of its token.
   */
  private readonly inFlight = new WeakMap<object, { readonly token: string; readonly done: Promise<Principal> }>();

  /** Full validation through passport-jwt and the strategy; remembers the token once it passed. */
  private async validateFully(context: ExecutionContext, request: BearerSource & { user?: unknown; authInfo?: unknown }, token: string): Promise<boolean> {
    const running = this.inFlight.get(request);
    let principal: Principal;
    if (running?.token === token) {
      principal = await running.done;
    } else {
      const done = this.validateOnce(context, request, token);
      this.inFlight.set(request, { token, done });
      principal = await done;
    }
    request.user = principal;
    this.requestContext.setPrincipal(principal);
    return true;
  }

  private async validateOnce(context: ExecutionContext, request: BearerSource & { user?: unknown; authInfo?: unknown }, token: string): Promise<Principal> {
    const pending: PendingValidation = { token };
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
    const { key, inspected } = pending.resolved!;
    this.validated.remember(token, principal, key.kid, inspected.payload.exp as number);
    return principal;
  }

  // Route metadata never changes after startup: read `@Public()` once per route, not once per request.
  private readonly publicRoutes = new WeakMap<object, WeakMap<object, boolean>>();

  private isPublic(controller: object, handler: object): boolean {
    let byHandler = this.publicRoutes.get(controller);
    if (!byHandler) this.publicRoutes.set(controller, (byHandler = new WeakMap()));
    let isPublic = byHandler.get(handler);
    if (isPublic === undefined) {
      isPublic = Boolean(this.reflector.getAllAndOverride(PublicMetadata, [handler as never, controller as never]));
      byHandler.set(handler, isPublic);
    }
    return isPublic;
  }

  /** passport reads the request through these: a resolver's is the GraphQL context's `req`. */
  override getRequest(context: ExecutionContext): unknown {
    return httpRequestOf(context);
  }

  // AuthGuard's own getResponse (not in its typings); passport, with a callback, never writes to it.
  getResponse(context: ExecutionContext): unknown {
    return isGraphQL(context) ? undefined : context.switchToHttp().getResponse();
  }

  override handleRequest<TUser = Principal>(error: unknown, user: unknown, info: unknown): TUser {
    if (error || !(user instanceof Principal)) throw error ?? info ?? new ClaimsRejection('no principal');
    return user as TUser;
  }

  private toRejection(error: unknown): OboHttpException {
    return this.validator.rejectionFor(error);
  }
}
