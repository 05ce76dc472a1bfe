import { LRUCache } from 'lru-cache';
import type { ChangeFeed } from './changes.js';

/** A read-through cache emptied whenever the change feed reports a write under its topic. */
export type ReadCache<V extends object> = {
  /** The cached value, or undefined: for hot paths that want to skip a promise. */
  peek(key: string): V | undefined;
  /** The cached value, else `load()`'s; concurrent loads of one key share one call. */
  get(key: string, load: () => Promise<V>): Promise<V>;
  clear(): void;
  /** Stops listening to the change feed. */
  close(): void;
};

export type ReadCacheOptions<V> = {
  /** Most entries kept, or most total `size` when `size` is given. */
  maxSize: number;
  size?: (value: V) => number;
  /** Values for which this answers false are returned but not kept. */
  keep?: (value: V) => boolean;
};

/**
* One place for the caching rule every read path follows: answers are kept until a write under
 * one of `topics` (in this process or, through the feed, in another), and a load that overlapped such a
 * write returns its answer without keeping it, so the cache never holds what the write replaced.
 */
export function createReadCache<V extends object>(changes: ChangeFeed, topics: string | readonly string[], options: ReadCacheOptions<V>): ReadCache<V> {
  const size = options.size;
  const values = size
    ? new LRUCache<string, V>({ maxSize: options.maxSize, sizeCalculation: (value) => Math.max(1, size(value)) })
    : new LRUCache<string, V>({ max: options.maxSize });
  const loading = new Map<string, Promise<V>>();
  let generation = 0;
  const clear = () => {
    generation++;
    values.clear();
    loading.clear();
  };
  // The feed also hands '*' (another process wrote, or its LISTEN connection was lost) to every topic's listeners.
  const unsubscribe = [topics].flat().map((topic) => changes.subscribe(topic, clear));
  const close = () => unsubscribe.forEach((stop) => stop());

  return {
    peek: (key) => values.get(key),
    get(key, load) {
      const hit = values.get(key);
      if (hit !== undefined) return Promise.resolve(hit);
      const pending = loading.get(key);
      if (pending) return pending;
      const startedAt = generation;
      const promise = load()
        .then((value) => {
          if (generation === startedAt && (options.keep?.(value) ?? true)) values.set(key, value);
          return value;
        })
        .finally(() => {
          if (loading.get(key) === promise) loading.delete(key);
        });
      loading.set(key, promise);
      return promise;
    },
    clear,
    close,
  };
}
