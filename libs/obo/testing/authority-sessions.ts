import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseCookie, stringifySetCookie } from 'cookie';
import { LRUCache } from 'lru-cache';

/** The local authority's own browser session (Entra's ESTSAUTH cookie): who signed in, when, and how. */
export interface AuthoritySession {
  /** The random value of the session cookie (never in a token). */
  readonly id: string;
  /** Session id (GUID): `sid` of ID tokens and logout tokens. */
  readonly sid: string;
  /** The signed-in user's `oid`. */
  readonly oid: string;
  /** When the user entered their password (seconds since the epoch): `auth_time`. */
  readonly authTime: number;
  /** True once the user approved an MFA prompt in this session. */
  mfa: boolean;
  /** Client ids this session signed into (they get back-channel logout). */
  readonly clients: Set<string>;
}

/** Longest life of an authority session (24 hours). */
const SESSION_TTL_MS = 24 * 3600 * 1000;
/** Most sessions kept; the least recently used go first. */
const MAX_SESSIONS = 10_000;

/**
 * The browser sessions of one local authority. The cookie (`HttpOnly; Secure; SameSite=None;
 * Path=/`) holds only a random id; everything else stays here. Its name carries the port, because
 * browsers share cookies between ports of one host.
 */
export class AuthoritySessions {
  private readonly sessions = new LRUCache<string, AuthoritySession>({ max: MAX_SESSIONS, ttl: SESSION_TTL_MS });

  /** @param cookieName Name of the session cookie. */
  constructor(readonly cookieName: string) {}

  /** Starts a new session for `oid` (a new cookie value: never a fixated one). */
  start(oid: string, mfa = false): AuthoritySession {
    const session: AuthoritySession = { id: randomBytes(32).toString('base64url'), sid: randomUUID(), oid, authTime: Math.floor(Date.now() / 1000), mfa, clients: new Set() };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The live session whose cookie `req` carries, if any. */
  of(req: IncomingMessage): AuthoritySession | undefined {
    const id = parseCookie(req.headers.cookie ?? '')[this.cookieName];
    return id === undefined ? undefined : this.sessions.get(id);
  }

  /** Every live session matching `who` (by `sid` or by user `oid`). */
  find(who: { sid: string } | { oid: string }): AuthoritySession[] {
    return [...this.sessions.values()].filter((s) => ('sid' in who ? s.sid === who.sid : s.oid === who.oid));
  }

  /** Ends a session (its cookie stops working). */
  end(session: AuthoritySession): void {
    this.sessions.delete(session.id);
  }

  /** Sets the session cookie on `res`. */
  setCookie(res: ServerResponse, session: AuthoritySession): void {
    res.appendHeader('set-cookie', stringifySetCookie(this.cookieName, session.id, { httpOnly: true, secure: true, sameSite: 'none', path: '/' }));
  }

  /** Clears the session cookie on `res`. */
  clearCookie(res: ServerResponse): void {
    res.appendHeader('set-cookie', stringifySetCookie(this.cookieName, '', { httpOnly: true, secure: true, sameSite: 'none', path: '/', maxAge: 0 }));
  }
}
