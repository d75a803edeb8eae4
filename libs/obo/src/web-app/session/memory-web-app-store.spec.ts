import { MemoryWebAppStore } from './memory-web-app-store.js';

function clocked(maxEntries?: number) {
  let now = 1_700_000_000_000;
  const store = new MemoryWebAppStore({ maxEntries, now: () => now });
  return { store, advance: (ms: number) => void (now += ms) };
}

describe('MemoryWebAppStore', () => {
  it('keeps a value until its own TTL, then reads it as absent', async () => {
    const { store, advance } = clocked();
    await store.set('session:a', 'one', 60);
    await store.set('session:b', 'two', 120);
    advance(59_999);
    expect(await store.get('session:a')).toBe('one');
    advance(2);
    expect(await store.get('session:a')).toBeUndefined();
    expect(await store.get('session:b')).toBe('two');
  });

  it('deletes a value, and deleting an absent key is no error', async () => {
    const { store } = clocked();
    await store.set('session:a', 'one', 60);
    await store.delete('session:a');
    await store.delete('session:never');
    expect(await store.get('session:a')).toBeUndefined();
  });

  it('holds at most maxEntries, dropping the least recently used first', async () => {
    const { store } = clocked(2);
    await store.set('session:a', 'a', 60);
    await store.set('session:b', 'b', 60);
    await store.get('session:a');
    await store.set('session:c', 'c', 60);
    expect(await store.get('session:b')).toBeUndefined();
    expect(await store.get('session:a')).toBe('a');
    expect(await store.get('session:c')).toBe('c');
  });

  it('keeps sets: members added once, removed, listed; an absent set is empty', async () => {
    const { store } = clocked();
    await store.addMember('user:u', 's1', 60);
    await store.addMember('user:u', 's2', 60);
    await store.addMember('user:u', 's1', 60);
    await store.removeMember('user:u', 's2');
    await store.removeMember('user:absent', 's2');
    expect(await store.members('user:u')).toEqual(['s1']);
    expect(await store.members('user:absent')).toEqual([]);
  });

  it('extends a set to its longest-lived member and never shortens it', async () => {
    const { store, advance } = clocked();
    await store.addMember('user:u', 's1', 600);
    await store.addMember('user:u', 's2', 60);
    advance(599_000);
    expect(await store.members('user:u')).toEqual(['s1', 's2']);
    await store.addMember('user:u', 's3', 120);
    advance(119_000);
    expect(await store.members('user:u')).toHaveLength(3);
    advance(1_001);
    expect(await store.members('user:u')).toEqual([]);
  });

  it('does not read a set as a value or a value as a set', async () => {
    const { store } = clocked();
    await store.set('k', 'v', 60);
    await store.addMember('s', 'm', 60);
    expect(await store.members('k')).toEqual([]);
    expect(await store.get('s')).toBeUndefined();
  });

  it('refuses a TTL that is not whole seconds >= 1', async () => {
    const { store } = clocked();
    await expect(store.set('k', 'v', 0)).rejects.toThrow(RangeError);
    await expect(store.addMember('k', 'v', 1.5)).rejects.toThrow(RangeError);
  });
});
