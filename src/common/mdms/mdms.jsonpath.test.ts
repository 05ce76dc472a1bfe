import { afterEach, describe, it, expect, vi } from 'vitest';
import { applyFilter } from './mdms.jsonpath.js';

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
    expect(result).toEqual([]);
    expect(exit).not.toHaveBeenCalled();
    expect(Reflect.get(globalThis, '__plinthPwned')).toBeUndefined();
  });

  // A projection over plain values (here the code strings) skips them rather than throwing.
  it('projects over non-object matches without throwing', () => {
    expect(applyFilter(RECORDS, "$.*.code['id','url']")).toEqual([]);
  });
});
