/** How many client-assertion `jti` values {@link ClientAssertionReplay} remembers at most. */
export const MAX_REMEMBERED_ASSERTIONS = 10_000;

/**
 * The `jti` values of client assertions already used (RFC 7523 §3 item 7: the authorization server
 * may refuse a reused `jti`), remembered until the assertion's `exp`, at most
 * {@link MAX_REMEMBERED_ASSERTIONS} (the oldest is forgotten first).
 */
export class ClientAssertionReplay {
  private readonly seen = new Map<string, number>();

  /** Records `jti` of `clientId` valid until `exp` (epoch seconds); false when it was seen before. */
  firstUse(clientId: string, jti: string, exp: number): boolean {
    const now = Math.floor(Date.now() / 1000);
    for (const [key, until] of this.seen) if (until <= now) this.seen.delete(key);
    const key = JSON.stringify([clientId, jti]);
    if (this.seen.has(key)) return false;
    this.seen.set(key, exp);
    if (this.seen.size > MAX_REMEMBERED_ASSERTIONS) this.seen.delete(this.seen.keys().next().value!);
    return true;
  }
}
