import { MemoryWebAppStore } from './memory-web-app-store.js';
import { RedisWebAppStore } from './redis-web-app-store.js';
import type { ResolvedSessionOptions } from './resolve-session-options.js';

/**
 * The store `options.store` names: memory, or Redis (call `start()` at startup and `stop()` at
 * shutdown on a {@link RedisWebAppStore}). Internal.
 */
export function createWebAppStore(options: ResolvedSessionOptions): MemoryWebAppStore | RedisWebAppStore {
  return options.store === 'memory' ? new MemoryWebAppStore() : new RedisWebAppStore(options.store);
}
