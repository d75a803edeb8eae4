/**
 * Server-side storage for a web app: sessions, the per-user index that back-channel logout uses,
 * and each user's token cache partition. Values are opaque text (the caller's JSON); the Redis
 * implementation seals every value (AES-256-GCM, the key as associated data) and a value that fails
 * to open reads as absent. Keys are the caller's, namespaced (`session:`, `user:`, `tokens:`); the
 * caller never passes a session id in clear (it passes a hash of it). Internal.
 */
export abstract class WebAppStore {
  /** The value at `key`, or `undefined` (absent, expired, or not ours). */
  abstract get(key: string): Promise<string | undefined>;
  /** Stores `value` at `key` for `ttlSeconds` (whole seconds, >= 1). */
  abstract set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** Deletes `key` (no error when absent). */
  abstract delete(key: string): Promise<void>;
  /** Adds `member` to the set at `key`, keeping the set at least `ttlSeconds` longer. */
  abstract addMember(key: string, member: string, ttlSeconds: number): Promise<void>;
  /** Removes `member` from the set at `key`. */
  abstract removeMember(key: string, member: string): Promise<void>;
  /** The members of the set at `key` (empty when absent). */
  abstract members(key: string): Promise<readonly string[]>;
}
