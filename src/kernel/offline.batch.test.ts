import { describe, expect, it } from 'vitest';
import { inRequestOrder, listFilter, namedOnce, withClientReference, type Parsed, type Refused } from './offline.batch.js';
import { identityIndex } from './offline.write.js';
import { inChunks } from './offline.store.js';

type Rec = { tenantId: string; id?: string | null; clientReferenceId?: string | null; bad?: boolean };
const parsed = (records: Rec[]): Array<Parsed<Rec>> => records.map((record, index) => ({ index, record }));

describe('offline batch machinery', () => {
  it('create: refuses a missing clientReferenceId, then the registry problem, then repeats within a tenant', () => {
    const refused: Refused[] = [];
    const kept = withClientReference(
      parsed([
        { tenantId: 'pb.a', clientReferenceId: 'c1' },
        { tenantId: 'pb.a' },
        { tenantId: 'pb.a', clientReferenceId: 'c1' },
        { tenantId: 'pb.b', clientReferenceId: 'c1' },
        { tenantId: 'pb.a', clientReferenceId: 'c2', bad: true },
      ]),
      refused,
      (r) => (r.bad ? { code: 'BAD', message: 'bad' } : undefined),
    );
    expect(kept.map((k) => k.index)).toEqual([0, 3]);
    expect(refused.map((r) => [r.index, r.refusal.code]).sort()).toEqual([
      [1, 'MISSING_CLIENT_REFERENCE_ID'],
      [2, 'DUPLICATE_ENTITY'],
      [4, 'BAD'],
    ]);
  });

  it('update/delete: NULL_ID worded for the entity, then the problem, one per id or client reference id', () => {
    const refused: Refused[] = [];
    const kept = namedOnce(
      parsed([
        { tenantId: 'pb.a', id: 'x' },
        { tenantId: 'pb.a' },
        { tenantId: 'pb.a', id: 'x' },
        { tenantId: 'pb.a', clientReferenceId: 'x' },
      ]),
      refused,
      { entity: 'task', verb: 'delete' },
    );
    expect(kept.map((k) => k.index)).toEqual([0, 3]);
    expect(refused.find((r) => r.index === 1)?.refusal).toEqual({
      code: 'NULL_ID',
      message: 'id (or clientReferenceId) is required to delete a task',
    });
    expect(refused.find((r) => r.index === 2)?.refusal.code).toBe('DUPLICATE_ENTITY');
  });

  it('finds stored rows by either key and says when the two keys name different rows', () => {
    const row = (id: string, ref: string) => ({ id, client_reference_id: ref, row_version: 1, is_deleted: false });
    const index = identityIndex([row('a', 'ra'), row('b', 'rb')]);
    expect(index.find({ id: 'a' })).toMatchObject({ id: 'a' });
    expect(index.find({ clientReferenceId: 'rb' })).toMatchObject({ id: 'b' });
    expect(index.find({ id: 'a', clientReferenceId: 'rb' })).toBe('mismatch');
    expect(index.find({ id: 'zz' })).toBeUndefined();
    index.put(row('c', 'rc'));
    expect(index.find({ clientReferenceId: 'rc' })).toMatchObject({ id: 'c' });
  });

  it('looks up de-duplicated keys in chunks of 500 and skips an empty list', async () => {
    const calls: number[] = [];
    const keys = Array.from({ length: 1201 }, (_, i) => `k${i % 1100}`);
    const out = await inChunks(keys, async (part) => {
      calls.push(part.length);
      return part;
    });
    expect(calls).toEqual([500, 500, 100]);
    expect(out).toHaveLength(1100);
    expect(await inChunks([], async () => [1])).toEqual([]);
  });

  it('answers accepted rows in request order; list filters drop empty and repeated values', () => {
    expect(
      inRequestOrder(
        new Map([
          [2, 'c'],
          [0, 'a'],
          [1, 'b'],
        ]),
        (r) => r.toUpperCase(),
      ),
    ).toEqual(['A', 'B', 'C']);
    expect(listFilter(null)).toBeUndefined();
    expect(listFilter([])).toBeUndefined();
    expect(listFilter('x')).toEqual(['x']);
    expect(listFilter(['x', 'x', 'y'])).toEqual(['x', 'y']);
  });
});
