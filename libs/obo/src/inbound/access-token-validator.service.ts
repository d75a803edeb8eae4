import type { KeyObject } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { compactVerify } from 'jose';
import jsonwebtoken from 'jsonwebtoken';
import { Principal } from '../context/principal.js';
import { clientNotAllowed, invalidToken, OboHttpException, signingKeysUnavailable } from '../errors/obo-http.exception.js';
import { RESOLVED_OBO_OPTIONS } from '../options/obo-options.constants.js';
import type { ResolvedInboundOptions } from '../options/resolve-obo-options.js';
import type { AuthorityMetadataDocument } from './jwt/authority-metadata.js';
import { inspectJwt, type InspectedJwt } from './jwt/inspect-jwt.js';
import { keyFitsAlgorithm, SigningKeysUnavailableError, SigningKeyStore, UnknownSigningKeyError, type SigningKey } from './jwt/signing-key.store.js';
import { ThrottledWarning } from './jwt/throttled-warning.js';
import { ValidatedTokenCache } from './jwt/validated-token.cache.js';
import { ClaimsRejection } from './jwt/validate-claims.js';
import { outermostActorAllowed, readDelegationChain } from './profiles/delegation-chain.js';
import { selectTokenProfile } from './profiles/select-token-profile.js';
import type { TokenProfile } from './profiles/token-profile.js';

/** What the first step (header and key) learnt about a token; the last step (claims) needs it. */
export interface ResolvedSigningKey {
  readonly inspected: InspectedJwt;
  readonly key: SigningKey;
  readonly metadata: AuthorityMetadataDocument;
}

const KID_MAX_LENGTH = 256;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * Validates one access token string and returns its {@link Principal}: header rules, the signing
 * key, the signature and every claim rule of the configured token profile (Entra ID, RFC 9068,
 * Auth0, Okta, Keycloak), the delegation chain and the client and actor allow-lists. The HTTP guard
 * runs it through passport-jwt (the strategy calls {@link resolveKey} and {@link principalFor};
 * jsonwebtoken checks the signature between them), also for GraphQL resolvers (the same guards
 * read the HTTP request out of the GraphQL context); a WebSocket handshake or a microservice
 * message handler calls {@link validate}, which checks the signature with `jose`.
 * Failures become RFC 6750 answers through {@link rejectionFor}.
 */
@Injectable()
export class AccessTokenValidator {
  private readonly logger = new Logger('JwtAuthGuard');
  // Random kids are what an attacker sends: one line a minute, and never the kid itself.
  private readonly unknownKeyWarning = new ThrottledWarning(this.logger, 60_000);
  private readonly profile: TokenProfile;

  constructor(
    @Inject(RESOLVED_OBO_OPTIONS) private readonly options: ResolvedInboundOptions,
    private readonly keys: SigningKeyStore,
    private readonly validated: ValidatedTokenCache,
  ) {
    this.profile = selectTokenProfile(options);
  }

  /**
   * The whole validation of `token` (the compact JWS, without `Bearer `), for transports other than
   * HTTP. A token validated before and not yet expired is answered from the validated-token cache.
   * @throws {OboHttpException} 401 `invalid_token` (with `error_description="The token expired"` when it
   * did), 403 for a client or actor not allowed, 503 with `Retry-After` when the keys cannot be fetched.
   */
  async validate(token: string): Promise<Principal> {
    if (typeof token !== 'string' || token.length === 0 || token.length > this.options.maxTokenLength || !TOKEN68.test(token)) {
      throw this.rejectionFor(new ClaimsRejection('not a token of acceptable length and characters'));
    }
    const known = this.validated.get(token);
    if (known) return known;
    try {
      const resolved = await this.resolveKey(token);
      const alg = resolved.inspected.header.alg as string;
      await compactVerify(token, resolved.key.key as KeyObject, { algorithms: [alg] }).catch(() => {
        throw new ClaimsRejection('signature invalid');
      });
      const principal = this.principalFor(token, resolved, resolved.inspected.payload as Record<string, unknown>);
      this.validated.remember(token, principal, resolved.key.kid, resolved.inspected.payload.exp as number);
      return principal;
    } catch (error) {
      throw this.rejectionFor(error);
    }
  }

  /**
   * Step 1: parses the token, applies the header rules (`alg` on the allow-list, a `kid`, no `crit`
   * or `b64`, the profile's `typ`) and the time-claim types, and finds the signing key.
   * @throws {ClaimsRejection}, {UnknownSigningKeyError}, {SigningKeysUnavailableError}
   */
  async resolveKey(token: string): Promise<ResolvedSigningKey> {
    const inspected = inspectJwt(token);
    if (!inspected) throw new ClaimsRejection('malformed');
    const { alg, kid, typ } = inspected.header;
    if (typeof alg !== 'string' || !this.options.algorithms.includes(alg)) throw new ClaimsRejection('alg not accepted');
    if (typeof kid !== 'string' || kid.length === 0 || kid.length > KID_MAX_LENGTH) throw new ClaimsRejection('kid missing or invalid');
    if (inspected.header.crit !== undefined || inspected.header.b64 !== undefined) throw new ClaimsRejection('critical header extension');
    this.profile.checkType(typ);
    checkTimeTypes(inspected.payload, this.options.provider === 'entra');
    const { key, metadata } = await this.keys.getKey(kid);
    if (!keyFitsAlgorithm(key, alg)) throw new ClaimsRejection('key does not fit alg');
    return { inspected, key, metadata };
  }

  /**
   * Step 3, on a payload whose signature is verified: the profile's claim rules, the delegation
   * chain (`delegation.maxActors`), `allowedClientApplications` and `delegation.allowedActors`.
   * @throws {ClaimsRejection}, {OboHttpException} 403
   */
  principalFor(token: string, resolved: ResolvedSigningKey, payload: Record<string, unknown>): Principal {
    const init = this.profile.principal(payload, resolved.inspected.header, {
      issuers: resolved.metadata.issuers,
      issuerV2: resolved.metadata.issuerV2,
      keyIssuer: resolved.key.issuer,
      now: Math.floor(Date.now() / 1000),
    });
    const actors = readDelegationChain(payload, this.options.delegation.maxActors);
    if (this.options.allowedClientApplications && !this.options.allowedClientApplications.has(init.clientAppId ?? '')) throw clientNotAllowed(this.options);
    if (!outermostActorAllowed(actors, this.options.delegation.allowedActors)) {
      this.logger.debug('Token rejected: its outermost actor is not in delegation.allowedActors');
      throw clientNotAllowed(this.options);
    }
    // The claims are not handed over: the Principal decodes them from the token's payload (the bytes
    // just verified) if anyone reads them, so a cached principal holds the token's text only once.
    const { claims: _verified, ...identity } = init;
    return new Principal({ ...identity, actors }, token);
  }

  /** The RFC 6750 answer to a validation failure; logs one line (never the token, a kid or a claim value). */
  rejectionFor(error: unknown): OboHttpException {
    const origin = this.options;
    if (error instanceof OboHttpException) return error;
    if (error instanceof SigningKeysUnavailableError) return signingKeysUnavailable(error.retryAfterSeconds);
    if (error instanceof UnknownSigningKeyError) {
      // One line per failure: the throttled warning, or the usual debug line while it is held back.
      if (!this.unknownKeyWarning.warn(() => this.unknownKeyLine())) this.logger.debug('Token rejected: UnknownSigningKeyError');
      return invalidToken(origin, false, error);
    }
    if (error instanceof ClaimsRejection) {
      this.logger.debug(`Token rejected: ${error.reason}`);
      return invalidToken(origin, error.expired, error);
    }
    if (error instanceof jsonwebtoken.TokenExpiredError) return invalidToken(origin, true, error);
    // jsonwebtoken and jwks-rsa errors quote expected values and kids: keep them out of logs and bodies.
    this.logger.debug(`Token rejected: ${error instanceof Error ? error.name : 'unknown error'}`);
    return invalidToken(origin, false, error);
  }

  private unknownKeyLine(): string {
    if (this.options.jwks.appSpecificKeys) {
      return 'Token rejected: its signing key (kid) is not in this app\u2019s key set (jwks.appSpecificKeys: <jwks_uri>?appid=<client id>); a forged token, or a key the authority no longer publishes.';
    }
    if (this.options.provider !== 'entra') return 'Token rejected: its signing key (kid) is not in the authority\u2019s key set (jwks_uri); a forged token, or a key the authority no longer publishes.';
    return (
      'Token rejected: its signing key (kid) is in no key set of the authority. If this API\u2019s app registration has SAML SSO or a claims-mapping policy, ' +
      'Entra signs its tokens with app-specific keys: set jwks.appSpecificKeys to true. Otherwise it is a forged token or a key the authority no longer publishes.'
    );
  }
}

function numericDate(payload: Readonly<Record<string, unknown>>, claim: string, required: boolean): void {
  const value = payload[claim];
  if (value === undefined && !required) return;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) throw new ClaimsRejection(`${claim} missing or not a positive integer`);
}

/** `exp` and `iat` (and on Entra ID `nbf`) must be positive integers: checked before jsonwebtoken, which calls a bad `exp` expired. */
function checkTimeTypes(payload: Readonly<Record<string, unknown>>, nbfRequired: boolean): void {
  numericDate(payload, 'exp', true);
  numericDate(payload, 'nbf', nbfRequired);
  numericDate(payload, 'iat', true);
}
