import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';

/*
 * Privacy-preserving record linkage: the encoder, the comparator and the blocking keys.
 *
 * PURE: this file imports nothing from `node:*` and nothing else of Plinth, only @noble/hashes,
 * so the same code runs on the server and in a field device's browser. A device holding a
 * program's key and the encodings of its area (no names, no numbers) can warn before it
 * registers a duplicate while offline.
 *
 * Method: field-level Bloom filters (Schnell, Bachteler & Reiher 2009; Durham et al. 2013), laid
 * side by side in one 1024-bit record. Each identifying field (bigrams of the normalized name
 * parts, birth year, birth day and month, sex, locality, mobile) sets bits only in its own
 * segment, the positions drawn from a keyed HMAC-SHA256 of the token. Two encodings are compared
 * segment by segment with the Dice coefficient, and the segments' similarities are combined as
 * Fellegi–Sunter match weights (log-likelihood ratios, learned on the synthetic benchmark): an
 * exact date of birth is strong evidence, a shared common name weak evidence, a different mobile
 * number mild evidence against, and a field missing on either side is no evidence at all (a
 * single record-level CLK counts a missing field as disagreement). The score is the weight as a
 * probability, 1 / (1 + e^-weight).
 *
 * Without the key, a token's bit pattern cannot be computed, and encodings of different programs
 * (different keys) share nothing.
 *
 * Caveats: Bloom-filter encodings of names leak frequencies, so a holder of many encodings AND a
 * name list can re-identify common names (Kroll & Steinmetzer 2015); field-level filters leak
 * more than one record-level CLK, since equal fields give equal segments (who shares a birthday,
 * a locality or a phone). The key is per program and must not be published; downloads of
 * encodings are role-restricted and scoped to an area.
 */

/** The identifying fields of a person, as the registry holds them in plain text before encryption. */
export type PersonForLinkage = {
  readonly givenName?: string | null;
  readonly familyName?: string | null;
  readonly otherNames?: string | null;
  /** DIGIT's `dd/MM/yyyy`. */
  readonly dateOfBirth?: string | null;
  readonly gender?: string | null;
  /** Boundary code of the locality. */
  readonly locality?: string | null;
  readonly mobileNumber?: string | null;
};

export const FIELDS = ['name', 'year', 'dayMonth', 'sex', 'locality', 'mobile'] as const;
export type Field = (typeof FIELDS)[number];

/**
 * The terms of the match weight, each a similarity in [0, 1] of two encodings' segments:
 *   name: Dice of the name bigrams; nameSubset: the share of the smaller name's bits found in the
 *   other (1 when a name part is missing on one side: "Shiv" against "Shiv Paswan");
 *   year: Dice of the year segments when both dates are exact; yearOfAge: the same when either was
 *   given as an age (01/01, no day and month), which is often a year or two off;
 *   dayMonth, sex, locality, mobile: Dice of their segments.
 * A term whose field is missing on either side is left out (weight 0).
 */
export const TERMS = ['name', 'nameSubset', 'year', 'yearOfAge', 'dayMonth', 'sex', 'locality', 'mobile'] as const;
export type Term = (typeof TERMS)[number];

/** Parameters of the encoding and the comparison; a device must use the same scheme as the server's encodings. */
export const CLK_SCHEME = {
  id: 'plinth-clk-2',
  bits: 1024,
  /** Each field's Bloom filter: words [from, to) of the 32. */
  segments: { name: [0, 16], year: [16, 24], dayMonth: [24, 27], sex: [27, 28], locality: [28, 30], mobile: [30, 32] },
  /** Bits set per token, by field (clkhash's "BitsPerToken"). */
  k: { name: 12, year: 4, dayMonth: 6, sex: 8, locality: 12, mobile: 12 },
  /**
   * The weight of a pair before any term: the log-odds of a candidate pair being a match. Bias and
   * weights are a logistic regression (Fellegi–Sunter weights without assuming independence) on the
   * candidate pairs of the synthetic benchmark, tuning seeds 7, 42 and 2024 under two keys;
   * `node bench/dedup.js --fit` derives them again. Where the data say so they are not monotone: an
   * exact common name ("Amandeep Kaur") is weaker evidence than it looks.
   */
  bias: -9.871,
  /** Per term (see TERMS), [similarity, match weight] knots, interpolated linearly. */
  weights: {
    name: [
      [0.3, -2.78],
      [0.5, -1],
      [0.6, -0.36],
      [0.7, -0.05],
      [0.8, 0.98],
      [1, 3.21],
    ],
    nameSubset: [
      [0.6, -4.09],
      [0.8, 0.3],
      [0.9, 2.07],
      [1, 1.72],
    ],
    year: [
      [0, -3.73],
      [0.25, -3.88],
      [0.5, -1.44],
      [0.75, -0.61],
      [1, 5.45],
    ],
    yearOfAge: [
      [0, -6.58],
      [0.25, -3.28],
      [0.5, 0.89],
      [0.75, 1.58],
      [1, 2.96],
    ],
    dayMonth: [
      [0.3, -8.1],
      [0.6, 1.74],
      [1, 2.14],
    ],
    sex: [
      [0.9, -2.85],
      [1, 2.85],
    ],
    locality: [
      [0.9, -3],
      [1, 3],
    ],
    mobile: [
      [0.9, -1.34],
      [1, 4.04],
    ],
  },
} as const satisfies {
  id: string;
  bits: number;
  segments: Record<Field, readonly [number, number]>;
  k: Record<Field, number>;
  bias: number;
  weights: Record<Term, ReadonlyArray<readonly [number, number]>>;
};

export const WORDS = CLK_SCHEME.bits / 32;

/** A 1024-bit record of field-level Bloom filters, the set bits of each field, and its keyed blocking keys. */
export type Encoding = {
  /** The Bloom filters, 32 words; field f in words CLK_SCHEME.segments[f]. */
  readonly clk: Uint32Array;
  /** Set bits per field, in FIELDS order (0: the field was missing). */
  readonly cardinalities: Uint16Array;
  /** Keyed blocking keys this record is filed under (see blockingTexts). */
  readonly blocks: Uint32Array;
};

// ---------------------------------------------------------------------------------------------
// Normalization

const HONORIFICS = new Set(['mr', 'mrs', 'ms', 'miss', 'dr', 'shri', 'sri', 'shree', 'smt', 'kum', 'late', 'sh']);
// Common written abbreviations of Mohammad (Md. Rafiq, Mohd Ali).
const EXPANSIONS: Record<string, string> = { md: 'mohammad', mohd: 'mohammad', mohamad: 'mohammad' };

/**
 * Case, diacritics, punctuation and whitespace: NFKD, combining marks dropped, lower case,
 * apostrophes joined (O'Brien → obrien), any other non-letter a word break; honorifics dropped.
 * Letters of other scripts are kept as they are (they get bigrams too, but are not transliterated).
 */
export function normalizeWords(value: string | null | undefined): string[] {
  if (!value) return [];
  const text = value
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/['’`]/g, '')
    .replace(/[^\p{L}]+/gu, ' ')
    .trim();
  if (text === '') return [];
  return text
    .split(' ')
    .map((word) => EXPANSIONS[word] ?? word)
    .filter((word) => !HONORIFICS.has(word));
}

/**
 * Folds common variants of romanized Indic names onto one spelling, so that they share bigrams.
 * Each rule is a spelling choice that writers of the same name make both ways:
 *   x ↔ ksh (Laxmi/Lakshmi), ph ↔ f (Phool/Fool), w ↔ v (Sukhwinder/Sukhvinder), z ↔ j
 *   (Zubair/Jubair), q ↔ k (Qasim/Kasim), aspirated consonants with or without h
 *   (Bhupinder/Bupinder, Sukh/Suk, Chaudhary), sh ↔ s (Shiv/Siv, Lakshmi/Laksmi), long vowels
 *   ee/i, oo/u (Deepak/Dipak, Pooja/Puja, -preet/-prit), au/ou/ow ↔ o (Chaudhary/Choudhary/
 *   Chowdhury), final y ↔ i (Shanty/Shanti), doubled letters (Guppta, Mohammed/Mohamed).
 * Latin-only; other scripts pass through. Over-folding costs little: two different names that
 * fold alike still differ in date of birth, sex and mobile.
 */
export function foldIndic(word: string): string {
  if (!/^[a-z]+$/.test(word)) return word;
  return word
    .replace(/x/g, 'ks')
    .replace(/ph/g, 'f')
    .replace(/ow/g, 'o')
    .replace(/w/g, 'v')
    .replace(/z/g, 'j')
    .replace(/q/g, 'k')
    .replace(/([kgcjtdbs])h/g, '$1')
    .replace(/ee|ie|ii|ei/g, 'i')
    .replace(/oo|uu/g, 'u')
    .replace(/au|ou/g, 'o')
    .replace(/(.)\1+/g, '$1')
    .replace(/y$/, 'i');
}

/** Name words as encoded: normalized, folded, single letters dropped (initials carry too little). */
export function nameWords(value: string | null | undefined): string[] {
  return normalizeWords(value)
    .map(foldIndic)
    .filter((word) => word.length >= 2);
}

/** Bigrams of a word padded with `_` at both ends: "ram" → _r ra am m_. */
export function bigrams(word: string): string[] {
  const padded = `_${word}_`;
  const chars = Array.from(padded);
  const out: string[] = [];
  for (let i = 0; i + 1 < chars.length; i++) out.push(chars[i]! + chars[i + 1]!);
  return out;
}

export type ParsedDate = { day: number; month: number; year: number };

/** DIGIT's `dd/MM/yyyy` (also `d/M/yyyy`, `dd-MM-yyyy` and ISO `yyyy-MM-dd`); undefined if not a date. */
export function parseDate(value: string | null | undefined): ParsedDate | undefined {
  if (!value) return undefined;
  const text = value.trim();
  let m = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(text);
  let day: number, month: number, year: number;
  if (m) [day, month, year] = [Number(m[1]), Number(m[2]), Number(m[3])];
  else if ((m = /^(\d{4})-(\d{2})-(\d{2})/.exec(text))) [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  else return undefined;
  if (year < 1850 || year > 2200 || month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  return { day, month, year };
}

/** The last 10 digits (drops +91 / 0 prefixes); undefined below 6 digits. */
export function normalizeMobile(value: string | null | undefined): string | undefined {
  if (!value) return undefined;
  const digits = value.replace(/\D/g, '');
  if (digits.length < 6) return undefined;
  return digits.slice(-10);
}

export function normalizeSex(value: string | null | undefined): string | undefined {
  if (!value) return undefined;
  const text = value.trim().toUpperCase();
  if (text === 'M' || text === 'MALE') return 'M';
  if (text === 'F' || text === 'FEMALE') return 'F';
  if (text === '') return undefined;
  return 'O';
}

// ---------------------------------------------------------------------------------------------
// Tokens

export type Token = { readonly field: Field; readonly value: string };

/**
 * The tokens a person is encoded from, each in its field. Names: bigrams of every word of every
 * name part in ONE namespace, so a person registered with given and family names swapped encodes
 * the same. Year: the year and the bands of 2, 4 and 8 years it falls in (two offsets each), so
 * the segments' Dice falls with the distance between two years (about 1, .5, .2, .1, 0 for 0–4
 * years apart): an age told instead of a date still scores near. Day and month: the ordered pair
 * and the unordered pair (a day/month swap keeps half). A date of 01/01 is what registrars enter
 * for "age only", so it is encoded as its year alone: no day and month rather than a false one.
 */
export function tokensOf(person: PersonForLinkage): Token[] {
  const tokens: Token[] = [];
  const words = [...nameWords(person.givenName), ...nameWords(person.familyName), ...nameWords(person.otherNames)];
  for (const word of words) for (const gram of bigrams(word)) tokens.push({ field: 'name', value: gram });
  const date = parseDate(person.dateOfBirth);
  if (date) {
    const y = date.year;
    tokens.push({ field: 'year', value: String(y) });
    for (const width of [2, 4, 8]) {
      tokens.push({ field: 'year', value: `${width}a${Math.floor(y / width)}` });
      tokens.push({ field: 'year', value: `${width}b${Math.floor((y + width / 2) / width)}` });
    }
    if (!(date.day === 1 && date.month === 1)) {
      const [lo, hi] = date.day < date.month ? [date.day, date.month] : [date.month, date.day];
      tokens.push({ field: 'dayMonth', value: `${lo}-${hi}` });
      tokens.push({ field: 'dayMonth', value: `${date.day}/${date.month}` });
    }
  }
  const sex = normalizeSex(person.gender);
  if (sex) tokens.push({ field: 'sex', value: sex });
  const locality = person.locality?.trim();
  if (locality) tokens.push({ field: 'locality', value: locality });
  const mobile = normalizeMobile(person.mobileNumber);
  if (mobile) tokens.push({ field: 'mobile', value: mobile });
  return tokens;
}

// ---------------------------------------------------------------------------------------------
// Keyed hashing

const utf8 = new TextEncoder();

/**
 * A program's encoder: all keyed hashing goes through it. One HMAC-SHA256 per distinct token;
 * its 32-byte digest seeds a small PRNG that draws the token's k bit positions within its field's
 * segment ("random hashing", Schnell 2016 — not double hashing, whose arithmetic pattern
 * Niedermeyer et al. 2014 exploited). Name bigrams, years and localities repeat across people,
 * so positions are memoized per token: after a few hundred people nearly every token is a cache
 * hit and an encoding costs one HMAC (the mobile number). The cache holds positions derived under
 * this key only, never plain text beyond the token itself, and lives as long as the encoder.
 */
export type Encoder = {
  readonly scheme: typeof CLK_SCHEME.id;
  encode(person: PersonForLinkage): Encoding;
  /** Blocking keys to probe when looking for this person's duplicates (a superset of those it is filed under). */
  probeKeys(person: PersonForLinkage): Uint32Array;
};

const CACHE_LIMIT = 200_000;

export function createEncoder(key: Uint8Array): Encoder {
  if (key.length < 16) throw new Error('dedup: an encoding key needs at least 16 bytes');
  const base = hmac.create(sha256, key);
  const positions = new Map<string, Uint16Array>();
  const blockHashes = new Map<string, number>();

  function digest(input: string): Uint8Array {
    return base.clone().update(utf8.encode(input)).digest();
  }

  function positionsOf(field: Field, value: string): Uint16Array {
    const cacheKey = `${field}\u0000${value}`;
    let found = positions.get(cacheKey);
    if (found) return found;
    const d = digest(`c\u0000${cacheKey}`);
    const view = new DataView(d.buffer, d.byteOffset, d.byteLength);
    // xorshift128 seeded from the digest: uniform, deterministic, identical in every engine.
    let a = view.getUint32(0, true) | 1;
    let b = view.getUint32(4, true);
    let c = view.getUint32(8, true);
    let e = view.getUint32(12, true);
    const k = CLK_SCHEME.k[field];
    const [from, to] = CLK_SCHEME.segments[field];
    const span = (to - from) * 32;
    found = new Uint16Array(k);
    for (let i = 0; i < k; i++) {
      const t = a ^ (a << 11);
      a = b;
      b = c;
      c = e;
      e = (e ^ (e >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
      found[i] = from * 32 + (e % span);
    }
    if (positions.size >= CACHE_LIMIT) positions.clear();
    positions.set(cacheKey, found);
    return found;
  }

  function blockHash(value: string): number {
    let found = blockHashes.get(value);
    if (found !== undefined) return found;
    const d = digest(`b\u0000${value}`);
    found = new DataView(d.buffer, d.byteOffset, 4).getUint32(0, true);
    if (blockHashes.size >= CACHE_LIMIT) blockHashes.clear();
    blockHashes.set(value, found);
    return found;
  }

  function keys(person: PersonForLinkage, probe: boolean): Uint32Array {
    const out = new Set<number>();
    for (const text of blockingTexts(person, probe)) out.add(blockHash(text));
    return Uint32Array.from(out);
  }

  return {
    scheme: CLK_SCHEME.id,
    encode(person) {
      const clk = new Uint32Array(WORDS);
      for (const token of tokensOf(person)) {
        for (const p of positionsOf(token.field, token.value)) clk[p >>> 5]! |= 1 << (p & 31);
      }
      return { clk, cardinalities: cardinalitiesOf(clk), blocks: keys(person, false) };
    },
    probeKeys: (person) => keys(person, true),
  };
}

// ---------------------------------------------------------------------------------------------
// Blocking

/**
 * Blocking keys (blocklib's "P-Sig" idea: keyed signatures of attribute combinations). A record
 * is filed under every key of its own; a query probes its keys (with the year widened by ±1) and
 * compares only with records filed under one of them. Several keys so that any one corruption,
 * and most pairs of them, leave at least one key intact:
 *   - each name word + birth year + sex: survives a typo in the other name part, swapped parts,
 *     day/month swaps, and (probing year ±1) an age entered instead of a date;
 *   - each name word + locality + sex: survives a missing or wrong date of birth;
 *   - the unordered pair of first given and first family word: survives a wrong date AND a move;
 *   - the date of birth (day and month unordered) + sex: survives any damage to the names;
 *   - the mobile number: survives typos in both names and a missing date.
 * Keys are HMACs under the program key, truncated to 32 bits: a device can compute them for a new
 * person and look them up in the keys downloaded with the encodings, without any plain text.
 */
export function blockingTexts(person: PersonForLinkage, probe: boolean): string[] {
  const out: string[] = [];
  const given = nameWords(person.givenName);
  const family = nameWords(person.familyName);
  const sex = normalizeSex(person.gender) ?? '?';
  const date = parseDate(person.dateOfBirth);
  const words = new Set([...given, ...family, ...nameWords(person.otherNames)]);
  const years = date ? (probe ? [date.year - 1, date.year, date.year + 1] : [date.year]) : ['?'];
  const locality = person.locality?.trim() ?? '';
  for (const word of words) {
    for (const year of years) out.push(`w|${word}|${year}|${sex}`);
    out.push(`l|${word}|${locality}|${sex}`);
  }
  const first = given[0] ?? family[1];
  const last = family[0] ?? given[1];
  if (first && last) {
    const [a, b] = first < last ? [first, last] : [last, first];
    out.push(`p|${a}|${b}`);
  }
  if (date) {
    const [lo, hi] = date.day < date.month ? [date.day, date.month] : [date.month, date.day];
    out.push(`d|${date.year}|${lo}-${hi}|${sex}`);
  }
  const mobile = normalizeMobile(person.mobileNumber);
  if (mobile) out.push(`m|${mobile}`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Comparison

/** Set bits of a 32-bit word (SWAR; V8 compiles it to a handful of integer ops). */
export function popcount32(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

export function cardinality(clk: Uint32Array): number {
  let n = 0;
  for (let i = 0; i < clk.length; i++) n += popcount32(clk[i]!);
  return n;
}

/** The field (index into FIELDS) of each of the 32 words. */
const FIELD_OF_WORD = (() => {
  const out = new Uint8Array(WORDS);
  FIELDS.forEach((field, f) => {
    const [from, to] = CLK_SCHEME.segments[field];
    for (let w = from; w < to; w++) out[w] = f;
  });
  return out;
})();
const FIELD_COUNT = FIELDS.length;

/** Set bits of each field's segment, in FIELDS order. */
export function cardinalitiesOf(clk: Uint32Array): Uint16Array {
  const out = new Uint16Array(FIELD_COUNT);
  for (let w = 0; w < WORDS; w++) out[FIELD_OF_WORD[w]!]! += popcount32(clk[w]!);
  return out;
}

/** Dice coefficient 2|A∩B| / (|A|+|B|) of two bit sets; 0 when both are empty. */
export function dice(a: Uint32Array, b: Uint32Array): number {
  let both = 0;
  let total = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    both += popcount32(x & y);
    total += popcount32(x) + popcount32(y);
  }
  return total === 0 ? 0 : (2 * both) / total;
}

/**
 * The weight tables, sampled at 1/STEPS so the hot loop looks a weight up instead of
 * interpolating: the weight of term t at similarity s is TABLE[t * (STEPS + 1) + round(s * STEPS)].
 */
const STEPS = 256;
const TERM_COUNT = TERMS.length;
const TABLE = (() => {
  const out = new Float64Array(TERM_COUNT * (STEPS + 1));
  TERMS.forEach((term, t) => {
    const knots = CLK_SCHEME.weights[term];
    for (let i = 0; i <= STEPS; i++) out[t * (STEPS + 1) + i] = interpolate(knots, i / STEPS);
  });
  return out;
})();

/** Piecewise-linear interpolation through [x, y] knots (sorted by x), flat beyond the ends. */
export function interpolate(knots: ReadonlyArray<readonly [number, number]>, x: number): number {
  const first = knots[0]!;
  if (x <= first[0]) return first[1];
  for (let i = 1; i < knots.length; i++) {
    const [x1, y1] = knots[i]!;
    if (x <= x1) {
      const [x0, y0] = knots[i - 1]!;
      return y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
    }
  }
  return knots[knots.length - 1]![1];
}

const [NAME, YEAR, DAY_MONTH] = [FIELDS.indexOf('name'), FIELDS.indexOf('year'), FIELDS.indexOf('dayMonth')];
const SEGMENT_FROM = Int32Array.from(FIELDS.map((field) => CLK_SCHEME.segments[field][0]));
const SEGMENT_TO = Int32Array.from(FIELDS.map((field) => CLK_SCHEME.segments[field][1]));
const ROW = STEPS + 1;
const T = Object.fromEntries(TERMS.map((term, t) => [term, t])) as Record<Term, number>;
/** Terms of the fields compared by plain Dice, by field index (-1: handled apart). */
const DICE_TERM = FIELDS.map((field) => (field === 'name' || field === 'year' ? -1 : T[field as Term]));

/**
 * The similarity of each term (TERMS order) into `out`, NaN where left out, from the bits two
 * encodings share per field (`both`) and their field cardinalities `x` (at `xOffset`) and `y`.
 */
function termsInto(out: Float64Array, both: Int32Array, x: Uint16Array, xOffset: number, y: Uint16Array): void {
  out.fill(NaN);
  for (let f = 0; f < FIELD_COUNT; f++) {
    const cx = x[xOffset + f]!;
    const cy = y[f]!;
    if (cx === 0 || cy === 0) continue;
    const dice = (2 * both[f]!) / (cx + cy);
    if (f === NAME) {
      out[T.name] = dice;
      out[T.nameSubset] = both[f]! / Math.min(cx, cy);
    } else if (f === YEAR) {
      const exact = x[xOffset + DAY_MONTH]! > 0 && y[DAY_MONTH]! > 0;
      out[exact ? T.year : T.yearOfAge] = dice;
    } else out[DICE_TERM[f]!] = dice;
  }
}

/** The similarity of each term of two encodings, in TERMS order; NaN where a field is missing on either side. */
export function termSimilarities(a: Encoding, b: Encoding): Float64Array {
  const both = new Int32Array(FIELD_COUNT);
  for (let w = 0; w < WORDS; w++) both[FIELD_OF_WORD[w]!]! += popcount32(a.clk[w]! & b.clk[w]!);
  const out = new Float64Array(TERM_COUNT);
  termsInto(out, both, a.cardinalities, 0, b.cardinalities);
  return out;
}

/** Match weight (log-odds) to score (probability) and back. */
export const scoreOf = (weight: number) => 1 / (1 + Math.exp(-weight));
export const weightOf = (score: number) => Math.log(score / (1 - score));

/**
 * The match weight of the encoding at word offset `offset` of `pool` (a flat array of many
 * encodings, their field cardinalities at `cardOffset` of `poolCards`) against `clk`: the hot loop
 * of matching, one popcount per word and one table look-up per term.
 */
export function weightAt(
  pool: Uint32Array,
  offset: number,
  poolCards: Uint16Array,
  cardOffset: number,
  clk: Uint32Array,
  cards: Uint16Array,
): number {
  // termsInto and the table look-ups, unrolled by hand: this runs hundreds of millions of times.
  let weight = CLK_SCHEME.bias;
  const exactDates = poolCards[cardOffset + DAY_MONTH]! > 0 && cards[DAY_MONTH]! > 0;
  for (let f = 0; f < FIELD_COUNT; f++) {
    const cx = poolCards[cardOffset + f]!;
    const cy = cards[f]!;
    if (cx === 0 || cy === 0) continue;
    let both = 0;
    for (let w = SEGMENT_FROM[f]!, end = SEGMENT_TO[f]!; w < end; w++) both += popcount32(pool[offset + w]! & clk[w]!);
    const dice = Math.round((STEPS * 2 * both) / (cx + cy));
    if (f === NAME) {
      weight += TABLE[T.name * ROW + dice]! + TABLE[T.nameSubset * ROW + Math.round((STEPS * both) / (cx < cy ? cx : cy))]!;
    } else if (f === YEAR) weight += TABLE[(exactDates ? T.year : T.yearOfAge) * ROW + dice]!;
    else weight += TABLE[DICE_TERM[f]! * ROW + dice]!;
  }
  return weight;
}

/** The score (0–1) of two encodings: the probability that they are the same person. */
export function similarity(a: Encoding, b: Encoding): number {
  return scoreOf(weightAt(a.clk, 0, a.cardinalities, 0, b.clk, b.cardinalities));
}

// ---------------------------------------------------------------------------------------------
// Transport: base64 in plain code (browser-safe, no Node buffers)

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) B64_INDEX[B64.charCodeAt(i)] = i;

export function bytesToBase64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += B64[(n >>> 18) & 63]! + B64[(n >>> 12) & 63]!;
    out += i + 1 < bytes.length ? B64[(n >>> 6) & 63]! : '=';
    out += i + 2 < bytes.length ? B64[n & 63]! : '=';
  }
  return out;
}

export function base64ToBytes(text: string): Uint8Array {
  const clean = text.replace(/=+$/, '');
  if (/[^A-Za-z0-9+/]/.test(clean) || clean.length % 4 === 1) throw new Error('not base64');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let j = 0;
  for (let i = 0; i < clean.length; i++) {
    value = (value << 6) | B64_INDEX[clean.charCodeAt(i)]!;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[j++] = (value >>> bits) & 0xff;
    }
  }
  return out;
}

/** 32-bit words as little-endian base64 (a CLK is 172 characters). */
export function wordsToBase64(words: Uint32Array): string {
  const bytes = new Uint8Array(words.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < words.length; i++) view.setUint32(i * 4, words[i]!, true);
  return bytesToBase64(bytes);
}

export function base64ToWords(text: string): Uint32Array {
  const bytes = base64ToBytes(text);
  if (bytes.length % 4 !== 0) throw new Error('not a whole number of 32-bit words');
  const view = new DataView(bytes.buffer);
  const out = new Uint32Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getUint32(i * 4, true);
  return out;
}

/** Rebuilds an Encoding from its transport form (a device's download, a database row). */
export function encodingFrom(clk: string, blocks: string): Encoding {
  const words = base64ToWords(clk);
  if (words.length !== WORDS) throw new Error(`a ${CLK_SCHEME.id} encoding has ${WORDS} words`);
  return { clk: words, cardinalities: cardinalitiesOf(words), blocks: blocks === '' ? new Uint32Array(0) : base64ToWords(blocks) };
}

/**
 * The score at or above which two records are candidates, unless MDMS `Dedup.Config` says otherwise.
 * Chosen on the tuning seeds and confirmed on held-out ones (evaluate.test.ts, bench/dedup.js).
 */
export const DEFAULT_THRESHOLD = 0.6;
