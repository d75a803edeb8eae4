import type { KeyObject } from 'node:crypto';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import passport from 'passport';
import { Strategy, type StrategyOptionsWithRequest } from 'passport-jwt';
import { Principal } from '../../context/principal.js';
import { clientNotAllowed } from '../../errors/obo-http.exception.js';
import { RESOLVED_OBO_OPTIONS } from '../../options/obo-options.constants.js';
import type { ResolvedOboOptions } from '../../options/resolve-obo-options.js';
import { inspectJwt, type InspectedJwt } from './inspect-jwt.js';
import { keyFitsAlgorithm, SigningKeyStore, type SigningKey } from './signing-key.store.js';
import { ClaimsRejection, checkTimeTypes, validateClaims } from './validate-claims.js';
import type { AuthorityMetadataDocument } from './authority-metadata.js';

/** What the guard hands the strategy and the strategy hands back, per request, off the request object. */
export interface PendingValidation {
  readonly token: string;
  inspected?: InspectedJwt;
  key?: SigningKey;
  metadata?: AuthorityMetadataDocument;
}

/** Per-request state shared by the guard and the strategy; a WeakMap keeps it off the request object. */
export const pendingValidations = new WeakMap<object, PendingValidation>();

const KID_MAX_LENGTH = 256;
// The header parameters we understand; a `crit` naming anything is an extension we do not.
const ENTRA_TYP = 'jwt';

function checkHeader(header: Readonly<Record<string, unknown>>, algorithms: readonly string[]): string {
  const { alg, kid, typ } = header;
  if (typeof alg !== 'string' || !algorithms.includes(alg)) throw new ClaimsRejection('alg not accepted');
  if (typeof kid !== 'string' || kid.length === 0 || kid.length > KID_MAX_LENGTH) throw new ClaimsRejection('kid missing or invalid');
  if (header.crit !== undefined || header.b64 !== undefined) throw new ClaimsRejection('critical header extension');
  if (typeof typ !== 'string' || typ.toLowerCase() !== ENTRA_TYP) throw new ClaimsRejection('typ not accepted');
  return kid;
}

// The mixin registers every strategy under its `name` on the instance getPassportInstance()
// returns. We give it a private instance and register on the global one (which @nestjs/passport's
// AuthGuard uses) under a name unique to this module instance, so an app's own "jwt" strategy and
// a second OboModule in the same process are never overwritten.
const privatePassport = new passport.Passport();
let instances = 0;

/**
 * passport-jwt, configured so none of its lenient defaults apply: algorithms and audience at the
 * top level (passport-jwt drops them from `jsonWebTokenOptions`), the token from our strict
 * extractor, the key from {@link SigningKeyStore} after header pre-checks, and every claim
 * rule jsonwebtoken lacks applied in {@link validate}.
 */
@Injectable()
export class JwtBearerStrategy extends PassportStrategy(Strategy) implements OnModuleDestroy {
  /** Name of this strategy on the global passport instance. */
  readonly strategyName = `obo-jwt#${++instances}`;

  constructor(
    @Inject(RESOLVED_OBO_OPTIONS) private readonly options: ResolvedOboOptions,
    private readonly keys: SigningKeyStore,
  ) {
    super({
      jwtFromRequest: (request: object) => pendingValidations.get(request)?.token ?? null,
      secretOrKeyProvider: (request: object, token: string, done: (error: unknown, key?: string) => void) => {
        // jsonwebtoken 9 takes a KeyObject; the typings only name PEM strings.
        this.resolveKey(request, token).then((key) => done(null, key as unknown as string), (error: unknown) => done(error));
      },
      algorithms: [...options.algorithms] as StrategyOptionsWithRequest['algorithms'],
      audience: [...options.audience] as [string, ...string[]],
      // The issuer is checked exactly in validate(): it depends on `ver` and, multi-tenant, on `tid`.
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
    const inspected = inspectJwt(token);
    if (!pending || !inspected) throw new ClaimsRejection('malformed');
    const kid = checkHeader(inspected.header, this.options.algorithms);
    checkTimeTypes(inspected.payload);
    const alg = inspected.header.alg as string;
    const { key, metadata } = await this.keys.getKey(kid);
    if (!keyFitsAlgorithm(key, alg)) throw new ClaimsRejection('key does not fit alg');
    Object.assign(pending, { inspected, key, metadata });
    return key.key;
  }

  /** Runs after the signature, `aud`, `exp` and `nbf` passed jsonwebtoken. @throws {ClaimsRejection} */
  validate(request: object, payload: unknown): Principal {
    const pending = pendingValidations.get(request);
    if (!pending?.metadata || typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
      throw new ClaimsRejection('payload is not an object');
    }
    const init = validateClaims(payload as Record<string, unknown>, this.options, {
      issuers: pending.metadata.issuers,
      issuerV2: pending.metadata.issuerV2,
      keyIssuer: pending.key?.issuer,
      now: Math.floor(Date.now() / 1000),
    });
    if (this.options.allowedClientApplications && !this.options.allowedClientApplications.has(init.clientAppId ?? '')) {
      throw clientNotAllowed(this.options.realm);
    }
    return new Principal(init, pending.token);
  }
}
