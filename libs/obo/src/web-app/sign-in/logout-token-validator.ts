import { createRemoteJWKSet, customFetch, decodeProtectedHeader, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { LRUCache } from 'lru-cache';
import { fetch, type Dispatcher } from 'undici';
import { OboError } from '../../errors/obo.error.js';
import type { LogoutTokenSubject } from './sign-in-client.js';

/** The event a back-channel logout token must carry (OpenID Connect Back-Channel Logout 1.0, section 2.4). */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** `jti` values remembered against replay; a logout token lives minutes, so this many covers any burst. */
const MAX_REMEMBERED_JTI = 10_000;
/** Longest accepted logout token, in characters. */
const MAX_LOGOUT_TOKEN_LENGTH = 8_192;

/** Where a logout token's keys and expected values come from. */
export interface LogoutTokenSettings {
  readonly clientId: string;
  /** Accepted issuers (the discovered one). */
  readonly issuers: () => Promise<readonly string[]>;
  readonly jwksUri: () => Promise<string>;
  /** The module's egress dispatcher. */
  readonly dispatcher: Dispatcher;
  readonly timeoutMs: number;
  /** Clock skew allowed on `iat` and `exp`, seconds. Default 60. */
  readonly clockToleranceSeconds?: number;
}

const invalid = (reason: string, cause?: unknown) => new OboError('ERR_OBO_LOGOUT_TOKEN_INVALID', `The back-channel logout token was refused: ${reason}.`, { cause });

/**
 * Validates OpenID Connect Back-Channel Logout 1.0 logout tokens (section 2.6) with jose: signed
 * (asymmetric, the authority's published keys; never `none`, never encrypted), `iss`, `aud` = this
 * client, `iat`, `exp`, `jti` not seen before, the back-channel logout event, `sub` and/or `sid`,
 * no `nonce` (so an ID token is never taken for one), `typ` `logout+jwt` (or, for older authorities,
 * `JWT` or none).
 */
export class LogoutTokenValidator {
  private keys: JWTVerifyGetKey | undefined;
  private readonly seen = new LRUCache<string, true>({ max: MAX_REMEMBERED_JTI, ttl: 15 * 60_000 });

  constructor(private readonly settings: LogoutTokenSettings) {}

  /** @throws {OboError} `ERR_OBO_LOGOUT_TOKEN_INVALID` */
  async validate(token: string): Promise<LogoutTokenSubject> {
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_LOGOUT_TOKEN_LENGTH || token.split('.').length !== 3) throw invalid('not a signed JWT');
    let typ: unknown;
    try {
      typ = decodeProtectedHeader(token).typ;
    } catch (error) {
      throw invalid('malformed header', error);
    }
    if (typ !== undefined && typ !== 'logout+jwt' && typ !== 'JWT') throw invalid('its typ is not logout+jwt');
    const issuers = await this.settings.issuers();
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.jwks(await this.settings.jwksUri()), {
        issuer: [...issuers],
        audience: this.settings.clientId,
        algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'],
        requiredClaims: ['iat', 'exp', 'jti'],
        clockTolerance: this.settings.clockToleranceSeconds ?? 60,
      }));
    } catch (error) {
      throw invalid('signature, issuer, audience or lifetime check failed', error);
    }
    const events = payload.events;
    const event = typeof events === 'object' && events !== null ? (events as Record<string, unknown>)[BACKCHANNEL_LOGOUT_EVENT] : undefined;
    if (typeof event !== 'object' || event === null || Array.isArray(event)) throw invalid('it carries no back-channel logout event');
    if ('nonce' in payload) throw invalid('it carries a nonce');
    const subject = typeof payload.sub === 'string' && payload.sub.length > 0 ? payload.sub : undefined;
    const sessionId = typeof payload.sid === 'string' && payload.sid.length > 0 ? payload.sid : undefined;
    if (subject === undefined && sessionId === undefined) throw invalid('it names neither sub nor sid');
    const jti = `${payload.iss as string}\0${payload.jti as string}`;
    if (typeof payload.jti !== 'string' || this.seen.has(jti)) throw invalid('it was used before');
    this.seen.set(jti, true);
    return { issuer: payload.iss as string, ...(subject === undefined ? {} : { subject }), ...(sessionId === undefined ? {} : { sessionId }) };
  }

  private jwks(uri: string): JWTVerifyGetKey {
    const { dispatcher, timeoutMs } = this.settings;
    this.keys ??= createRemoteJWKSet(new URL(uri), {
      timeoutDuration: timeoutMs,
      [customFetch]: (url, options) => fetch(url, { ...(options as object), dispatcher, redirect: 'error' }) as unknown as Promise<Response>,
    });
    return this.keys;
  }
}
