import { LRUCache } from 'lru-cache';
import { storeTtlSeconds } from './store-ttl.js';
import { WebAppStore } from './web-app-store.js';

/** Options of {@link MemoryWebAppStore}. */
export interface MemoryWebAppStoreOptions {
  /** Most entries kept (values and sets each count one); the least recently used goes first. Default 100,000. */
  readonly maxEntries?: number;
  /** The clock, ms since the epoch (tests). Default `Date.now`. */
  readonly now?: () => number;
}

type Entry = { readonly value: string } | { readonly members: Set<string> };

/**
 * A {@link WebAppStore} in this process's memory: for development and single-instance apps
 * (sessions end when the process restarts). Bounded by entry count, each entry with its own TTL.
 * Internal.
 */
export class MemoryWebAppStore extends WebAppStore {
  private readonly entries: LRUCache<string, Entry>;

  constructor(options: MemoryWebAppStoreOptions = {}) {
    super();
    const now = options.now ?? Date.now;
    this.entries = new LRUCache<string, Entry>({ max: options.maxEntries ?? 100_000, ttlAutopurge: false, ttlResolution: 0, perf: { now } });
  }

  async get(key: string): Promise<string | undefined> {
    const entry = this.entries.get(key);
    return entry && 'value' in entry ? entry.value : undefined;
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    this.entries.set(key, { value }, { ttl: ttl(ttlSeconds) });
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }

  async addMember(key: string, member: string, ttlSeconds: number): Promise<void> {
    const entry = this.entries.get(key);
    const members = entry && 'members' in entry ? entry.members : new Set<string>();
    members.add(member);
    // A set lives as long as its longest-lived member needs: extend, never shorten.
    const remaining = entry ? this.entries.getRemainingTTL(key) : 0;
    this.entries.set(key, { members }, { ttl: Math.max(remaining, ttl(ttlSeconds)) });
  }

  async removeMember(key: string, member: string): Promise<void> {
    const entry = this.entries.get(key);
    if (entry && 'members' in entry) entry.members.delete(member);
  }

  async members(key: string): Promise<readonly string[]> {
    const entry = this.entries.get(key);
    return entry && 'members' in entry ? [...entry.members] : [];
  }
}

const ttl = (seconds: number): number => storeTtlSeconds(seconds) * 1000;
