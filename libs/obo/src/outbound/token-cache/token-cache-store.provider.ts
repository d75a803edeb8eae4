import type { FactoryProvider } from '@nestjs/common';
import { RESOLVED_OBO_OPTIONS } from '../../options/obo-options.constants.js';
import type { ResolvedOboOptions } from '../../options/resolve-obo-options.js';
import { RedisTokenCacheStore } from './redis/redis-token-cache.store.js';
import { TOKEN_CACHE_STORE, type TokenCacheStore } from './token-cache-store.interface.js';

/** The Redis second level when `distributedCache` is configured, else none. */
export const tokenCacheStoreProvider: FactoryProvider<TokenCacheStore | null> = {
  provide: TOKEN_CACHE_STORE,
  inject: [RESOLVED_OBO_OPTIONS],
  useFactory: async (options: ResolvedOboOptions) => {
    if (!options.distributedCache) return null;
    const store = new RedisTokenCacheStore(options.distributedCache);
    await store.start();
    return store;
  },
};
