import { FIELDS, WORDS, scoreOf, weightAt, weightOf, type Encoding } from './clk.js';

/*
 * An in-memory blocking index of encodings: what the server keeps per (tenant, program) and what
 * a field device builds from its download. PURE (no node:*, no Plinth imports), like clk.ts.
 *
 * Encodings sit in one flat Uint32Array (32 words each, their field cardinalities in another) so
 * the comparison loop walks contiguous memory; each blocking key maps to the slots filed under it.
 * A query visits the slots of its probe keys once each (a generation stamp per slot drops
 * repeats) and computes the match weight (clk.ts weightAt) only there.
 */

export type Match = { readonly id: string; readonly score: number };

export type LinkageIndex = {
  readonly size: number;
  /** Comparisons (match weights computed) made so far, for reports. */
  readonly comparisons: number;
  has(id: string): boolean;
  /** Adds or replaces the record's encoding. */
  put(id: string, encoding: Encoding): void;
  remove(id: string): void;
  /** Records filed under any of `probeKeys` whose score (clk.ts similarity) with `encoding` is ≥ threshold, best first; `exclude` is skipped. */
  match(encoding: Encoding, probeKeys: Uint32Array, threshold: number, exclude?: string): Match[];
};

export function createLinkageIndex(initialCapacity = 1024): LinkageIndex {
  let capacity = Math.max(16, initialCapacity);
  let pool = new Uint32Array(capacity * WORDS);
  let cards = new Uint16Array(capacity * FIELDS.length);
  let stamps = new Uint32Array(capacity);
  let generation = 0;
  let comparisons = 0;
  const ids: Array<string | undefined> = [];
  const blocksOf: Array<Uint32Array | undefined> = [];
  const slotOf = new Map<string, number>();
  const free: number[] = [];
  const postings = new Map<number, number[]>();

  function grow() {
    capacity *= 2;
    const nextPool = new Uint32Array(capacity * WORDS);
    nextPool.set(pool);
    pool = nextPool;
    const nextCards = new Uint16Array(capacity * FIELDS.length);
    nextCards.set(cards);
    cards = nextCards;
    const nextStamps = new Uint32Array(capacity);
    nextStamps.set(stamps);
    stamps = nextStamps;
  }

  function remove(id: string) {
    const slot = slotOf.get(id);
    if (slot === undefined) return;
    for (const key of blocksOf[slot] ?? []) {
      const list = postings.get(key);
      if (!list) continue;
      const at = list.indexOf(slot);
      if (at >= 0) {
        list[at] = list[list.length - 1]!;
        list.pop();
      }
      if (list.length === 0) postings.delete(key);
    }
    slotOf.delete(id);
    ids[slot] = undefined;
    blocksOf[slot] = undefined;
    free.push(slot);
  }

  return {
    get size() {
      return slotOf.size;
    },
    get comparisons() {
      return comparisons;
    },
    has: (id) => slotOf.has(id),
    put(id, encoding) {
      remove(id);
      let slot = free.pop();
      if (slot === undefined) {
        slot = ids.length;
        if (slot >= capacity) grow();
        ids.push(undefined);
        blocksOf.push(undefined);
      }
      pool.set(encoding.clk, slot * WORDS);
      cards.set(encoding.cardinalities, slot * FIELDS.length);
      ids[slot] = id;
      blocksOf[slot] = encoding.blocks;
      slotOf.set(id, slot);
      for (const key of new Set(encoding.blocks)) {
        const list = postings.get(key);
        if (list) list.push(slot);
        else postings.set(key, [slot]);
      }
    },
    remove,
    match(encoding, probeKeys, threshold, exclude) {
      generation = (generation + 1) >>> 0;
      if (generation === 0) {
        stamps.fill(0);
        generation = 1;
      }
      const out: Match[] = [];
      const floor = weightOf(threshold);
      for (const key of probeKeys) {
        const list = postings.get(key);
        if (!list) continue;
        for (const slot of list) {
          if (stamps[slot] === generation) continue;
          stamps[slot] = generation;
          comparisons++;
          const weight = weightAt(pool, slot * WORDS, cards, slot * FIELDS.length, encoding.clk, encoding.cardinalities);
          if (weight >= floor) {
            const id = ids[slot]!;
            if (id !== exclude) out.push({ id, score: scoreOf(weight) });
          }
        }
      }
      return out.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
    },
  };
}
