import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_THRESHOLD } from './clk.js';
import { evaluateLinkage, formatEvaluation } from './evaluate.js';
import { AMRITSAR_LOCALITIES, generatePeople, truthPairs } from './synthetic.js';

describe('synthetic people', () => {
  it('are deterministic per seed, with the asked share of duplicates and their truth', () => {
    const a = generatePeople({ seed: 5, count: 2000 });
    const b = generatePeople({ seed: 5, count: 2000 });
    expect(a).toEqual(b);
    expect(generatePeople({ seed: 6, count: 2000 }).people).not.toEqual(a.people);
    expect(a.people).toHaveLength(2000);
    const duplicates = a.people.filter((p) => p.isDuplicate);
    expect(duplicates).toHaveLength(200);
    const ids = new Set(a.people.map((p) => p.id));
    expect(ids.size).toBe(2000);
    for (const d of duplicates) {
      expect(d.truthId).not.toBe(d.id);
      expect(ids.has(d.truthId)).toBe(true);
      expect(d.corruptions.length).toBeGreaterThan(0);
    }
    expect(truthPairs(a.people).size).toBeGreaterThanOrEqual(200);
    // Every household member exists and belongs to that household.
    const byId = new Map(a.people.map((p) => [p.id, p]));
    for (const h of a.households) for (const m of h.memberIds) expect(byId.get(m)?.householdId).toBe(h.id);
  });

  it('use the seeded localities of pb.amritsar and DIGIT field formats', () => {
    const seed = JSON.parse(fs.readFileSync(path.resolve('seed/boundary/pb.amritsar.json'), 'utf8')) as {
      hierarchies: Array<{ hierarchyType: string; relationships: Array<{ code: string; boundaryType: string }> }>;
    };
    const localities = seed.hierarchies
      .find((h) => h.hierarchyType === 'ADMIN')!
      .relationships.filter((r) => r.boundaryType === 'Locality')
      .map((r) => r.code);
    expect([...AMRITSAR_LOCALITIES].sort()).toEqual([...localities].sort());
    const { people } = generatePeople({ seed: 1, count: 500 });
    for (const { person } of people) {
      expect(localities).toContain(person.locality);
      if (person.dateOfBirth) expect(person.dateOfBirth).toMatch(/^\d{2}\/\d{2}\/\d{4}$/);
      expect(['MALE', 'FEMALE', 'OTHER']).toContain(person.gender);
      if (person.mobileNumber) expect(person.mobileNumber).toMatch(/^[6-9]\d{9}$/);
    }
  });

  it('are not easy: unrelated people often share given and family names', () => {
    const { people } = generatePeople({ seed: 2, count: 10_000 });
    const names = new Map<string, Set<string>>();
    for (const p of people) {
      const key = `${p.person.givenName}|${p.person.familyName}`;
      names.set(key, (names.get(key) ?? new Set()).add(p.truthId));
    }
    const shared = [...names.values()].filter((truths) => truths.size > 1).reduce((n, s) => n + s.size, 0);
    expect(shared / people.length).toBeGreaterThan(0.3);
  });
});

// The scheme's weights and default threshold were tuned on seeds 7, 42 and 2024 (clk.ts CLK_SCHEME);
// seeds 1 and 123 were never used for tuning: the target must hold there too.
describe('linkage quality (the issue: ≥ 10,000 people, 10% corrupted duplicates)', () => {
  it.each([
    { seed: 7, role: 'tuning' },
    { seed: 1, role: 'held out' },
    { seed: 123, role: 'held out' },
  ])(
    'reaches precision ≥ 0.98 and recall ≥ 0.95 at the default threshold (seed $seed, $role)',
    ({ seed }) => {
      const { people } = generatePeople({ seed, count: 10_000, duplicateRate: 0.1 });
      const evaluation = evaluateLinkage(people, { key: new Uint8Array(32).fill(3) });
      const atDefault = evaluation.results.find((r) => r.threshold === DEFAULT_THRESHOLD);
      console.log(`seed ${seed}\n${formatEvaluation(evaluation)}`);
      expect(atDefault, formatEvaluation(evaluation)).toBeDefined();
      expect(atDefault!.precision).toBeGreaterThanOrEqual(0.98);
      expect(atDefault!.recall).toBeGreaterThanOrEqual(0.95);
      // Blocking: a small share of all pairs is compared, and it keeps (nearly) every true pair.
      expect(evaluation.comparisons / evaluation.allPairs).toBeLessThan(0.01);
      expect(evaluation.blockingRecall).toBeGreaterThan(0.99);
    },
    120_000,
  );
});
