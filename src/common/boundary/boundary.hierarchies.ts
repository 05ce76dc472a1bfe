import type { Tx } from '../../kernel/db.js';
import { DomainError, invalid } from '../../kernel/errors.js';
import { newId } from '../../kernel/ids.js';
import { assertInScope, scopeKey, type Scope } from '../../kernel/scope.js';
import type { Cached } from './boundary.entities.js';
import {
  CHANGE_TOPIC,
  DEFAULT_LIMIT,
  MAX_LIMIT,
  SOURCE,
  checkName,
  gather,
  isTypeName,
  toHierarchy,
  type Actor,
  type WriteDeps,
} from './boundary.rules.js';
import type { BoundaryHierarchy, BoundaryHierarchyInput } from './boundary.schema.js';
import { isUniqueViolation, type BoundaryStore, type HierarchyRow, type Runner } from './boundary.store.js';
import { hierarchyOrder, type BoundaryTypeLevel } from './boundary.tree.js';

// Hierarchy definitions (DIGIT's /boundary-hierarchy-definition/_create and _search): one chain of
// boundary types from a single root, immutable once created.

export type HierarchySearchCriteria = {
  tenantId: string;
  hierarchyType?: string | null | undefined;
  offset?: number | undefined;
  limit?: number | undefined;
};

/** The hierarchy's boundary types, root first; 400 when the hierarchy is not defined at the tenant. */
export async function orderOf(store: BoundaryStore, db: Runner, tenantId: string, hierarchyType: string, scope: Scope): Promise<string[]> {
  const definition = await store.findHierarchy(db, tenantId, hierarchyType, scope);
  if (!definition) {
    throw invalid('HIERARCHY_DEFINITION_DOES_NOT_EXIST_ERR', `Hierarchy definition ${hierarchyType} does not exist at tenant ${tenantId}`, [
      hierarchyType,
    ]);
  }
  return hierarchyOrder(definition.boundary_hierarchy).order;
}

/** The levels as stored: an empty or missing parent is none, `active` defaults to true. */
export function levelsOf(input: BoundaryHierarchyInput): BoundaryTypeLevel[] {
  return input.boundaryHierarchy.map((level) => ({
    boundaryType: level.boundaryType,
    parentBoundaryType:
      level.parentBoundaryType === undefined || level.parentBoundaryType === null || level.parentBoundaryType === ''
        ? null
        : level.parentBoundaryType,
    active: level.active ?? true,
  }));
}

export async function createHierarchyInTx(
  { store, clock, outbox, changes }: WriteDeps,
  tx: Tx,
  input: BoundaryHierarchyInput,
  actor: Actor,
  scope: Scope,
): Promise<BoundaryHierarchy> {
  assertInScope(scope, input.tenantId);
  const db = store.runner(tx);
  const levels = levelsOf(input);
  await gather([
    () => checkName(input.hierarchyType, 'type', 'INVALID_HIERARCHY_TYPE', 'BoundaryHierarchy.hierarchyType'),
    ...levels.map(
      (level, i) => () =>
        checkName(level.boundaryType, 'type', 'INVALID_BOUNDARY_TYPE', `BoundaryHierarchy.boundaryHierarchy[${i}].boundaryType`),
    ),
    () => {
      const { errors } = hierarchyOrder(levels);
      if (errors.length > 0) throw new DomainError('invalid', errors);
    },
  ]);
  if (await store.findHierarchy(db, input.tenantId, input.hierarchyType, scope)) {
    throw invalid(
      'DUPLICATE_RECORD',
      `Boundary hierarchy ${input.hierarchyType} already exists at tenant ${input.tenantId}; definitions cannot change`,
      [input.hierarchyType],
    );
  }
  const now = clock.now();
  const row: HierarchyRow = {
    id: newId(),
    tenant_id: input.tenantId,
    hierarchy_type: input.hierarchyType,
    boundary_hierarchy: levels,
    created_by: actor.uuid,
    last_modified_by: actor.uuid,
    created_time: now,
    last_modified_time: now,
  };
  try {
    await store.insertHierarchy(db, row, scope);
  } catch (error) {
    if (isUniqueViolation(error))
      throw invalid('DUPLICATE_RECORD', `Boundary hierarchy ${input.hierarchyType} already exists at tenant ${input.tenantId}`);
    throw error;
  }
  const hierarchy = toHierarchy(row);
  await outbox.append(tx, {
    type: 'plinth.boundary.hierarchy.created.v1',
    source: SOURCE,
    subject: row.id,
    tenantId: row.tenant_id,
    data: hierarchy,
  });
  await changes.publish(tx, CHANGE_TOPIC);
  return hierarchy;
}

export async function searchHierarchies(
  { store, cached }: { store: BoundaryStore; cached: Cached },
  criteria: HierarchySearchCriteria,
  scope: Scope,
): Promise<{ totalCount: number; hierarchies: BoundaryHierarchy[] }> {
  const hierarchyType = criteria.hierarchyType ?? undefined;
  const offset = criteria.offset ?? 0;
  const limit = Math.min(criteria.limit ?? DEFAULT_LIMIT, MAX_LIMIT);
  return cached(
    `hierarchies|${scopeKey(scope)}|${JSON.stringify([criteria.tenantId, hierarchyType ?? null, offset, limit])}`,
    (found: { hierarchies: BoundaryHierarchy[] }) => found.hierarchies.length,
    async () => {
      if (hierarchyType !== undefined && !isTypeName(hierarchyType)) return { totalCount: 0, hierarchies: [] };
      const { rows, totalCount } = await store.searchHierarchies(
        store.runner(),
        { tenantId: criteria.tenantId, hierarchyType, offset, limit },
        scope,
      );
      return { totalCount, hierarchies: rows.map(toHierarchy) };
    },
  );
}
