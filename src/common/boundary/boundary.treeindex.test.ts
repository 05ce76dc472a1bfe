import { describe, expect, it } from 'vitest';
import type { BoundaryStore, HierarchyRow, RelationshipRow } from './boundary.store.js';
import { SYSTEM_SCOPE } from '../../kernel/scope.js';
import { findNode, loadTree, searchRelationships, type TreeOf } from './boundary.treeindex.js';

// The relationship search and node look-up on their own (issue #15: operations testable alone):
// a store that answers one hierarchy from memory, no database, no service.

const levels = [
  { boundaryType: 'City', parentBoundaryType: null, active: true },
  { boundaryType: 'Ward', parentBoundaryType: 'City', active: true },
  { boundaryType: 'Locality', parentBoundaryType: 'Ward', active: true },
];
const node = (code: string, boundaryType: string, path: string[]): RelationshipRow => ({
  id: `id-${code}`,
  tenant_id: 'pb.amritsar',
  hierarchy_type: 'ADMIN',
  code,
  boundary_type: boundaryType,
  parent: path[path.length - 1] ?? null,
  ancestral_path: path.join('|'),
  created_by: null,
  last_modified_by: null,
  created_time: 1,
  last_modified_time: 1,
});
// Newest first, as the store answers.
const rows = [
  node('LOC2', 'Locality', ['CITY', 'W2']),
  node('LOC1', 'Locality', ['CITY', 'W1']),
  node('W2', 'Ward', ['CITY']),
  node('W1', 'Ward', ['CITY']),
  node('CITY', 'City', []),
];
const hierarchy: HierarchyRow = {
  id: 'h',
  tenant_id: 'pb.amritsar',
  hierarchy_type: 'ADMIN',
  boundary_hierarchy: levels,
  created_by: null,
  last_modified_by: null,
  created_time: 1,
  last_modified_time: 1,
};
const store = {
  runner: () => ({}),
  findHierarchy: async (_db: unknown, tenantId: string, type: string) =>
    tenantId === 'pb.amritsar' && type === 'ADMIN' ? hierarchy : undefined,
  relationships: async () => rows,
} as unknown as BoundaryStore;
const treeOf: TreeOf = (tenantId, type, scope) => loadTree(store, tenantId, type, scope);

const codesOf = (tree: Array<{ code: string; children: unknown[] }>): string[] =>
  tree.flatMap((b) => [b.code, ...codesOf(b.children as Array<{ code: string; children: unknown[] }>)]);

describe('relationship search from the tree index', () => {
  it('answers the roots, a subtree, or a node with its parents', async () => {
    const search = async (criteria: object) =>
      codesOf(
        (await searchRelationships(treeOf, { tenantId: 'pb.amritsar', hierarchyType: 'ADMIN', ...criteria }, SYSTEM_SCOPE))
          .boundary as never,
      );
    expect(await search({})).toEqual(['CITY']);
    expect(await search({ codes: ['W1'], includeChildren: true })).toEqual(['W1', 'LOC1']);
    expect(await search({ codes: ['LOC2'], includeParents: true })).toEqual(['CITY', 'W2', 'LOC2']);
    expect(await search({ boundaryType: 'Locality' })).toEqual(['LOC2', 'LOC1']);
  });

  it('refuses a bad hierarchy type and an undefined hierarchy with 400', async () => {
    await expect(searchRelationships(treeOf, { tenantId: 'pb.amritsar', hierarchyType: 'A|B' }, SYSTEM_SCOPE)).rejects.toMatchObject({
      code: 'INVALID_HIERARCHY_TYPE',
    });
    await expect(searchRelationships(treeOf, { tenantId: 'pb.amritsar', hierarchyType: 'OTHER' }, SYSTEM_SCOPE)).rejects.toMatchObject({
      code: 'HIERARCHY_DEFINITION_DOES_NOT_EXIST_ERR',
    });
  });

  it('finds a node with its ancestors; nothing for unknown codes or hierarchies', async () => {
    expect(await findNode(treeOf, 'pb.amritsar', 'ADMIN', 'LOC1', SYSTEM_SCOPE)).toEqual({
      code: 'LOC1',
      boundaryType: 'Locality',
      parent: 'W1',
      ancestors: ['CITY', 'W1'],
    });
    expect(await findNode(treeOf, 'pb.amritsar', 'ADMIN', 'NOPE', SYSTEM_SCOPE)).toBeUndefined();
    expect(await findNode(treeOf, 'pb.amritsar', 'OTHER', 'LOC1', SYSTEM_SCOPE)).toBeUndefined();
  });
});
