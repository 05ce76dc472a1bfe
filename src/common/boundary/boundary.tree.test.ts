import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { buildTree, hierarchyOrder, type BoundaryTypeLevel, type EnrichedBoundary, type RelationNode } from './boundary.tree.js';

const level = (boundaryType: string, parentBoundaryType: string | null): BoundaryTypeLevel => ({
  boundaryType,
  parentBoundaryType,
  active: true,
});
const codes = (levels: BoundaryTypeLevel[]) => hierarchyOrder(levels).errors.map((e) => e.code);

describe('hierarchy definitions', () => {
  const chain = [
    level('State', null),
    level('District', 'State'),
    level('City', 'District'),
    level('Ward', 'City'),
    level('Locality', 'Ward'),
  ];

  it('orders a chain from its root, whatever order it is listed in', () => {
    fc.assert(
      fc.property(fc.shuffledSubarray(chain, { minLength: chain.length, maxLength: chain.length }), (shuffled) => {
        expect(hierarchyOrder(shuffled)).toEqual({ order: ['State', 'District', 'City', 'Ward', 'Locality'], errors: [] });
      }),
      { numRuns: 30 },
    );
    expect(hierarchyOrder([level('City', null)]).order).toEqual(['City']);
  });

  it('refuses a dangling parent type', () => {
    const errors = hierarchyOrder([level('City', null), level('Ward', 'Zone')]).errors;
    expect(errors).toEqual([expect.objectContaining({ code: 'INVALID_HIERARCHY_DEFINITION', params: ['Zone'] })]);
    expect(errors[0]!.message).toContain('Given parent type is not part of boundary hierarchy definition - Zone');
  });

  it('refuses two roots', () => {
    expect(codes([level('City', null), level('Village', null), level('Ward', 'City')])).toEqual(['MULTIPLE_ROOT_NODES_ERR']);
  });

  it('refuses cycles: beside a root, without a root, and a type that is its own parent', () => {
    const beside = hierarchyOrder([level('City', null), level('Ward', 'City'), level('A', 'B'), level('B', 'A')]).errors;
    expect(beside).toEqual([expect.objectContaining({ code: 'INVALID_HIERARCHY_DEFINITION', params: ['A', 'B'] })]);
    expect(beside[0]!.message).toContain('must not form a cycle');
    expect(codes([level('A', 'B'), level('B', 'A')])).toEqual(['INVALID_HIERARCHY_DEFINITION']);
    expect(hierarchyOrder([level('A', 'B'), level('B', 'A')]).errors[0]!.message).toContain('no root');
    expect(codes([level('City', null), level('Ward', 'Ward')])).toEqual(['INVALID_HIERARCHY_DEFINITION']);
  });

  it('refuses a type with two child types, a type listed twice, and an empty definition', () => {
    expect(hierarchyOrder([level('City', null), level('Ward', 'City'), level('Zone', 'City')]).errors).toEqual([
      expect.objectContaining({ code: 'INVALID_HIERARCHY_DEFINITION', params: ['City', 'Ward', 'Zone'] }),
    ]);
    expect(codes([level('City', null), level('Ward', 'City'), level('Ward', 'City')])).toContain('INVALID_HIERARCHY_DEFINITION');
    expect(codes([])).toEqual(['INVALID_HIERARCHY_DEFINITION']);
  });

  it('answers every problem at once', () => {
    expect(codes([level('City', null), level('Village', null), level('Ward', 'Zone')]).sort()).toEqual([
      'INVALID_HIERARCHY_DEFINITION',
      'MULTIPLE_ROOT_NODES_ERR',
    ]);
  });
});

describe('relationship trees', () => {
  const order = ['City', 'Zone', 'Ward', 'Locality'];
  const node = (code: string, boundaryType: string, path: string[]): RelationNode => ({
    id: `id-${code}`,
    code,
    boundaryType,
    parent: path.at(-1) ?? null,
    path,
  });
  const city = node('C', 'City', []);
  const zone = node('Z', 'Zone', ['C']);
  const w1 = node('W1', 'Ward', ['C', 'Z']);
  const w2 = node('W2', 'Ward', ['C', 'Z']);
  const l1 = node('L1', 'Locality', ['C', 'Z', 'W1']);
  const l2 = node('L2', 'Locality', ['C', 'Z', 'W2']);
  const shape = (tree: EnrichedBoundary[]): unknown => tree.map((b) => ({ [b.code]: shape(b.children) }));

  it('nests from the highest type present, siblings in the given order', () => {
    const tree = buildTree([city, zone, w2, w1, l1, l2], order);
    expect(shape(tree)).toEqual([{ C: [{ Z: [{ W2: [{ L2: [] }] }, { W1: [{ L1: [] }] }] }] }]);
    expect(tree[0]).toEqual({ id: 'id-C', code: 'C', boundaryType: 'City', children: [expect.objectContaining({ code: 'Z' })] });
  });

  it('answers a flat list when only one level is present, and leaves out nodes under no top-level node', () => {
    expect(shape(buildTree([l2, l1], order))).toEqual([{ L2: [] }, { L1: [] }]);
    // DIGIT's quirk: without W2 in the answer, L2 hangs under nothing and is left out.
    expect(shape(buildTree([w1, l1, l2], order))).toEqual([{ W1: [{ L1: [] }] }]);
    expect(buildTree([], order)).toEqual([]);
  });

  it('places each code once even if stored data held a cycle', () => {
    const a = { id: 'a', code: 'A', boundaryType: 'City', parent: 'B', path: ['B'] };
    const b = { id: 'b', code: 'B', boundaryType: 'City', parent: 'A', path: ['A'] };
    expect(shape(buildTree([a, b], order))).toEqual([{ A: [{ B: [] }] }]);
  });
});
