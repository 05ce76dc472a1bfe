import { afterEach, describe, it, expect, vi } from 'vitest';
import { applyFilter, filterBudget, FilterBudgetExceeded, FilterTooExpensive, MAX_FILTER_NESTING } from './mdms.jsonpath.js';

type Row = Record<string, unknown>;

const RECORDS: readonly Row[] = [
  { id: '1', code: 'PT', url: '/pt', active: true, rank: 1, meta: { owner: { name: 'alice' } } },
  { id: '2', code: 'TL', url: '/tl', active: false, rank: 2 },
  { id: '3', code: 'WS', url: '/ws', active: true, rank: 3, meta: { owner: { name: 'bob' } } },
  { id: '4', code: 'FN', url: '/fn', active: true, rank: 4, meta: {} },
];

function idsOf(result: unknown[]): unknown[] {
  return result.map((row) => (row && typeof row === 'object' ? (row as Row)['id'] : row));
}

describe('applyFilter', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('returns every record for an empty or blank filter, as a copy', () => {
    const all = applyFilter(RECORDS, '');
    expect(all).toEqual(RECORDS);
    expect(all).not.toBe(RECORDS);
    expect(applyFilter(RECORDS, '   ')).toEqual(RECORDS);
  });

  it('filters on equality without a leading $', () => {
    expect(applyFilter(RECORDS, "[?(@.code=='TL')]")).toEqual([RECORDS[1]]);
  });

  it('filters on equality with a leading $', () => {
    expect(applyFilter(RECORDS, "$[?(@.code=='TL')]")).toEqual([RECORDS[1]]);
  });

  it('filters on booleans and numbers', () => {
    expect(idsOf(applyFilter(RECORDS, '[?(@.active==true)]'))).toEqual(['1', '3', '4']);
    expect(idsOf(applyFilter(RECORDS, '[?(@.rank > 2)]'))).toEqual(['3', '4']);
  });

  it('returns [] when nothing matches', () => {
    expect(applyFilter(RECORDS, "[?(@.code=='NOPE')]")).toEqual([]);
  });

  it.each(['IN', 'in'])('supports the %s list operator', (op) => {
    expect(idsOf(applyFilter(RECORDS, `[?(@.code ${op} ['PT','WS'])]`))).toEqual(['1', '3']);
  });

  it('supports NIN', () => {
    expect(idsOf(applyFilter(RECORDS, "[?(@.code NIN ['PT','WS'])]"))).toEqual(['2', '4']);
    expect(idsOf(applyFilter(RECORDS, "[?(@.code nin ['PT'])]"))).toEqual(['2', '3', '4']);
  });

  it('supports IN with double quotes and bracketed fields', () => {
    expect(idsOf(applyFilter(RECORDS, '[?(@.code IN ["TL"])]'))).toEqual(['2']);
    expect(idsOf(applyFilter(RECORDS, "[?(@['code'] IN ['FN'])]"))).toEqual(['4']);
  });

  it('supports && and ||', () => {
    expect(idsOf(applyFilter(RECORDS, "[?(@.code=='PT' || @.code=='FN')]"))).toEqual(['1', '4']);
    expect(idsOf(applyFilter(RECORDS, "[?(@.active==true && @.rank >= 3)]"))).toEqual(['3', '4']);
    expect(applyFilter(RECORDS, "[?(@.code=='PT' && @.id=='2')]")).toEqual([]);
  });

  it('combines IN with &&', () => {
    expect(idsOf(applyFilter(RECORDS, "[?(@.code IN ['PT','TL','WS'] && @.active==true)]"))).toEqual(['1', '3']);
  });

  it('matches nested fields without throwing on records that lack the parent', () => {
    expect(idsOf(applyFilter(RECORDS, "[?(@.meta.owner.name=='bob')]"))).toEqual(['3']);
    expect(idsOf(applyFilter(RECORDS, "[?(@.meta.owner.name IN ['alice','bob'])]"))).toEqual(['1', '3']);
  });

  it("projects each record onto the listed keys with [*]['id','url']", () => {
    expect(applyFilter(RECORDS, "[*]['id','url']")).toEqual([
      { id: '1', url: '/pt' },
      { id: '2', url: '/tl' },
      { id: '3', url: '/ws' },
      { id: '4', url: '/fn' },
    ]);
  });

  it('omits projected keys a record does not have', () => {
    expect(applyFilter([{ id: '1' }, { id: '2', url: '/x' }], "[*]['id','url']")).toEqual([{ id: '1' }, { id: '2', url: '/x' }]);
  });

  it('projects after a filter', () => {
    expect(applyFilter(RECORDS, "[?(@.code=='WS')]['id','url']")).toEqual([{ id: '3', url: '/ws' }]);
    expect(applyFilter(RECORDS, "$[?(@.code IN ['PT','TL'])]['code', \"rank\"]")).toEqual([
      { code: 'PT', rank: 1 },
      { code: 'TL', rank: 2 },
    ]);
  });

  it('selects one field of every record with $.*.code', () => {
    expect(applyFilter(RECORDS, '$.*.code')).toEqual(['PT', 'TL', 'WS', 'FN']);
  });

  it('does not modify the records', () => {
    const records = RECORDS.map((r) => structuredClone(r));
    applyFilter(records, "[*]['id','url']");
    applyFilter(records, "[?(@.code IN ['PT'])]");
    expect(records).toEqual(RECORDS);
  });

  it.each(["[?(@.code=='PT'", '[?(', "$[?(@.code=='PT')", '[?(@.code==)]'])('throws on the malformed path %j', (filter) => {
    expect(() => applyFilter(RECORDS, filter)).toThrow();
  });

  it.each([
    "[?(@.constructor.constructor('return process')().exit(1))]",
    "[?(@.constructor.constructor('globalThis.__plinthPwned = true')())]",
    "[?(@['constructor']['constructor']('globalThis.__plinthPwned = true')())]",
    "[?(''['constructor']['constructor']('globalThis.__plinthPwned = true')())]",
    "[?(@.code IN ['PT'] && @.constructor.constructor('globalThis.__plinthPwned = true')())]",
    "$..[?(@.constructor.constructor('globalThis.__plinthPwned = true')())]",
  ])('runs no code for the injection attempt %j', (filter) => {
    const exit = vi.spyOn(process, 'exit').mockImplementation(() => undefined as never);
    let result: unknown[] | undefined;
    try {
      result = applyFilter(RECORDS, filter);
    } catch {
      // Refusing the filter outright is as good as matching nothing.
      result = [];
    }
    const exits = exit.mock.calls.length;
    exit.mockRestore(); // the next test file may run in this process (vitest.config.ts: isolate)
    expect(result).toEqual([]);
    expect(exits).toBe(0);
    expect(Reflect.get(globalThis, '__plinthPwned')).toBeUndefined();
  });

  // A projection over plain values (here the code strings) skips them rather than throwing.
  it('projects over non-object matches without throwing', () => {
    expect(applyFilter(RECORDS, "$.*.code['id','url']")).toEqual([]);
  });

  describe('work budget (#14 finding 5)', () => {
    // 200 records of a few nested fields: about 1,600 nodes; `$..*` reads each a few times.
    const big = Array.from({ length: 200 }, (_, i) => ({ code: `C${i}`, name: `Name ${i}`, meta: { a: { b: [i, i + 1] }, c: 'x' } }));

    it('refuses nested recursive descents outright, before any work', () => {
      const budget = filterBudget(10_000);
      expect(() => applyFilter(big, '$..*..*', budget)).toThrow(FilterTooExpensive);
      expect(budget.used).toBe(big.length);
      expect(applyFilter(RECORDS, "[?(@.code=='..x..')]")).toEqual([]);
    });

    it('stops a path that reads everything at the budget instead of finishing it', () => {
      const budget = filterBudget(3_000);
      expect(() => applyFilter(big, '$..*', budget)).toThrow(FilterBudgetExceeded);
      // The work done before refusing is the budget, not the whole path's.
      expect(budget.used).toBeGreaterThan(3_000);
      expect(budget.used).toBeLessThan(3_100);
      const unbounded = filterBudget(Infinity);
      expect(applyFilter(big, '$..*', unbounded).length).toBeGreaterThan(1_500);
      expect(unbounded.used).toBeGreaterThan(6_000);
    });

    it('charges every filter of a search to one budget, unfiltered masters by their records', () => {
      const budget = filterBudget(900);
      for (let i = 0; i < 4; i++) applyFilter(big, '', budget);
      expect(budget.used).toBe(800);
      expect(() => applyFilter(big, '', budget)).toThrow(FilterBudgetExceeded);
    });

    it('refuses the budget even where a [?()] script would swallow the error', () => {
      const budget = filterBudget(50);
      expect(() => applyFilter(big, "[?(@.meta.a.b[0] > 1000 || @.name == 'x')]", budget)).toThrow(FilterBudgetExceeded);
    });

    it('answers the same as without a budget, with the stored objects (not proxies)', () => {
      const budget = filterBudget(1_000_000);
      const found = applyFilter(big, "[?(@.code IN ['C1','C7'])]", budget);
      expect(found).toEqual([big[1], big[7]]);
      expect(found[0]).toBe(big[1]);
      expect(applyFilter(big, '$.*.meta.a', budget)[3]).toBe(big[3]!.meta.a);
      expect(applyFilter(Object.freeze([Object.freeze({ code: 'F', deep: Object.freeze({ x: 1 }) })]), '$..x', budget)).toEqual([1]);
    });

    it(`refuses brackets nested deeper than ${MAX_FILTER_NESTING}`, () => {
      expect(() => applyFilter(RECORDS, `$${'['.repeat(20)}0${']'.repeat(20)}`)).toThrow(/nest deeper/);
      expect(applyFilter(RECORDS, "[?(@.code=='[[[[[[[[[[')]")).toEqual([]);
    });
  });
});
