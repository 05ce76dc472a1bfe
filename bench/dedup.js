// Deduplication benchmark (the `dedup` suite): `npm run bench -- dedup`, or alone `node bench/dedup.js`
// after `npm run build` (it runs the BUILT code in dist/).
//
// (a) Accuracy: 10,000 synthetic people (10% corrupted duplicates) per seed, encoded under one key,
//     blocked and compared as the server registers them; precision / recall / F1 against the known
//     truth. The scheme's weights and default threshold were tuned on TUNING_SEEDS only; the
//     HELD_OUT seeds were never looked at while tuning. Printed: each seed at the default threshold,
//     then mean and minimum over all seeds across thresholds.
// (b) Speed of a 20,000 × 20,000 linkage (40,000 synthetic people split in two halves):
//       - encoding: encodings per second (field-level Bloom filters, keyed HMAC);
//       - all pairs: 400 M comparisons (clk.ts weightAt: one popcount of A AND B per word, a table
//         look-up per field), as comparisons per second, next to a BASELINE measured in the same run
//         on the same Uint32Arrays: the plain XOR-popcount loop (Hamming distance) over the same
//         pairs. The ratio to the baseline is what to compare across machines;
//       - with blocking: the index of A probed by every record of B: wall time, comparisons made
//         and candidate pairs at the default threshold.
// `node bench/dedup.js --fit` instead re-derives the scheme's bias and weights (a logistic
// regression on the candidate pairs of the tuning seeds, knots as in CLK_SCHEME.weights) and prints
// them with their precision / recall on every seed.
// Knobs: BENCH_DEDUP_PAIRS_B (records of B in the all-pairs runs, default 20000: lower it for a
//        quick look; the rate is per comparison either way); BENCH_DEDUP_SEEDS (comma-separated
//        seeds for (a), default all of TUNING_SEEDS and HELD_OUT).

import { fileURLToPath } from 'node:url';
import {
  CLK_SCHEME,
  DEFAULT_THRESHOLD,
  FIELDS,
  TERMS,
  WORDS,
  createEncoder,
  popcount32,
  termSimilarities,
  weightAt,
  weightOf,
} from '../dist/domain/dedup/clk.js';
import { DEFAULT_THRESHOLDS, evaluateLinkage } from '../dist/domain/dedup/evaluate.js';
import { createLinkageIndex } from '../dist/domain/dedup/linkage.js';
import { generatePeople, pairKey, truthPairs } from '../dist/domain/dedup/synthetic.js';
import { say } from './harness/config.js';

const KEY = new Uint8Array(32).fill(3);
export const TUNING_SEEDS = [7, 42, 2024];
export const HELD_OUT = [1, 99, 3, 5, 11, 123, 31337];

function pool(encodings) {
  const words = new Uint32Array(encodings.length * WORDS);
  const cards = new Uint16Array(encodings.length * FIELDS.length);
  encodings.forEach((e, i) => {
    words.set(e.clk, i * WORDS);
    cards.set(e.cardinalities, i * FIELDS.length);
  });
  return { words, cards, size: encodings.length };
}

/** The match weight of every pair (a, b), counting those whose score is ≥ threshold. */
function allPairsScore(a, b, bCount, threshold) {
  const clk = new Uint32Array(WORDS);
  const F = FIELDS.length;
  const floor = weightOf(threshold);
  let above = 0;
  for (let j = 0; j < bCount; j++) {
    for (let w = 0; w < WORDS; w++) clk[w] = b.words[j * WORDS + w];
    const cards = b.cards.subarray(j * F, j * F + F);
    for (let i = 0; i < a.size; i++) if (weightAt(a.words, i * WORDS, a.cards, i * F, clk, cards) >= floor) above++;
  }
  return above;
}

/**
 * The baseline: the same loop over the same memory (B's record copied out, A walked in place),
 * with the plainest work per word instead of the match weight: XOR and popcount (Hamming distance).
 */
function allPairsXor(a, b, bCount) {
  const clk = new Uint32Array(WORDS);
  let total = 0;
  for (let j = 0; j < bCount; j++) {
    for (let w = 0; w < WORDS; w++) clk[w] = b.words[j * WORDS + w];
    for (let i = 0; i < a.size; i++) {
      const base = i * WORDS;
      let d = 0;
      for (let w = 0; w < WORDS; w++) d += popcount32(a.words[base + w] ^ clk[w]);
      total += d;
    }
  }
  return total;
}

const time = (fn) => {
  const started = performance.now();
  const value = fn();
  return { value, ms: performance.now() - started };
};

const pct = (x) => (x * 100).toFixed(2);

/** (a): every seed evaluated under KEY; per seed at the default threshold, then mean and min across thresholds. */
function accuracy(seeds, log) {
  const runs = seeds.map((seed) => {
    const { people } = generatePeople({ seed, count: 10_000, duplicateRate: 0.1 });
    return { seed, role: TUNING_SEEDS.includes(seed) ? 'tuning' : 'held out', evaluation: evaluateLinkage(people, { key: KEY }) };
  });
  log(`dedup accuracy (scheme ${CLK_SCHEME.id}, 10,000 people per seed, 10% duplicates), at the default threshold ${DEFAULT_THRESHOLD}:`);
  log('| seed | role | truth pairs | blocking keeps | comparisons | precision | recall | F1 | FP | FN |');
  log('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const { seed, role, evaluation: e } of runs) {
    const r = e.results.find((x) => x.threshold === DEFAULT_THRESHOLD);
    log(
      `| ${seed} | ${role} | ${e.truthPairs} | ${pct(e.blockingRecall)}% | ${e.comparisons} | ${r.precision.toFixed(4)} | ${r.recall.toFixed(4)} | ${r.f1.toFixed(4)} | ${r.falsePositives} | ${r.falseNegatives} |`,
    );
  }
  log('');
  log(`across thresholds, over the ${runs.length} seeds (mean / min):`);
  log('| threshold | precision mean | precision min | recall mean | recall min | F1 mean | F1 min | seeds meeting P ≥ 0.98 and R ≥ 0.95 |');
  log('|---:|---:|---:|---:|---:|---:|---:|---:|');
  const table = DEFAULT_THRESHOLDS.map((threshold) => {
    const at = runs.map((run) => run.evaluation.results.find((x) => x.threshold === threshold));
    const stat = (key) => ({ mean: at.reduce((n, x) => n + x[key], 0) / at.length, min: Math.min(...at.map((x) => x[key])) });
    const row = {
      threshold,
      precision: stat('precision'),
      recall: stat('recall'),
      f1: stat('f1'),
      meeting: at.filter((x) => x.precision >= 0.98 && x.recall >= 0.95).length,
    };
    log(
      `| ${threshold.toFixed(2)}${threshold === DEFAULT_THRESHOLD ? ' (default)' : ''} | ${row.precision.mean.toFixed(4)} | ${row.precision.min.toFixed(4)} | ` +
        `${row.recall.mean.toFixed(4)} | ${row.recall.min.toFixed(4)} | ${row.f1.mean.toFixed(4)} | ${row.f1.min.toFixed(4)} | ${row.meeting}/${runs.length} |`,
    );
    return row;
  });
  return {
    seeds: runs.map(({ seed, role, evaluation: e }) => ({
      seed,
      role,
      truthPairs: e.truthPairs,
      blockingRecall: e.blockingRecall,
      comparisons: e.comparisons,
      allPairs: e.allPairs,
      atDefault: e.results.find((x) => x.threshold === DEFAULT_THRESHOLD),
    })),
    acrossThresholds: table,
  };
}

export async function benchDedup({ log: print = console.log } = {}) {
  // Every line printed also goes into the markdown report that `npm run bench` writes.
  const lines = [];
  const log = (line) => {
    lines.push(line);
    print(line);
  };
  const seeds = process.env.BENCH_DEDUP_SEEDS ? process.env.BENCH_DEDUP_SEEDS.split(',').map(Number) : [...TUNING_SEEDS, ...HELD_OUT];
  const quality = accuracy(seeds, log);

  // (b) 20,000 × 20,000
  const { people: many } = generatePeople({ seed: 8, count: 40_000, duplicateRate: 0.1 });
  const encoder = createEncoder(KEY);
  const encoded = time(() => many.map((p) => encoder.encode(p.person)));
  const probes = many.slice(20_000).map((p) => encoder.probeKeys(p.person));
  const a = pool(encoded.value.slice(0, 20_000));
  const b = pool(encoded.value.slice(20_000));
  const bCount = Math.min(20_000, Number(process.env.BENCH_DEDUP_PAIRS_B ?? 20_000));
  const pairs = a.size * bCount;

  // Warm both loops up on a slice so neither is measured while V8 still compiles it.
  allPairsXor(a, b, 50);
  allPairsScore(a, b, 50, DEFAULT_THRESHOLD);
  const xor = time(() => allPairsXor(a, b, bCount));
  const scored = time(() => allPairsScore(a, b, bCount, DEFAULT_THRESHOLD));

  const index = createLinkageIndex(a.size);
  const built = time(() => encoded.value.slice(0, 20_000).forEach((e, i) => index.put(many[i].id, e)));
  const blocked = time(() => {
    let candidates = 0;
    for (let j = 0; j < 20_000; j++) candidates += index.match(encoded.value[20_000 + j], probes[j], DEFAULT_THRESHOLD).length;
    return candidates;
  });

  const result = {
    accuracy: { scheme: CLK_SCHEME.id, defaultThreshold: DEFAULT_THRESHOLD, ...quality },
    linkage: {
      records: '20000 x 20000',
      encodingsPerSecond: Math.round(many.length / (encoded.ms / 1000)),
      allPairs: {
        comparisons: pairs,
        comparisonsPerSecond: Math.round(pairs / (scored.ms / 1000)),
        baselineXorPopcountPerSecond: Math.round(pairs / (xor.ms / 1000)),
        ratioToBaseline: Number((xor.ms / scored.ms).toFixed(3)),
        pairsAboveThreshold: scored.value,
        seconds: Number((scored.ms / 1000).toFixed(2)),
      },
      blocking: {
        indexBuildSeconds: Number((built.ms / 1000).toFixed(3)),
        seconds: Number((blocked.ms / 1000).toFixed(3)),
        comparisons: index.comparisons,
        shareOfAllPairs: Number((index.comparisons / (a.size * 20_000)).toFixed(5)),
        candidatePairs: blocked.value,
      },
    },
  };
  const l = result.linkage;
  log('');
  log(`dedup linkage ${l.records}: encoding ${l.encodingsPerSecond} encodings/s`);
  log(
    `  all pairs: ${(l.allPairs.comparisons / 1e6).toFixed(0)} M comparisons in ${l.allPairs.seconds} s = ${(l.allPairs.comparisonsPerSecond / 1e6).toFixed(1)} M cmp/s; ` +
      `baseline XOR-popcount ${(l.allPairs.baselineXorPopcountPerSecond / 1e6).toFixed(1)} M pairs/s (comparison at ${l.allPairs.ratioToBaseline}× the baseline); ` +
      `${l.allPairs.pairsAboveThreshold} pairs ≥ ${DEFAULT_THRESHOLD}`,
  );
  log(
    `  with blocking: ${l.blocking.seconds} s for 20,000 queries, ${l.blocking.comparisons} comparisons (${(l.blocking.shareOfAllPairs * 100).toFixed(3)}% of all pairs), ` +
      `${l.blocking.candidatePairs} candidate pairs ≥ ${DEFAULT_THRESHOLD}`,
  );
  result.markdown = lines.join('\n');
  return result;
}

// ---------------------------------------------------------------------------------------------
// --fit: the scheme's weights from the tuning seeds

/** Candidate pairs (blocking as the server does) of one seed, as term similarities with their truth. */
function candidatePairs(seed) {
  const { people } = generatePeople({ seed, count: 10_000, duplicateRate: 0.1 });
  const encoder = createEncoder(KEY);
  const index = createLinkageIndex(people.length);
  const truth = truthPairs(people);
  const encodings = people.map((p) => encoder.encode(p.person));
  const pairs = [];
  people.forEach((p, i) => {
    for (const m of index.match(encodings[i], encoder.probeKeys(p.person), 0)) {
      const j = Number(m.id);
      pairs.push({ terms: termSimilarities(encodings[i], encodings[j]), match: truth.has(pairKey(p.id, people[j].id)) ? 1 : 0 });
    }
    index.put(String(i), encodings[i]);
  });
  return { pairs, truthPairs: truth.size };
}

const KNOTS = TERMS.map((term) => CLK_SCHEME.weights[term].map(([x]) => x));
const OFFSETS = KNOTS.reduce((out, knots, t) => [...out, out[t] + knots.length], [1]);
const DIMENSIONS = OFFSETS[OFFSETS.length - 1];

/** Bias, then per term the hat functions of its knots (a linear interpolation is linear in its knot weights). */
function features(terms) {
  const x = new Float64Array(DIMENSIONS);
  x[0] = 1;
  terms.forEach((s, t) => {
    if (Number.isNaN(s)) return;
    const knots = KNOTS[t];
    const at = OFFSETS[t];
    if (s <= knots[0]) x[at] = 1;
    else if (s >= knots[knots.length - 1]) x[at + knots.length - 1] = 1;
    else
      for (let i = 1; i < knots.length; i++)
        if (s <= knots[i]) {
          const u = (s - knots[i - 1]) / (knots[i] - knots[i - 1]);
          x[at + i - 1] = 1 - u;
          x[at + i] = u;
          break;
        }
  });
  return x;
}

/** L2-regularized logistic regression by Newton's method (a few dozen dimensions). */
function logisticRegression(rows, labels, lambda = 1) {
  const D = DIMENSIONS;
  const w = new Float64Array(D);
  for (let iteration = 0; iteration < 30; iteration++) {
    const g = new Float64Array(D);
    const H = Array.from({ length: D }, () => new Float64Array(D));
    rows.forEach((x, r) => {
      let z = 0;
      for (let j = 0; j < D; j++) z += w[j] * x[j];
      const p = 1 / (1 + Math.exp(-z));
      for (let j = 0; j < D; j++) {
        if (!x[j]) continue;
        g[j] += (p - labels[r]) * x[j];
        for (let k = 0; k < D; k++) if (x[k]) H[j][k] += p * (1 - p) * x[j] * x[k];
      }
    });
    for (let j = 1; j < D; j++) {
      g[j] += lambda * w[j];
      H[j][j] += lambda;
    }
    H[0][0] += 1e-6;
    // Solve H·step = g (Gauss–Jordan with partial pivoting).
    const A = H.map((row, i) => [...row, g[i]]);
    for (let i = 0; i < D; i++) {
      let p = i;
      for (let r = i + 1; r < D; r++) if (Math.abs(A[r][i]) > Math.abs(A[p][i])) p = r;
      [A[i], A[p]] = [A[p], A[i]];
      for (let r = 0; r < D; r++)
        if (r !== i) {
          const f = A[r][i] / A[i][i];
          for (let c = i; c <= D; c++) A[r][c] -= f * A[i][c];
        }
    }
    let largest = 0;
    for (let j = 0; j < D; j++) {
      const step = A[j][D] / A[j][j];
      w[j] -= step;
      largest = Math.max(largest, Math.abs(step));
    }
    if (largest < 1e-6) break;
  }
  return w;
}

export function fitWeights({ log = console.log } = {}) {
  const rows = [];
  const labels = [];
  for (const seed of TUNING_SEEDS)
    for (const { terms, match } of candidatePairs(seed).pairs) {
      rows.push(features(terms));
      labels.push(match);
    }
  log(`fitting on ${rows.length} candidate pairs of seeds ${TUNING_SEEDS.join(', ')} (${labels.filter(Boolean).length} true)`);
  const w = logisticRegression(rows, labels);
  const weights = Object.fromEntries(TERMS.map((term, t) => [term, KNOTS[t].map((x, i) => [x, Number(w[OFFSETS[t] + i].toFixed(2))])]));
  log(JSON.stringify({ bias: Number(w[0].toFixed(3)), weights }));
  for (const seed of [...TUNING_SEEDS, ...HELD_OUT]) {
    const { pairs, truthPairs: truth } = candidatePairs(seed);
    const scores = pairs.map(({ terms }) => features(terms).reduce((z, x, j) => z + x * w[j], 0));
    const at = DEFAULT_THRESHOLDS.filter((t) => t >= 0.4 && t <= 0.8).map((t) => {
      let tp = 0;
      let fp = 0;
      scores.forEach((z, i) => {
        if (z < weightOf(t)) return;
        if (pairs[i].match) tp++;
        else fp++;
      });
      return `${t}: P ${(tp / (tp + fp)).toFixed(3)} R ${(tp / truth).toFixed(3)}`;
    });
    log(`seed ${seed} (${TUNING_SEEDS.includes(seed) ? 'tuning' : 'held out'}): ${at.join(' | ')}`);
  }
}

export default {
  name: 'dedup',
  title: 'Deduplication',
  async run() {
    const result = await benchDedup({ log: (line) => say(`bench: ${line}`) });
    return { markdown: result.markdown, byDatabase: {}, problems: [] };
  },
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--fit')) fitWeights();
  else await benchDedup();
}
