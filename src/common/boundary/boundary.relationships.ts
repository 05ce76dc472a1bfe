import type { Tx } from '../../kernel/db.js';
import { invalid } from '../../kernel/errors.js';
import { newId } from '../../kernel/ids.js';
import { assertInScope, type Scope } from '../../kernel/scope.js';
import { orderOf } from './boundary.hierarchies.js';
import { CHANGE_TOPIC, SOURCE, checkName, gather, pathOf, toRelation, type Actor, type WriteDeps } from './boundary.rules.js';
import type { BoundaryRelation, BoundaryRelationInput } from './boundary.schema.js';
import { isUniqueViolation, type RelationshipRow } from './boundary.store.js';

// Relationships (DIGIT's /boundary-relationships/_create and _update): where a boundary sits in a
// hierarchy, under a parent of the level above. Searches are answered from memory (boundary.treeindex.ts).

function checkRelationInput(input: BoundaryRelationInput): Promise<void> {
  return gather([
    () => checkName(input.code, 'code', 'INVALID_BOUNDARY_CODE', 'BoundaryRelationship.code'),
    () => checkName(input.hierarchyType, 'type', 'INVALID_HIERARCHY_TYPE', 'BoundaryRelationship.hierarchyType'),
    () => checkName(input.boundaryType, 'type', 'INVALID_BOUNDARY_TYPE', 'BoundaryRelationship.boundaryType'),
    () => input.parent && checkName(input.parent, 'code', 'INVALID_BOUNDARY_CODE', 'BoundaryRelationship.parent'),
  ]);
}

export async function createRelationshipInTx(
  deps: WriteDeps,
  tx: Tx,
  input: BoundaryRelationInput,
  actor: Actor,
  scope: Scope,
): Promise<BoundaryRelation> {
  const { store, clock, outbox, changes } = deps;
  assertInScope(scope, input.tenantId);
  await checkRelationInput(input);
  const db = store.runner(tx);
  const { tenantId, hierarchyType, code, boundaryType } = input;
  const parentCode = input.parent ? input.parent : null;
  if ((await store.findEntities(db, tenantId, [code], scope)).length === 0) {
    throw invalid(
      'BOUNDARY_ENTITY_DOES_NOT_EXIST',
      `Boundary entity ${code} does not exist at tenant ${tenantId}: create it with /boundary-service/boundary/_create first`,
      [code],
    );
  }
  const existing = await store.findRelationship(db, tenantId, hierarchyType, code, scope);
  if (existing) {
    const where = existing.parent === null ? 'as a root' : `under ${existing.parent}`;
    throw invalid(
      'DUPLICATE_RECORD',
      `Boundary ${code} is already in hierarchy ${hierarchyType} ${where}: a boundary has one parent per hierarchy (use _update to move it)`,
      [code],
    );
  }
  const order = await orderOf(store, db, tenantId, hierarchyType, scope);
  if (!order.includes(boundaryType)) {
    throw invalid('BOUNDARY_TYPE_ERROR', `Boundary type ${boundaryType} is not part of hierarchy ${hierarchyType} (${order.join(' > ')})`, [
      boundaryType,
    ]);
  }
  let path: string[] = [];
  if (parentCode === null) {
    if (boundaryType !== order[0]) {
      throw invalid(
        'HIERARCHY_ERROR',
        `A boundary without a parent must have the root boundary type of ${hierarchyType}, ${order[0]}; ${code} is a ${boundaryType}`,
        [code],
      );
    }
  } else {
    const parent = await store.findRelationship(db, tenantId, hierarchyType, parentCode, scope);
    if (!parent) {
      throw invalid('PARENT_NOT_FOUND', `Parent ${parentCode} of ${code} is not in hierarchy ${hierarchyType} at tenant ${tenantId}`, [
        parentCode,
      ]);
    }
    const childType = order[order.indexOf(parent.boundary_type) + 1];
    if (boundaryType !== childType) {
      throw invalid(
        'HIERARCHY_ERROR',
        `A ${boundaryType} cannot be a child of ${parentCode}, a ${parent.boundary_type}: in ${hierarchyType} the child type of ${parent.boundary_type} is ${childType ?? 'none (it is the last level)'}`,
        [code, parentCode],
      );
    }
    path = [...pathOf(parent), parent.code];
    if (path.includes(code))
      throw invalid('HIERARCHY_ERROR', `${code} cannot be placed under ${parentCode}: that would form a cycle`, [code, parentCode]);
  }
  const now = clock.now();
  const row: RelationshipRow = {
    id: newId(),
    tenant_id: tenantId,
    hierarchy_type: hierarchyType,
    code,
    boundary_type: boundaryType,
    parent: parentCode,
    ancestral_path: path.join('|'),
    created_by: actor.uuid,
    last_modified_by: actor.uuid,
    created_time: now,
    last_modified_time: now,
  };
  try {
    await store.insertRelationship(db, row, scope);
  } catch (error) {
    if (isUniqueViolation(error))
      throw invalid('DUPLICATE_RECORD', `Boundary ${code} is already in hierarchy ${hierarchyType} (created concurrently)`, [code]);
    throw error;
  }
  const relation = toRelation(row);
  await outbox.append(tx, { type: 'plinth.boundary.relationship.created.v1', source: SOURCE, subject: row.id, tenantId, data: relation });
  await changes.publish(tx, CHANGE_TOPIC);
  return relation;
}

/** Moves a boundary under another parent of the same level; its descendants move with it. */
export async function updateRelationshipInTx(
  deps: WriteDeps,
  tx: Tx,
  input: BoundaryRelationInput,
  actor: Actor,
  scope: Scope,
): Promise<BoundaryRelation> {
  const { store, clock, outbox, changes } = deps;
  assertInScope(scope, input.tenantId);
  await checkRelationInput(input);
  const db = store.runner(tx);
  const { tenantId, hierarchyType, code } = input;
  const existing = await store.findRelationship(db, tenantId, hierarchyType, code, scope);
  if (!existing) {
    throw invalid('BOUNDARY_RELATIONSHIP_DOES_NOT_EXIST', `Boundary ${code} is not in hierarchy ${hierarchyType} at tenant ${tenantId}`, [
      code,
    ]);
  }
  if (input.boundaryType !== existing.boundary_type) {
    throw invalid(
      'HIERARCHY_DISTURBED_ERR',
      `Parent updates are only allowed horizontally: ${code} is a ${existing.boundary_type} and cannot become a ${input.boundaryType}`,
      [code],
    );
  }
  const parentCode = input.parent ? input.parent : null;
  if (existing.parent === null && parentCode !== null) {
    throw invalid('HIERARCHY_DISTURBED_ERR', `${code} is a root of ${hierarchyType}: it can't be made a child of any other boundary`, [
      code,
    ]);
  }
  if (existing.parent !== null && parentCode === null) {
    throw invalid(
      'HIERARCHY_DISTURBED_ERR',
      `${code} is a ${existing.boundary_type}, which is not the root type of ${hierarchyType}: it needs a parent`,
      [code],
    );
  }
  if (parentCode === existing.parent) return toRelation(existing);
  const parent = await store.findRelationship(db, tenantId, hierarchyType, parentCode!, scope);
  if (!parent) {
    throw invalid(
      'BOUNDARY_RELATIONSHIP_DOES_NOT_EXIST',
      `Parent ${parentCode} is not in hierarchy ${hierarchyType} at tenant ${tenantId}`,
      [parentCode!],
    );
  }
  const order = await orderOf(store, db, tenantId, hierarchyType, scope);
  const parentType = order[order.indexOf(existing.boundary_type) - 1];
  if (parent.boundary_type !== parentType) {
    throw invalid(
      'HIERARCHY_ERROR',
      `${code}, a ${existing.boundary_type}, can only be placed under a ${parentType ?? '(nothing: it is the root type)'}; ${parent.code} is a ${parent.boundary_type}`,
      [code, parent.code],
    );
  }
  const newPath = [...pathOf(parent), parent.code];
  if (parent.code === code || newPath.includes(code)) {
    throw invalid('HIERARCHY_ERROR', `${code} cannot be placed under ${parent.code}, which lies below it: that would form a cycle`, [
      code,
      parent.code,
    ]);
  }
  const now = clock.now();
  const oldPrefix = [...pathOf(existing), code].join('|');
  const newPrefix = [...newPath, code].join('|');
  for (const below of await store.descendants(db, tenantId, hierarchyType, oldPrefix, scope)) {
    await store.updateRelationship(db, below.id, { ancestral_path: newPrefix + below.ancestral_path.slice(oldPrefix.length) }, scope);
  }
  const changesToRow = { parent: parent.code, ancestral_path: newPath.join('|'), last_modified_by: actor.uuid, last_modified_time: now };
  await store.updateRelationship(db, existing.id, changesToRow, scope);
  const relation = toRelation({ ...existing, ...changesToRow });
  await outbox.append(tx, {
    type: 'plinth.boundary.relationship.updated.v1',
    source: SOURCE,
    subject: existing.id,
    tenantId,
    data: relation,
  });
  await changes.publish(tx, CHANGE_TOPIC);
  return relation;
}
