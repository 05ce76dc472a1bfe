import { DomainError } from '../../kernel/errors.js';
import type { Scope } from '../../kernel/scope.js';
import { orderOf } from './boundary.hierarchies.js';
import { checkName, isCode, isTypeName, pathOf, push, splitCodes } from './boundary.rules.js';
import type { TenantBoundary } from './boundary.schema.js';
import type { BoundaryStore } from './boundary.store.js';
import { buildTree, type RelationNode } from './boundary.tree.js';

// The read side of relationships: each hierarchy is loaded once into memory (TreeIndex) and the
// relationship search and other modules' node look-ups are answered from it.

export type RelationshipSearchCriteria = {
  tenantId: string;
  hierarchyType: string;
  boundaryType?: string | undefined;
  codes?: readonly string[] | undefined;
  parent?: string | undefined;
  includeChildren?: boolean | undefined;
  includeParents?: boolean | undefined;
};

/** Where a boundary sits in a hierarchy, for other modules (e.g. a complaint's locality and its ward). */
export type BoundaryNode = {
  readonly code: string;
  readonly boundaryType: string;
  readonly parent: string | null;
  /** Ancestors' codes, root first. */
  readonly ancestors: readonly string[];
};

/** One hierarchy, in memory: relationship searches and node look-ups are answered from it. */
export type TreeIndex = {
  order: string[];
  nodes: RelationNode[];
  rank: Map<string, number>;
  byCode: Map<string, RelationNode>;
  byType: Map<string, RelationNode[]>;
  children: Map<string, RelationNode[]>;
  roots: RelationNode[];
};

/** Reads one hierarchy's definition and nodes (newest first, DIGIT's answer order) into an index. */
export async function loadTree(store: BoundaryStore, tenantId: string, hierarchyType: string, scope: Scope): Promise<TreeIndex> {
  const db = store.runner();
  const order = await orderOf(store, db, tenantId, hierarchyType, scope);
  const rows = await store.relationships(db, tenantId, hierarchyType, scope);
  const index: TreeIndex = { order, nodes: [], rank: new Map(), byCode: new Map(), byType: new Map(), children: new Map(), roots: [] };
  for (const row of rows) {
    const node: RelationNode = { id: row.id, code: row.code, boundaryType: row.boundary_type, parent: row.parent, path: pathOf(row) };
    index.rank.set(node.code, index.nodes.length);
    index.nodes.push(node);
    index.byCode.set(node.code, node);
    push(index.byType, node.boundaryType, node);
    if (node.parent === null) index.roots.push(node);
    else push(index.children, node.parent, node);
  }
  return index;
}

/** The hierarchy's index as `scope` sees it (the service caches it). */
export type TreeOf = (tenantId: string, hierarchyType: string, scope: Scope) => Promise<TreeIndex>;

/**
 * DIGIT's relationship search: the nodes matching codes, boundary type and parent (the roots
 * when none is given), with all their ancestors (`includeParents`) and all their descendants
 * (`includeChildren`), answered as a tree from the highest level present.
 */
export async function searchRelationships(treeOf: TreeOf, criteria: RelationshipSearchCriteria, scope: Scope): Promise<TenantBoundary> {
  const { tenantId, hierarchyType } = criteria;
  checkName(hierarchyType, 'type', 'INVALID_HIERARCHY_TYPE', 'hierarchyType');
  const index = await treeOf(tenantId, hierarchyType, scope);
  const codes = splitCodes(criteria.codes);
  const boundaryType = criteria.boundaryType || undefined;
  const parent = criteria.parent || undefined;
  let matched: RelationNode[];
  if (codes) matched = codes.flatMap((c) => index.byCode.get(c) ?? []);
  else if (boundaryType) matched = index.byType.get(boundaryType) ?? [];
  else if (parent) matched = index.children.get(parent) ?? [];
  else matched = index.roots;
  matched = matched.filter((n) => (!boundaryType || n.boundaryType === boundaryType) && (!parent || n.parent === parent));

  const picked = new Set<RelationNode>(matched);
  if (criteria.includeParents) {
    for (const node of matched) for (const code of node.path) picked.add(index.byCode.get(code) ?? node);
  }
  if (criteria.includeChildren) {
    const stack = [...matched];
    for (let node = stack.pop(); node; node = stack.pop()) {
      for (const child of index.children.get(node.code) ?? []) {
        if (!picked.has(child)) {
          picked.add(child);
          stack.push(child);
        }
      }
    }
  }
  const ordered = [...picked].sort((a, b) => index.rank.get(a.code)! - index.rank.get(b.code)!);
  return { tenantId, hierarchyType, boundary: buildTree(ordered, index.order) };
}

/** A boundary's place in a hierarchy, from memory; undefined when it is not in it. */
export async function findNode(
  treeOf: TreeOf,
  tenantId: string,
  hierarchyType: string,
  code: string,
  scope: Scope,
): Promise<BoundaryNode | undefined> {
  if (!isTypeName(hierarchyType) || !isCode(code)) return undefined;
  let index: TreeIndex;
  try {
    index = await treeOf(tenantId, hierarchyType, scope);
  } catch (error) {
    if (error instanceof DomainError && error.kind === 'invalid') return undefined;
    throw error;
  }
  const node = index.byCode.get(code);
  return node && { code: node.code, boundaryType: node.boundaryType, parent: node.parent, ancestors: node.path };
}
