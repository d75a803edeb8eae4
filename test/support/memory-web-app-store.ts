// A tiny Map-backed WebAppStore for the sign-in client's tests (the real memory and Redis stores are
// another part of issue 12). Entries expire by the clock it is given.
import { WebAppStore } from '../../libs/obo/src/web-app/session/web-app-store.js';

export class MapWebAppStore extends WebAppStore {
  readonly values = new Map<string, { value: string; until: number }>();
  readonly sets = new Map<string, Set<string>>();

  constructor(private readonly now: () => number = Date.now) {
    super();
  }

  override async get(key: string): Promise<string | undefined> {
    const entry = this.values.get(key);
    return entry && entry.until > this.now() ? entry.value : undefined;
  }

  override async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    this.values.set(key, { value, until: this.now() + ttlSeconds * 1000 });
  }

  override async delete(key: string): Promise<void> {
    this.values.delete(key);
  }

  override async addMember(key: string, member: string): Promise<void> {
    this.sets.set(key, (this.sets.get(key) ?? new Set()).add(member));
  }

  override async removeMember(key: string, member: string): Promise<void> {
    this.sets.get(key)?.delete(member);
  }

  override async members(key: string): Promise<readonly string[]> {
    return [...(this.sets.get(key) ?? [])];
  }
}
