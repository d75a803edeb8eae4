import { setTimeout as sleep } from 'node:timers/promises';
import { resolveOboOptions } from '../../options/resolve-obo-options.js';
import type { TokenAcquisitionOptions } from '../../options/obo-module-options.interface.js';
import { tokenCacheKey } from './cache-key.js';
import { TokenCache } from './token-cache.js';
import type { CachedToken } from './token-cache-store.interface.js';

function cacheWith(settings: TokenAcquisitionOptions): TokenCache {
  return new TokenCache(
    resolveOboOptions({ tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47', clientId: '6e74172b-be56-4843-9ff4-e66a39bb12e3', tokenAcquisition: settings }),
  );
}

function token(name: string, lifetimeMs: number): CachedToken {
  return { accessToken: name, expiresOn: Date.now() + lifetimeMs, scopes: ['api://x/Read'] };
}

describe('tokenCacheKey', () => {
  const base = { kind: 'user' as const, assertion: 'eyJ.a.b', tenantId: 't1', scopes: ['b', 'a'] };

  it('does not depend on scope order', () => {
    expect(tokenCacheKey(base)).toBe(tokenCacheKey({ ...base, scopes: ['a', 'b'] }));
  });

  it.each([
    ['assertion', { assertion: 'eyJ.a.c' }],
    ['tenant', { tenantId: 't2' }],
    ['scopes', { scopes: ['a'] }],
    ['claims', { claims: '{"access_token":{}}' }],
    ['kind', { kind: 'app' as const }],
  ])('changes with the %s', (_part, change) => {
    expect(tokenCacheKey({ ...base, ...change })).not.toBe(tokenCacheKey(base));
  });

  it('holds no user data or token text', () => {
    const key = tokenCacheKey(base);
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(key).not.toContain('eyJ');
  });
});

describe('TokenCache', () => {
  it('makes one acquisition for 50 concurrent misses of one key (single flight)', async () => {
    const cache = cacheWith({ refreshMarginSeconds: 0, refreshAheadSeconds: 0 });
    let calls = 0;
    const acquire = async () => {
      calls++;
      await sleep(20);
      return token('t', 60_000);
    };
    const results = await Promise.all(Array.from({ length: 50 }, () => cache.getOrAcquire('k', acquire)));
    expect(calls).toBe(1);
    expect(new Set(results.map((r) => r.token.accessToken))).toEqual(new Set(['t']));
    expect((await cache.getOrAcquire('k', acquire)).fromCache).toBe(true);
    expect(calls).toBe(1);
  });

  it('never hands out a token within the refresh margin of its expiry', async () => {
    const cache = cacheWith({ refreshMarginSeconds: 1, refreshAheadSeconds: 0 });
    let n = 0;
    const acquire = async () => token(`t${++n}`, 1_300);
    expect((await cache.getOrAcquire('k', acquire)).token.accessToken).toBe('t1');
    expect((await cache.getOrAcquire('k', acquire)).fromCache).toBe(true);
    await sleep(400); // t1 now expires in under 1 s: inside the margin
    const after = await cache.getOrAcquire('k', acquire);
    expect(after).toMatchObject({ fromCache: false, token: { accessToken: 't2' } });
  });

  it('renews in the background a token that is close to the margin, while still answering from cache', async () => {
    const cache = cacheWith({ refreshMarginSeconds: 0, refreshAheadSeconds: 60 });
    let n = 0;
    const acquire = async () => token(`t${++n}`, 30_000);
    await cache.getOrAcquire('k', acquire);
    const hit = await cache.getOrAcquire('k', acquire); // 30 s left < 60 s ahead window
    expect(hit).toMatchObject({ fromCache: true, token: { accessToken: 't1' } });
    await sleep(10);
    expect((await cache.getOrAcquire('k', acquire)).token.accessToken).toBe('t2');
  });

  it('keeps at most cacheMaxEntries tokens, dropping the least recently used', async () => {
    const cache = cacheWith({ cacheMaxEntries: 100, refreshMarginSeconds: 0, refreshAheadSeconds: 0 });
    for (let i = 0; i < 1_000; i++) await cache.getOrAcquire(`k${i}`, async () => token(`t${i}`, 60_000));
    expect(cache.size).toBe(100);
    expect((await cache.getOrAcquire('k999', async () => token('new', 60_000))).fromCache).toBe(true);
    expect((await cache.getOrAcquire('k0', async () => token('new', 60_000))).fromCache).toBe(false);
  });

  it('removeOwner drops every token of that user (one, two, after a renewal, after an eviction) and no other user\'s', async () => {
    const cache = cacheWith({});
    const held = async (key: string) => (await cache.getOrAcquire(key, async () => token('again', 3_600_000))).fromCache;
    await cache.getOrAcquire('solo', async () => token('s', 3_600_000), false, 'owner-1');
    await cache.getOrAcquire('a', async () => token('a', 3_600_000), false, 'owner-2');
    await cache.getOrAcquire('b', async () => token('b', 3_600_000), false, 'owner-2');
    await cache.getOrAcquire('b', async () => token('b2', 3_600_000), true, 'owner-2'); // renewed in place
    await cache.getOrAcquire('c', async () => token('c', 3_600_000), false, 'owner-3');
    await cache.getOrAcquire('d', async () => token('d', 3_600_000), false, 'owner-3');
    await cache.evict('c');
    await cache.getOrAcquire('e', async () => token('e', 3_600_000), false, 'bystander');
    await cache.removeOwner('owner-1');
    await cache.removeOwner('owner-2');
    await cache.removeOwner('owner-3');
    expect(cache.size).toBe(1);
    expect(await held('e')).toBe(true);
    for (const key of ['solo', 'a', 'b', 'd']) expect(await held(key)).toBe(false);
  });

  it('does not cache a failed acquisition: the next caller tries again', async () => {
    const cache = cacheWith({});
    await expect(cache.getOrAcquire('k', async () => Promise.reject(new Error('provider down')))).rejects.toThrow('provider down');
    expect((await cache.getOrAcquire('k', async () => token('t', 3_600_000))).fromCache).toBe(false);
  });

  it('forceRefresh skips the cached entry', async () => {
    const cache = cacheWith({});
    await cache.getOrAcquire('k', async () => token('old', 3_600_000));
    const fresh = await cache.getOrAcquire('k', async () => token('new', 3_600_000), true);
    expect(fresh).toMatchObject({ fromCache: false, token: { accessToken: 'new' } });
  });

  it('peek answers a held token synchronously, and nothing for a miss or a token due for refresh ahead', async () => {
    const cache = cacheWith({ refreshMarginSeconds: 60, refreshAheadSeconds: 60 });
    expect(cache.peek('k')).toBeUndefined();
    await cache.getOrAcquire('k', async () => token('long', 3_600_000));
    expect(cache.peek('k')?.accessToken).toBe('long');
    // 90 s left: outside the 60 s margin, inside margin + ahead (120 s): only getOrAcquire may serve it (and renew it).
    await cache.getOrAcquire('due', async () => token('due', 90_000));
    expect(cache.peek('due')).toBeUndefined();
    expect((await cache.getOrAcquire('due', async () => token('renewed', 3_600_000))).fromCache).toBe(true);
    await cache.evict('k');
    expect(cache.peek('k')).toBeUndefined();
  });
});
