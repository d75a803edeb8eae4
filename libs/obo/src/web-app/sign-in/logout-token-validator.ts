import { errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { LRUCache } from 'lru-cache';
import { OboError } from '../../errors/obo.error.js';
import type { LogoutTokenSubject } from './sign-in-client.js';

/** OpenID Connect Back-Channel Logout 1.0 §2.4: the event a logout token carries. */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** Largest logout token accepted, in characters (a logout token is small; this bounds parsing). */
export const MAX_LOGOUT_TOKEN_LENGTH = 16 * 1024;
/** `jti`s remembered against replay (the oldest go first beyond it). */
export const MAX_REMEMBERED_LOGOUT_TOKENS = 10_000;
/** Clock skew accepted on `iat` and `exp`, in seconds. */
const CLOCK_TOLERANCE_SECONDS = 60;
/** Oldest logout token accepted, by `iat`, in seconds (the spec recommends a lifetime of about two minutes). */
const MAX_TOKEN_AGE_SECONDS = 600;

/**
 * `typ` values accepted (§2.4: explicit typing `logout+jwt` is RECOMMENDED, not required, so
 * authorities that predate it send `JWT` or none). Any other type (an ID token's or access token's
 * `at+jwt`) is refused; §2.6's `events` and no-`nonce` checks keep an ID token out either way.
 */
const ACCEPTED_TYPES = new Set([undefined, 'jwt', 'logout+jwt', 'application/logout+jwt']);

/** What {@link LogoutTokenValidator} checks a token against. */
export interface LogoutTokenExpectations {
  readonly issuer: string;
  readonly clientId: string;
  /** Asymmetric algorithms the authority signs with. */
  readonly algorithms: readonly string[];
  readonly keys: JWTVerifyGetKey;
}

function invalid(why: string, cause?: unknown): OboError {
  return new OboError('ERR_OBO_LOGOUT_TOKEN_INVALID', `The logout token was refused: ${why}; nobody was signed out.`, { cause });
}

/**
 * Validates OpenID Connect Back-Channel Logout 1.0 logout tokens (§2.6) with jose, and remembers
 * each accepted `jti` (the latest {@link MAX_REMEMBERED_LOGOUT_TOKENS}, per process).
 */
export class LogoutTokenValidator {
  // Presence is enough: past its `exp` (+ tolerance) a token is refused by jwtVerify anyway.
  private readonly seen = new LRUCache<string, true>({ max: MAX_REMEMBERED_LOGOUT_TOKENS });

  constructor(private readonly now: () => number) {}

  /**
   * @throws {OboError} `ERR_OBO_LOGOUT_TOKEN_INVALID`; the jose error as `cause` for the signature and claim checks.
   * Key-fetching failures are rethrown as they are, for the caller to classify.
   */
  async validate(token: string, expected: LogoutTokenExpectations): Promise<LogoutTokenSubject> {
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_LOGOUT_TOKEN_LENGTH) throw invalid(`it is missing or longer than ${MAX_LOGOUT_TOKEN_LENGTH} characters`);
    const now = this.now();
    let verified: Awaited<ReturnType<typeof jwtVerify>>;
    try {
      verified = await jwtVerify(token, expected.keys, {
        issuer: expected.issuer,
        audience: expected.clientId,
        algorithms: [...expected.algorithms],
        requiredClaims: ['iat', 'exp', 'jti', 'events'],
        maxTokenAge: MAX_TOKEN_AGE_SECONDS,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        currentDate: new Date(now),
      });
    } catch (error) {
      if (error instanceof errors.JWKSTimeout || !(error instanceof errors.JOSEError)) throw error;
      if (error instanceof errors.JWTClaimValidationFailed || error instanceof errors.JWTExpired) throw invalid(`its "${error.claim}" claim failed validation (${error.reason})`, error);
      throw invalid(`${error.code}`, error);
    }
    const { payload, protectedHeader } = verified;
    if (!ACCEPTED_TYPES.has(protectedHeader.typ?.toLowerCase())) throw invalid(`its typ "${String(protectedHeader.typ).slice(0, 40)}" is not logout+jwt`);
    const events = payload.events as Record<string, unknown> | null;
    const event = typeof events === 'object' && events !== null ? events[BACKCHANNEL_LOGOUT_EVENT] : undefined;
    if (typeof event !== 'object' || event === null || Array.isArray(event)) throw invalid(`its "events" claim lacks the ${BACKCHANNEL_LOGOUT_EVENT} member (a JSON object)`);
    if ('nonce' in payload) throw invalid('it carries a "nonce" claim (an ID token, not a logout token)');
    const subject = typeof payload.sub === 'string' && payload.sub.length > 0 ? payload.sub : undefined;
    const sessionId = typeof payload.sid === 'string' && payload.sid.length > 0 ? payload.sid : undefined;
    if (subject === undefined && sessionId === undefined) throw invalid('it names neither "sub" nor "sid"');
    const jti = `${payload.jti}`;
    if (typeof payload.jti !== 'string' || jti.length === 0 || jti.length > 256) throw invalid('its "jti" claim is not a short string');
    if (this.seen.has(jti)) throw invalid('its "jti" was seen before (a replay)');
    this.seen.set(jti, true);
    return { issuer: expected.issuer, ...(subject === undefined ? {} : { subject }), ...(sessionId === undefined ? {} : { sessionId }) };
  }
}
