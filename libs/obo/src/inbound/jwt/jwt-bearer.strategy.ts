import type { KeyObject } from 'node:crypto';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import passport from 'passport';
import { Strategy, type StrategyOptionsWithRequest } from 'passport-jwt';
import { Principal } from '../../context/principal.js';
import { RESOLVED_OBO_OPTIONS } from '../../options/obo-options.constants.js';
import type { ResolvedInboundOptions } from '../../options/resolve-obo-options.js';
import { AccessTokenValidator, type ResolvedSigningKey } from '../access-token-validator.service.js';
import { ClaimsRejection } from './validate-claims.js';

/** What the guard hands the strategy and the strategy hands back, per request, off the request object. */
export interface PendingValidation {
  readonly token: string;
  resolved?: ResolvedSigningKey;
}

/** Per-request state shared by the guard and the strategy; a WeakMap keeps it off the request object. */
export const pendingValidations = new WeakMap<object, PendingValidation>();

// The mixin registers every strategy under its `name` on the instance getPassportInstance()
// returns. We give it a private instance and register on the global one (which @nestjs/passport's
// AuthGuard uses) under a name unique to this module instance, so an app's own "jwt" strategy and
// a second OboModule in the same process are never overwritten.
const privatePassport = new passport.Passport();
let instances = 0;

/**
 * passport-jwt, configured so none of its lenient defaults apply: algorithms and audience at the
 * top level (passport-jwt drops them from `jsonWebTokenOptions`), the token from our strict
 * extractor, the key from {@link AccessTokenValidator.resolveKey} after the header rules, and
 * every claim rule jsonwebtoken lacks applied by {@link AccessTokenValidator.principalFor} in
 * {@link validate}.
 */
@Injectable()
export class JwtBearerStrategy extends PassportStrategy(Strategy) implements OnModuleDestroy {
  /** Name of this strategy on the global passport instance. */
  readonly strategyName = `obo-jwt#${++instances}`;

  constructor(
    @Inject(RESOLVED_OBO_OPTIONS) options: ResolvedInboundOptions,
    private readonly validator: AccessTokenValidator,
  ) {
    super({
      jwtFromRequest: (request: object) => pendingValidations.get(request)?.token ?? null,
      secretOrKeyProvider: (request: object, token: string, done: (error: unknown, key?: string) => void) => {
        // jsonwebtoken 9 takes a KeyObject; the typings only name PEM strings.
        this.resolveKey(request, token).then((key) => done(null, key as unknown as string), (error: unknown) => done(error));
      },
      algorithms: [...options.algorithms] as StrategyOptionsWithRequest['algorithms'],
      audience: [...options.audience] as [string, ...string[]],
      // The issuer is checked exactly by the token profile (Entra: it depends on `ver` and, multi-tenant, on `tid`).
      ignoreExpiration: false,
      jsonWebTokenOptions: { clockTolerance: options.clockToleranceSeconds },
      passReqToCallback: true,
    } satisfies StrategyOptionsWithRequest);
    passport.use(this.strategyName, this);
  }

  onModuleDestroy(): void {
    passport.unuse(this.strategyName);
  }

  getPassportInstance(): passport.Authenticator {
    return privatePassport;
  }

  private async resolveKey(request: object, token: string): Promise<KeyObject> {
    const pending = pendingValidations.get(request);
    if (!pending) throw new ClaimsRejection('malformed');
    pending.resolved = await this.validator.resolveKey(token);
    return pending.resolved.key.key;
  }

  /** Runs after the signature, `aud`, `exp` and `nbf` passed jsonwebtoken. @throws {ClaimsRejection} */
  validate(request: object, payload: unknown): Principal {
    const pending = pendingValidations.get(request);
    if (!pending?.resolved || typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
      throw new ClaimsRejection('payload is not an object');
    }
    return this.validator.principalFor(pending.token, pending.resolved, payload as Record<string, unknown>);
  }
}
