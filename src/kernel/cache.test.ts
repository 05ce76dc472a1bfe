import { describe, expect, it } from 'vitest';
import type { ChangeFeed } from './changes.js';
import { createReadCache } from './cache.js';

/** A change feed whose emit the test calls by hand. */
function fakeFeed() {
  const listeners = new Map<string, Set<(topic: string) => void>>();
  const feed: ChangeFeed = {
    publish: async () => undefined,
    subscribe(topic, callback) {
      const set = listeners.get(topic) ?? new Set();
      listeners.set(topic, set);
      set.add(callback);
      return () => set.delete(callback);
    },
    start: async () => undefined,
    stop: async () => undefined,
  };
  const emit = (topic: string) => listeners.get(topic)?.forEach((callback) => callback(topic));
  return { feed, emit };
}

describe('createReadCache', () => {
  it('loads once, serves from memory, and reloads after a change under its topic only', async () => {
    const { feed, emit } = fakeFeed();
    const cache = createReadCache<{ n: number }>(feed, 'things', { maxSize: 10 });
    let loads = 0;
    const load = async () => ({ n: ++loads });
    expect(await cache.get('a', load)).toEqual({ n: 1 });
    expect(await cache.get('a', load)).toEqual({ n: 1 });
    expect(cache.peek('a')).toEqual({ n: 1 });
    emit('other');
    expect(await cache.get('a', load)).toEqual({ n: 1 });
    emit('things');
    expect(cache.peek('a')).toBeUndefined();
    expect(await cache.get('a', load)).toEqual({ n: 2 });
  });

  it('shares one load between concurrent callers', async () => {
    const { feed } = fakeFeed();
    const cache = createReadCache<{ n: number }>(feed, 't', { maxSize: 10 });
    let loads = 0;
    const load = () => new Promise<{ n: number }>((resolve) => setTimeout(() => resolve({ n: ++loads }), 10));
    const [a, b] = await Promise.all([cache.get('k', load), cache.get('k', load)]);
    expect(a).toBe(b);
    expect(loads).toBe(1);
  });

  it('does not keep an answer whose load overlapped a change', async () => {
    const { feed, emit } = fakeFeed();
    const cache = createReadCache<{ v: string }>(feed, 't', { maxSize: 10 });
    let release!: () => void;
    const stale = cache.get('k', () => new Promise((resolve) => (release = () => resolve({ v: 'before the write' }))));
    emit('t'); // a write lands while the read is in flight
    release();
    expect(await stale).toEqual({ v: 'before the write' });
    expect(cache.peek('k')).toBeUndefined();
    expect(await cache.get('k', async () => ({ v: 'after' }))).toEqual({ v: 'after' });
  });

  it('honours keep, sizes, a failed load, and close', async () => {
    const { feed, emit } = fakeFeed();
    const cache = createReadCache<number[]>(feed, 't', { maxSize: 5, size: (list) => list.length, keep: (list) => list.length > 0 });
    await cache.get('empty', async () => []);
    expect(cache.peek('empty')).toBeUndefined();
    await cache.get('three', async () => [1, 2, 3]);
    await cache.get('four', async () => [1, 2, 3, 4]);
    expect(cache.peek('three')).toBeUndefined(); // evicted: 3 + 4 > 5
    await expect(cache.get('bad', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await cache.get('bad', async () => [9])).toEqual([9]);
    cache.close();
    emit('t');
    expect(cache.peek('bad')).toEqual([9]);
  });
});
