import type { PendingAuthorization, SignedInAccount } from '../sign-in/sign-in-client.js';

/** At most this many sign-ins in flight per session; the newest are kept. */
export const MAX_PENDING = 5;
/** A sign-in in flight is refused after this long (ms). */
export const PENDING_LIFETIME_MS = 10 * 60_000;

/** What a session holds, as stored (JSON). Times are ms since the epoch. Never an access or refresh token. */
export interface SessionData {
  readonly createdAt: number;
  /** Last request seen, updated at most once a minute. */
  lastSeenAt: number;
  /** The session ends at this time however active (sign-in + the absolute timeout). */
  absoluteExpiresAt: number;
  /** This session's CSRF token (32 random bytes, base64url); a new one at sign-in. */
  csrfToken: string;
  /** The signed-in user; absent while signed out or signing in. */
  account?: SignedInAccount;
  /** Sign-ins in flight, newest last (at most {@link MAX_PENDING}, each for {@link PENDING_LIFETIME_MS}). */
  pending: PendingAuthorization[];
}

/** A loaded session. Pass this object (not a copy) back to the `SessionService`. */
export interface WebSession extends SessionData {
  /** The store key: `session:` + SHA-256 of the cookie's id. Not the cookie; useless as one. */
  readonly key: string;
}

/** The stored text of `data`. */
export function serializeSession(data: SessionData): string {
  const { createdAt, lastSeenAt, absoluteExpiresAt, csrfToken, account, pending } = data;
  return JSON.stringify({ createdAt, lastSeenAt, absoluteExpiresAt, csrfToken, account, pending });
}

/** The session data in `text`, or `undefined` when it is not one (the caller deletes it). */
export function parseSession(text: string): SessionData | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined; // not ours: reads as no session
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const times = [v.createdAt, v.lastSeenAt, v.absoluteExpiresAt].every((t) => typeof t === 'number' && Number.isFinite(t));
  const account = v.account === undefined || (typeof v.account === 'object' && v.account !== null && typeof (v.account as SignedInAccount).accountKey === 'string');
  if (!times || typeof v.csrfToken !== 'string' || !Array.isArray(v.pending) || !account) return undefined;
  return {
    createdAt: v.createdAt as number,
    lastSeenAt: v.lastSeenAt as number,
    absoluteExpiresAt: v.absoluteExpiresAt as number,
    csrfToken: v.csrfToken,
    account: v.account as SignedInAccount | undefined,
    pending: v.pending as PendingAuthorization[],
  };
}
