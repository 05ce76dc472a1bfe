import type { ErrorDetail } from '../../kernel/errors.js';

/** One level of a hierarchy definition, as DIGIT's `BoundaryTypeHierarchy`. */
export type BoundaryTypeLevel = { boundaryType: string; parentBoundaryType: string | null; active: boolean };

/** A boundary's place in one hierarchy; `path` holds its ancestors' codes, root first. */
export type RelationNode = {
  readonly id: string;
  readonly code: string;
  readonly boundaryType: string;
  readonly parent: string | null;
  readonly path: readonly string[];
};

/** DIGIT's `EnrichedBoundary`: the shape relationship search answers in. */
export type EnrichedBoundary = { id: string; code: string; boundaryType: string; children: EnrichedBoundary[] };

const problem = (code: string, message: string, params: string[]): ErrorDetail => ({ code, message, params });
const BAD_DEFINITION = 'INVALID_HIERARCHY_DEFINITION';

/**
 * Checks a hierarchy definition and answers its boundary types from the root down. DIGIT's
 * hierarchies are one chain: a single root, every parent type defined, no type with two child
 * types, no cycles. Every problem found is answered, not just the first.
 */
export function hierarchyOrder(levels: readonly BoundaryTypeLevel[]): { order: string[]; errors: ErrorDetail[] } {
  const errors: ErrorDetail[] = [];
  if (levels.length === 0) {
    return { order: [], errors: [problem(BAD_DEFINITION, 'A hierarchy definition must list at least one boundary type', [])] };
  }
  const types = new Set<string>();
  for (const { boundaryType } of levels) {
    if (types.has(boundaryType))
      errors.push(problem(BAD_DEFINITION, `Boundary type "${boundaryType}" is listed more than once`, [boundaryType]));
    types.add(boundaryType);
  }
  const childTypes = new Map<string, string[]>();
  for (const { boundaryType, parentBoundaryType: parent } of levels) {
    if (parent === null) continue;
    if (parent === boundaryType) {
      errors.push(
        problem(BAD_DEFINITION, `Hierarchy entities must not form a cycle: "${boundaryType}" is its own parent type`, [boundaryType]),
      );
    } else if (!types.has(parent)) {
      errors.push(
        problem(
          BAD_DEFINITION,
          `Given parent type is not part of boundary hierarchy definition - ${parent} (parent of "${boundaryType}")`,
          [parent],
        ),
      );
    } else {
      childTypes.set(parent, [...(childTypes.get(parent) ?? []), boundaryType]);
    }
  }
  for (const [parent, children] of childTypes) {
    if (children.length > 1) {
      errors.push(
        problem(
          BAD_DEFINITION,
          `Boundary type "${parent}" is the parent type of ${children.map((c) => `"${c}"`).join(' and ')}: a hierarchy is a single chain of types`,
          [parent, ...children],
        ),
      );
    }
  }
  const roots = levels.filter((l) => l.parentBoundaryType === null).map((l) => l.boundaryType);
  if (roots.length > 1) {
    errors.push(
      problem(
        'MULTIPLE_ROOT_NODES_ERR',
        `Hierarchy definition must have only one root node; ${roots.map((r) => `"${r}"`).join(', ')} have no parent type`,
        roots,
      ),
    );
  }
  if (roots.length === 0) {
    errors.push(
      problem(BAD_DEFINITION, 'Hierarchy definition has no root: every boundary type has a parent type, so the types form a cycle', []),
    );
  }
  if (errors.length > 0) return { order: [], errors };

  const order: string[] = [roots[0]!];
  for (let next = childTypes.get(roots[0]!)?.[0]; next !== undefined && !order.includes(next); next = childTypes.get(next)?.[0])
    order.push(next);
  if (order.length < levels.length) {
    const cycle = levels.map((l) => l.boundaryType).filter((t) => !order.includes(t));
    errors.push(
      problem(
        BAD_DEFINITION,
        `Hierarchy entities must not form a cycle: ${cycle.map((c) => `"${c}"`).join(', ')} cannot be reached from the root "${roots[0]}"`,
        cycle,
      ),
    );
    return { order: [], errors };
  }
  return { order, errors };
}

/**
 * DIGIT's relationship search answer: the nodes of the first boundary type (in hierarchy order)
 * present among `nodes` are the top level, and every node hangs under its parent when the parent
 * is among `nodes` too; nodes under no present ancestor of that type are left out, as DIGIT does.
 * `nodes` come in answer order (DIGIT: newest first) and keep it among siblings.
 */
export function buildTree(nodes: readonly RelationNode[], order: readonly string[]): EnrichedBoundary[] {
  const present = new Set(nodes.map((n) => n.boundaryType));
  const topType = order.find((type) => present.has(type));
  if (topType === undefined) return [];
  const byParent = new Map<string, RelationNode[]>();
  for (const node of nodes) {
    if (node.parent === null) continue;
    const siblings = byParent.get(node.parent);
    if (siblings) siblings.push(node);
    else byParent.set(node.parent, [node]);
  }
  const seen = new Set<string>();
  const build = (node: RelationNode): EnrichedBoundary => {
    seen.add(node.code);
    // `seen` guards against a cycle in stored data: each code is placed once.
    const children: EnrichedBoundary[] = [];
    for (const child of byParent.get(node.code) ?? []) if (!seen.has(child.code)) children.push(build(child));
    return { id: node.id, code: node.code, boundaryType: node.boundaryType, children };
  };
  const tree: EnrichedBoundary[] = [];
  for (const node of nodes) if (node.boundaryType === topType && !seen.has(node.code)) tree.push(build(node));
  return tree;
}
