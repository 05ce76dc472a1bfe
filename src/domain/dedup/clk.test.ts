import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CLK_SCHEME,
  DEFAULT_THRESHOLD,
  FIELDS,
  TERMS,
  WORDS,
  base64ToWords,
  bigrams,
  cardinality,
  createEncoder,
  dice,
  encodingFrom,
  foldIndic,
  interpolate,
  nameWords,
  normalizeMobile,
  normalizeSex,
  normalizeWords,
  parseDate,
  popcount32,
  scoreOf,
  similarity,
  termSimilarities,
  wordsToBase64,
  type PersonForLinkage,
} from './clk.js';
import { createLinkageIndex } from './linkage.js';

const keyA = new Uint8Array(32).fill(7);
const keyB = new Uint8Array(32).fill(8);
const gurpreet: PersonForLinkage = {
  givenName: 'Gurpreet',
  familyName: 'Kaur',
  dateOfBirth: '09/09/1993',
  gender: 'FEMALE',
  locality: 'SUN04',
  mobileNumber: '9876543210',
};

describe('normalization', () => {
  it('drops case, diacritics, punctuation, whitespace and honorifics', () => {
    expect(normalizeWords('  Smt.  JOSÉ-António  ')).toEqual(['jose', 'antonio']);
    expect(normalizeWords("O'Brien, Mary")).toEqual(['obrien', 'mary']);
    expect(normalizeWords('Md. Rafiq')).toEqual(['mohammad', 'rafiq']);
    expect(normalizeWords('Macuácua')).toEqual(['macuacua']);
    expect(normalizeWords('')).toEqual([]);
    expect(normalizeWords(null)).toEqual([]);
    expect(normalizeWords('123 !!')).toEqual([]);
  });

  it('keeps letters of other scripts', () => {
    expect(normalizeWords('ਗੁਰਪ੍ਰੀਤ ਕੌਰ')).toHaveLength(2);
  });

  it('folds common variants of romanized Indic names onto one spelling', () => {
    const same: Array<[string, string]> = [
      ['Lakshmi', 'Laxmi'],
      ['Pooja', 'Puja'],
      ['Deepak', 'Dipak'],
      ['Sunil', 'Suneel'],
      ['Sukhwinder', 'Sukhvinder'],
      ['Shiv', 'Siv'],
      ['Bhupinder', 'Bupinder'],
      ['Gurpreet', 'Gurprit'],
      ['Chaudhary', 'Choudhary'],
      ['Shanty', 'Shanti'],
      ['Mohammed', 'Mohamed'],
      ['Zubair', 'Jubair'],
      ['Qasim', 'Kasim'],
    ];
    for (const [a, b] of same) expect(nameWords(a), `${a} ~ ${b}`).toEqual(nameWords(b));
    // Different names stay different.
    expect(foldIndic('ram')).not.toBe(foldIndic('rani'));
    expect(nameWords('Harpreet')).not.toEqual(nameWords('Gurpreet'));
  });

  it('makes padded bigrams, dates, mobiles and sex comparable', () => {
    expect(bigrams('ram')).toEqual(['_r', 'ra', 'am', 'm_']);
    expect(parseDate('09/03/1985')).toEqual({ day: 9, month: 3, year: 1985 });
    expect(parseDate('1985-03-09')).toEqual({ day: 9, month: 3, year: 1985 });
    expect(parseDate('31/13/1985')).toBeUndefined();
    expect(parseDate('soon')).toBeUndefined();
    expect(normalizeMobile('+91 98765-43210')).toBe('9876543210');
    expect(normalizeMobile('098765 43210')).toBe('9876543210');
    expect(normalizeMobile('12')).toBeUndefined();
    expect(normalizeSex('female')).toBe('F');
    expect(normalizeSex('TRANSGENDER')).toBe('O');
  });
});

describe('CLK encoding and Dice', () => {
  const encoder = createEncoder(keyA);

  it('popcount and cardinality count bits', () => {
    expect(popcount32(0)).toBe(0);
    expect(popcount32(0xffffffff)).toBe(32);
    expect(popcount32(0x80000001)).toBe(2);
    const clk = encoder.encode(gurpreet).clk;
    let slow = 0;
    for (const word of clk) for (let b = 0; b < 32; b++) slow += (word >>> b) & 1;
    expect(cardinality(clk)).toBe(slow);
    expect(clk).toHaveLength(WORDS);
  });

  it('is deterministic per key and Dice of identical encodings is 1', () => {
    const a = encoder.encode(gurpreet);
    const b = createEncoder(keyA).encode({ ...gurpreet });
    expect(Array.from(a.clk)).toEqual(Array.from(b.clk));
    expect(dice(a.clk, b.clk)).toBe(1);
  });

  it('the score and Dice are symmetric and within [0, 1]', () => {
    const person = fc.record({
      givenName: fc.string({ maxLength: 20 }),
      familyName: fc.option(fc.string({ maxLength: 20 })),
      dateOfBirth: fc.option(
        fc.date({ min: new Date(1920, 0, 1), max: new Date(2025, 0, 1), noInvalidDate: true }).map((d) => d.toLocaleDateString('en-GB')),
      ),
      gender: fc.constantFrom('MALE', 'FEMALE', null),
      mobileNumber: fc.option(fc.stringMatching(/^[6-9][0-9]{9}$/)),
    });
    fc.assert(
      fc.property(person, person, (p, q) => {
        const a = encoder.encode(p);
        const b = encoder.encode(q);
        const ab = dice(a.clk, b.clk);
        expect(ab).toBe(dice(b.clk, a.clk));
        expect(ab).toBeGreaterThanOrEqual(0);
        expect(ab).toBeLessThanOrEqual(1);
        const score = similarity(a, b);
        expect(score).toBeCloseTo(similarity(b, a), 12);
        expect(score).toBeGreaterThanOrEqual(0);
        expect(score).toBeLessThanOrEqual(1);
      }),
      { numRuns: 200 },
    );
  });

  it('scores a variant of the same person far above an unrelated person', () => {
    const same = encoder.encode({ ...gurpreet, givenName: 'Gurprit', dateOfBirth: '01/01/1993' });
    const other = encoder.encode({
      givenName: 'Ramesh',
      familyName: 'Sharma',
      dateOfBirth: '12/04/1970',
      gender: 'MALE',
      locality: 'SUN11',
    });
    const base = encoder.encode(gurpreet);
    expect(similarity(base, same)).toBeGreaterThan(DEFAULT_THRESHOLD);
    expect(similarity(base, other)).toBeLessThan(0.001);
  });

  it('a field missing on either side is no evidence; a different value is evidence against', () => {
    const base = encoder.encode(gurpreet);
    const noMobile = encoder.encode({ ...gurpreet, mobileNumber: null });
    const otherMobile = encoder.encode({ ...gurpreet, mobileNumber: '7000000001' });
    expect(Number.isNaN(termSimilarities(base, noMobile)[TERMS.indexOf('mobile')]!)).toBe(true);
    expect(termSimilarities(base, otherMobile)[TERMS.indexOf('mobile')]).toBeLessThan(0.5);
    expect(similarity(base, noMobile)).toBeGreaterThan(similarity(base, otherMobile));
    // A missing family name: the shorter name is contained in the longer one.
    const noFamily = encoder.encode({ ...gurpreet, familyName: null });
    expect(termSimilarities(base, noFamily)[TERMS.indexOf('nameSubset')]).toBe(1);
    expect(similarity(base, noFamily)).toBeGreaterThan(DEFAULT_THRESHOLD);
  });

  it('an exact date of birth weighs more than an age told instead, and a near age more than a far one', () => {
    const base = encoder.encode(gurpreet);
    const other = { ...gurpreet, mobileNumber: '7000000001' };
    const exact = similarity(base, encoder.encode(other));
    const nearAge = similarity(base, encoder.encode({ ...other, dateOfBirth: '01/01/1994' }));
    const farAge = similarity(base, encoder.encode({ ...other, dateOfBirth: '01/01/1985' }));
    expect(exact).toBeGreaterThan(nearAge);
    expect(nearAge).toBeGreaterThan(farAge);
    expect(farAge).toBeLessThan(DEFAULT_THRESHOLD);
  });

  it('each field sets bits only in its own segment, and the segments tile the encoding', () => {
    const covered = new Array<number>(WORDS).fill(0);
    for (const field of FIELDS) {
      const [from, to] = CLK_SCHEME.segments[field];
      for (let w = from; w < to; w++) covered[w]!++;
    }
    expect(covered).toEqual(new Array<number>(WORDS).fill(1));
    const onlyMobile = encoder.encode({ mobileNumber: '9876543210' });
    const [from, to] = CLK_SCHEME.segments.mobile;
    onlyMobile.clk.forEach((word, w) => expect(word !== 0, `word ${w}`).toBe(w >= from && w < to && word !== 0));
    expect(Array.from(onlyMobile.cardinalities).map((n, f) => (n > 0 ? FIELDS[f] : null))).toEqual([
      null,
      null,
      null,
      null,
      null,
      'mobile',
    ]);
  });

  it("the score is the logistic of the bias plus each present term's interpolated weight", () => {
    const a = encoder.encode(gurpreet);
    const variants: PersonForLinkage[] = [
      { ...gurpreet, givenName: 'Gurprit', dateOfBirth: '01/01/1992' },
      { ...gurpreet, familyName: null, locality: 'SUN11' },
      { ...gurpreet, dateOfBirth: '09/10/1993', mobileNumber: null },
    ];
    for (const variant of variants) {
      const b = encoder.encode(variant);
      let weight = CLK_SCHEME.bias;
      termSimilarities(a, b).forEach((s, t) => {
        if (!Number.isNaN(s)) weight += interpolate(CLK_SCHEME.weights[TERMS[t]!], s);
      });
      // The hot loop reads tabulated weights (1/256 steps): equal up to that rounding.
      expect(similarity(a, b)).toBeCloseTo(scoreOf(weight), 2);
    }
  });

  it('swapped given and family names encode the same', () => {
    const swapped = encoder.encode({ ...gurpreet, givenName: 'Kaur', familyName: 'Gurpreet' });
    expect(dice(encoder.encode(gurpreet).clk, swapped.clk)).toBe(1);
  });

  it('encodings under different keys are uncorrelated: Dice near the random baseline', () => {
    const other = createEncoder(keyB);
    const names = ['Gurpreet', 'Harpreet', 'Sunita', 'Ramesh', 'Amina', 'Joseph', 'Lakshmi', 'Mohammad', 'Priya', 'Kuldeep'];
    let sum = 0;
    let baseline = 0;
    names.forEach((givenName, i) => {
      const p = { ...gurpreet, givenName, dateOfBirth: `0${(i % 9) + 1}/0${(i % 9) + 1}/19${70 + i}` };
      const a = encoder.encode(p);
      const b = other.encode(p);
      sum += dice(a.clk, b.clk);
      expect(similarity(a, b), givenName).toBeLessThan(0.01);
      // Expected Dice of independent filters with these fills, field by field: 2·Σ(|A_f|·|B_f|/bits_f)/(|A|+|B|).
      let chance = 0;
      FIELDS.forEach((field, f) => {
        const [from, to] = CLK_SCHEME.segments[field];
        chance += (a.cardinalities[f]! * b.cardinalities[f]!) / ((to - from) * 32);
      });
      baseline += (2 * chance) / (cardinality(a.clk) + cardinality(b.clk));
    });
    expect(Math.abs(sum / names.length - baseline / names.length)).toBeLessThan(0.05);
    expect(sum / names.length).toBeLessThan(0.4);
  });

  it('round-trips through base64 (the transport of encodings)', () => {
    const a = encoder.encode(gurpreet);
    const text = wordsToBase64(a.clk);
    expect(text).toHaveLength(172);
    expect(Array.from(base64ToWords(text))).toEqual(Array.from(a.clk));
    const back = encodingFrom(text, wordsToBase64(a.blocks));
    expect(Array.from(back.cardinalities)).toEqual(Array.from(a.cardinalities));
    expect(Array.from(back.blocks)).toEqual(Array.from(a.blocks));
    expect(() => base64ToWords('not base64!')).toThrow();
    expect(() => createEncoder(new Uint8Array(8))).toThrow();
  });

  it('stays pure: nothing from node:* or the rest of Plinth, so it runs in a browser', () => {
    for (const file of ['clk.ts', 'linkage.ts', 'synthetic.ts', 'evaluate.ts']) {
      const source = fs.readFileSync(path.join(import.meta.dirname, file), 'utf8');
      const imports = [...source.matchAll(/^import[^'"]*['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
      for (const from of imports)
        expect(from, `${file} imports ${from}`).toMatch(/^(\.\/(clk|linkage|synthetic)\.js|@noble\/hashes\/(hmac|sha2)\.js)$/);
      expect(source).not.toMatch(/\bBuffer\.|\bprocess\.env|\brequire\(/);
    }
  });
});

describe('blocking', () => {
  const encoder = createEncoder(keyA);

  it('finds known duplicates through the keys, without comparing everything', () => {
    const index = createLinkageIndex();
    const others: PersonForLinkage[] = Array.from({ length: 300 }, (_, i) => ({
      givenName: ['Harpreet', 'Sunita', 'Ramesh', 'Amina', 'Joseph'][i % 5],
      familyName: ['Singh', 'Sharma', 'Khan', 'Otieno'][i % 4],
      dateOfBirth: `${String((i % 28) + 1).padStart(2, '0')}/${String((i % 12) + 1).padStart(2, '0')}/${1950 + (i % 60)}`,
      gender: i % 2 ? 'MALE' : 'FEMALE',
      locality: `SUN${i % 7}`,
    }));
    others.forEach((p, i) => index.put(`o${i}`, encoder.encode(p)));
    index.put('gurpreet', encoder.encode(gurpreet));
    const variants: PersonForLinkage[] = [
      { ...gurpreet, givenName: 'Gurpret' },
      { ...gurpreet, givenName: 'Kaur', familyName: 'Gurpreet' },
      { ...gurpreet, dateOfBirth: '01/01/1994' },
      { ...gurpreet, givenName: 'Gurpreat', familyName: null },
      { ...gurpreet, dateOfBirth: null, mobileNumber: null },
    ];
    for (const variant of variants) {
      const before = index.comparisons;
      const matches = index.match(encoder.encode(variant), encoder.probeKeys(variant), 0.6);
      expect(matches[0]?.id, JSON.stringify(variant)).toBe('gurpreet');
      expect(index.comparisons - before).toBeLessThan(100);
    }
    index.remove('gurpreet');
    expect(index.match(encoder.encode(gurpreet), encoder.probeKeys(gurpreet), 0.6).map((m) => m.id)).not.toContain('gurpreet');
    expect(index.size).toBe(300);
  });
});
