import { createEncoder, type Encoding } from './clk.js';
import { createLinkageIndex } from './linkage.js';
import { pairKey, truthPairs, type SyntheticPerson } from './synthetic.js';

/*
 * Linkage quality on people with known truth: encode, block, compare, and count the pairs found
 * against the truth pairs at each threshold. PURE, like clk.ts: the tests and bench/dedup.js use it.
 */

export type ThresholdResult = {
  readonly threshold: number;
  readonly truePositives: number;
  readonly falsePositives: number;
  readonly falseNegatives: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
};

export type LinkageEvaluation = {
  readonly people: number;
  readonly truthPairs: number;
  /** Truth pairs that share at least one blocking key (the most recall blocking allows). */
  readonly blockingRecall: number;
  /** Comparisons made (match weights computed), against `allPairs` without blocking. */
  readonly comparisons: number;
  readonly allPairs: number;
  readonly results: readonly ThresholdResult[];
  readonly encodeMs: number;
  readonly matchMs: number;
};

export const DEFAULT_THRESHOLDS: readonly number[] = [0.2, 0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.99];

/**
 * Registers `people` in order into one blocking index (as the server does), each matched against
 * those before it, and scores every pair at or above the lowest threshold.
 */
export function evaluateLinkage(
  people: readonly SyntheticPerson[],
  options: { key: Uint8Array; thresholds?: readonly number[] },
): LinkageEvaluation {
  const thresholds = [...(options.thresholds ?? DEFAULT_THRESHOLDS)].sort((a, b) => a - b);
  const floor = thresholds[0] ?? 0.5;
  const encoder = createEncoder(options.key);
  const index = createLinkageIndex(people.length);

  let started = performance.now();
  const encodings: Encoding[] = [];
  const probes: Uint32Array[] = [];
  for (const p of people) {
    encodings.push(encoder.encode(p.person));
    probes.push(encoder.probeKeys(p.person));
  }
  const encodeMs = performance.now() - started;

  started = performance.now();
  const found = new Map<string, number>();
  people.forEach((p, i) => {
    for (const match of index.match(encodings[i]!, probes[i]!, floor)) found.set(pairKey(p.id, match.id), match.score);
    index.put(p.id, encodings[i]!);
  });
  const matchMs = performance.now() - started;

  const truth = truthPairs(people);
  const position = new Map(people.map((p, i) => [p.id, i]));
  let blocked = 0;
  for (const pair of truth) {
    const [a, b] = pair.split('|').map((id) => position.get(id)!) as [number, number];
    const [earlier, later] = a < b ? [a, b] : [b, a];
    const filed = new Set(encodings[earlier]!.blocks);
    if (probes[later]!.some((key) => filed.has(key))) blocked++;
  }

  const results = thresholds.map((threshold) => {
    let tp = 0;
    let fp = 0;
    for (const [pair, score] of found) {
      if (score < threshold) continue;
      if (truth.has(pair)) tp++;
      else fp++;
    }
    const fn = truth.size - tp;
    const precision = tp + fp === 0 ? 1 : tp / (tp + fp);
    const recall = truth.size === 0 ? 1 : tp / truth.size;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    return { threshold, truePositives: tp, falsePositives: fp, falseNegatives: fn, precision, recall, f1 };
  });

  return {
    people: people.length,
    truthPairs: truth.size,
    blockingRecall: truth.size === 0 ? 1 : blocked / truth.size,
    comparisons: index.comparisons,
    allPairs: (people.length * (people.length - 1)) / 2,
    results,
    encodeMs,
    matchMs,
  };
}

/** The evaluation as a small Markdown table. */
export function formatEvaluation(evaluation: LinkageEvaluation): string {
  const lines = [
    `${evaluation.people} people, ${evaluation.truthPairs} truth pairs; blocking keeps ${(evaluation.blockingRecall * 100).toFixed(2)}% of them; ` +
      `${evaluation.comparisons} comparisons instead of ${evaluation.allPairs} (${((evaluation.comparisons / evaluation.allPairs) * 100).toFixed(3)}%)`,
    '',
    '| threshold | precision | recall | F1 | TP | FP | FN |',
    '|---:|---:|---:|---:|---:|---:|---:|',
    ...evaluation.results.map(
      (r) =>
        `| ${r.threshold.toFixed(2)} | ${r.precision.toFixed(4)} | ${r.recall.toFixed(4)} | ${r.f1.toFixed(4)} | ${r.truePositives} | ${r.falsePositives} | ${r.falseNegatives} |`,
    ),
  ];
  return lines.join('\n');
}
