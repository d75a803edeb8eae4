import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PendingAuthorization } from '../sign-in/sign-in-client.js';
import type { ResolvedSessionOptions } from './resolve-session-options.js';
import { safeEqual } from './safe-equal.js';
import { readSessionCookie, writeSessionCookie } from './session-cookie.js';
import type { WebAppStore } from './web-app-store.js';
import { MAX_PENDING, parseSession, PENDING_LIFETIME_MS, serializeSession, type SessionData, type WebSession } from './web-session.js';

/** lastSeenAt (and the store's expiry) move at most this often: not a write per request. */
const TOUCH_INTERVAL_MS = 60_000;
/** A user index is pruned of ended sessions once it holds more than this many. */
const PRUNE_ABOVE = 16;
/** At most this many index members are checked per pruning. */
const PRUNE_BATCH = 64;
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const hash = (text: string): string => createHash('sha256').update(text, 'utf8').digest('base64url');
const randomToken = (): string => randomBytes(32).toString('base64url');

/**
 * Server-side sessions of a web app: a random id in an `HttpOnly` cookie, the data in a
 * {@link WebAppStore} under a hash of the id (a store dump yields no usable cookie), idle and
 * absolute timeouts, a new id at sign-in (no fixation), a per-user and per-`sid` index for
 * back-channel logout, and a CSRF token per session. A singleton: no request scope. Never logs.
 * Store failures throw `SessionStoreUnavailableError` (`ERR_OBO_SESSION_STORE_UNAVAILABLE`):
 * sessions fail closed.
 */
export class SessionService {
  constructor(
    private readonly options: ResolvedSessionOptions,
    private readonly store: WebAppStore,
    /** The clock, ms since the epoch (tests). */
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The session named by `req`'s cookie, or `undefined`: no cookie, more than one, a malformed or
   * unknown id, or an ended session (idle or absolute timeout; its record is deleted). Extends the
   * idle timeout at most once a minute.
   * @throws {SessionStoreUnavailableError}
   */
  async load(req: IncomingMessage): Promise<WebSession | undefined> {
    const id = readSessionCookie(req, this.options.cookieName);
    if (id === undefined || !SESSION_ID.test(id)) return undefined;
    const key = `session:${hash(id)}`;
    const text = await this.store.get(key);
    if (text === undefined) return undefined;
    const data = parseSession(text);
    const now = this.now();
    if (!data || this.hasEnded(data, now)) {
      await this.store.delete(key);
      if (data) await this.unindex(key, data);
      return undefined;
    }
    const session: WebSession = { ...data, key, pending: livePending(data.pending, now) };
    if (now - session.lastSeenAt >= TOUCH_INTERVAL_MS) {
      session.lastSeenAt = now;
      await this.write(session);
    }
    return session;
  }

  /** A new anonymous session (for a sign-in in flight), stored, its cookie set on `res`. @throws {SessionStoreUnavailableError} */
  async start(res: ServerResponse): Promise<WebSession> {
    const now = this.now();
    const id = randomToken();
    const session: WebSession = {
      key: `session:${hash(id)}`,
      createdAt: now,
      lastSeenAt: now,
      absoluteExpiresAt: now + this.options.absoluteTimeoutSeconds * 1000,
      csrfToken: randomToken(),
      pending: [],
    };
    await this.write(session);
    writeSessionCookie(res, this.options, id, this.options.absoluteTimeoutSeconds);
    return session;
  }

  /**
   * Moves `session` to a new id (call it at sign-in, after setting `account`): a new cookie, a new
   * CSRF token, the absolute timeout counted from now, the old record deleted, so an id an
   * attacker planted before sign-in is worth nothing after it. Mutates `session`.
   * @throws {SessionStoreUnavailableError}
   */
  async rotate(session: WebSession, res: ServerResponse): Promise<void> {
    const now = this.now();
    const oldKey = session.key;
    const id = randomToken();
    const moved = session as Mutable<WebSession>;
    moved.key = `session:${hash(id)}`;
    moved.csrfToken = randomToken();
    moved.lastSeenAt = now;
    moved.absoluteExpiresAt = now + this.options.absoluteTimeoutSeconds * 1000;
    await this.write(session);
    await this.store.delete(oldKey);
    await this.unindex(oldKey, session);
    await this.index(session);
    writeSessionCookie(res, this.options, id, this.options.absoluteTimeoutSeconds);
  }

  /** Stores `session` as it is now (and indexes it when it has an account). @throws {SessionStoreUnavailableError} */
  async save(session: WebSession): Promise<void> {
    session.lastSeenAt = this.now();
    await this.write(session);
    await this.index(session);
  }

  /** Ends `session`: its record and index entries deleted, the cookie cleared (`Max-Age=0`). @throws {SessionStoreUnavailableError} */
  async destroy(session: WebSession, res: ServerResponse): Promise<void> {
    await this.store.delete(session.key);
    await this.unindex(session.key, session);
    writeSessionCookie(res, this.options, '', 0);
  }

  /** Ends every session of the user with `accountKey`; how many there were. @throws {SessionStoreUnavailableError} */
  destroyForUser(accountKey: string): Promise<number> {
    return this.destroyIndexed(`user:${hash(accountKey)}`);
  }

  /** Ends every session signed in through the authority session `sid` of `issuer` (back-channel logout); how many. @throws {SessionStoreUnavailableError} */
  destroyForSessionId(issuer: string, sid: string): Promise<number> {
    return this.destroyIndexed(sidIndex(issuer, sid));
  }

  /** Ends every session of `subject` at `issuer` (back-channel logout by `sub`); how many. @throws {SessionStoreUnavailableError} */
  destroyForSubject(issuer: string, subject: string): Promise<number> {
    return this.destroyIndexed(subIndex(issuer, subject));
  }

  /** Adds a sign-in in flight: sign-ins older than 10 minutes are dropped, the newest 5 kept. Call {@link save} after. */
  addPending(session: WebSession, pending: PendingAuthorization): void {
    session.pending = [...livePending(session.pending, this.now()), pending].slice(-MAX_PENDING);
  }

  /** Removes and returns the sign-in in flight with `state` (once: a replayed state finds nothing), if not older than 10 minutes. Call {@link save} after. */
  takePending(session: WebSession, state: string): PendingAuthorization | undefined {
    session.pending = livePending(session.pending, this.now());
    const index = session.pending.findIndex((p) => safeEqual(p.state, state));
    return index < 0 ? undefined : session.pending.splice(index, 1)[0];
  }

  /**
   * Whether a state-changing request may proceed: `submitted` equals the session's CSRF token
   * (constant time), `Sec-Fetch-Site` is not `cross-site`, and `Origin`, when sent, is the app's.
   */
  verifyCsrf(req: IncomingMessage, session: WebSession, submitted: string | undefined): boolean {
    if (req.headers['sec-fetch-site'] === 'cross-site') return false;
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== this.options.appOrigin) return false;
    return typeof submitted === 'string' && safeEqual(submitted, session.csrfToken);
  }

  private hasEnded(data: SessionData, now: number): boolean {
    return now >= data.absoluteExpiresAt || now >= data.lastSeenAt + this.idleLimitMs(data);
  }

  /**
   * How long `data` lives unused, in ms: the idle timeout; a session nobody signed in to only carries
   * sign-ins in flight, so it lives as long as they may (10 minutes), and a flood of sign-in starts
   * cannot hold store space for the whole idle timeout.
   */
  private idleLimitMs(data: SessionData): number {
    const idle = this.options.idleTimeoutSeconds * 1000;
    return data.account === undefined ? Math.min(idle, PENDING_LIFETIME_MS) : idle;
  }

  /** Stores the record until its idle or absolute end, whichever comes first. */
  private async write(session: WebSession): Promise<void> {
    const end = Math.min(session.lastSeenAt + this.idleLimitMs(session), session.absoluteExpiresAt);
    await this.store.set(session.key, serializeSession(session), Math.max(1, Math.ceil((end - this.now()) / 1000)));
  }

  private indexesOf(data: SessionData): string[] {
    const account = data.account;
    if (!account) return [];
    const keys = [`user:${hash(account.accountKey)}`, subIndex(account.issuer, account.subject)];
    if (account.sessionId) keys.push(sidIndex(account.issuer, account.sessionId));
    return keys;
  }

  private async index(session: WebSession): Promise<void> {
    const ttl = Math.max(1, Math.ceil((session.absoluteExpiresAt - this.now()) / 1000));
    const member = memberOf(session.key);
    for (const index of this.indexesOf(session)) {
      await this.store.addMember(index, member, ttl);
      await this.prune(index);
    }
  }

  private async unindex(key: string, data: SessionData): Promise<void> {
    for (const index of this.indexesOf(data)) await this.store.removeMember(index, memberOf(key));
  }

  /** Drops members whose session has ended, so a user who signs in daily does not grow an index forever. */
  private async prune(index: string): Promise<void> {
    const members = await this.store.members(index);
    if (members.length <= PRUNE_ABOVE) return;
    for (const member of members.slice(0, PRUNE_BATCH)) {
      if ((await this.store.get(`session:${member}`)) === undefined) await this.store.removeMember(index, member);
    }
  }

  private async destroyIndexed(index: string): Promise<number> {
    let ended = 0;
    for (const member of await this.store.members(index)) {
      const key = `session:${member}`;
      if ((await this.store.get(key)) !== undefined) ended++;
      await this.store.delete(key);
    }
    await this.store.delete(index);
    return ended;
  }
}

const memberOf = (key: string): string => key.slice('session:'.length);
const sidIndex = (issuer: string, sid: string): string => `sid:${hash(issuer)}:${hash(sid)}`;
const subIndex = (issuer: string, subject: string): string => `sub:${hash(issuer)}:${hash(subject)}`;

function livePending(pending: readonly PendingAuthorization[], now: number): PendingAuthorization[] {
  return pending.filter((p) => now - p.createdAt < PENDING_LIFETIME_MS).slice(-MAX_PENDING);
}
