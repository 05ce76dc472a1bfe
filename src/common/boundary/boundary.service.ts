import { createReadCache } from '../../kernel/cache.js';
import type { ChangeFeed } from '../../kernel/changes.js';
import type { Clock } from '../../kernel/clock.js';
import { auditDetailsOf } from '../../kernel/envelope.js';
import type { Database, Tx } from '../../kernel/db.js';
import { DomainError, invalid, type ErrorDetail } from '../../kernel/errors.js';
import type { Outbox } from '../../kernel/events.js';
import { newId } from '../../kernel/ids.js';
import { assertKnownTenant, type TenantDirectory } from '../../kernel/tenancy.js';
import { parseGeometry } from './boundary.geometry.js';
import type {
  Boundary,
  BoundaryHierarchy,
  BoundaryHierarchyInput,
  BoundaryInput,
  BoundaryRelation,
  BoundaryRelationInput,
  TenantBoundary,
} from './boundary.schema.js';
import {
  isUniqueViolation,
  type BoundaryStore,
  type EntityRow,
  type HierarchyRow,
  type RelationshipRow,
  type Runner,
} from './boundary.store.js';
import { buildTree, hierarchyOrder, type BoundaryTypeLevel, type RelationNode } from './boundary.tree.js';

/** Who is writing; null for the seed loader. */
export type Actor = { uuid: string | null };

export type BoundarySearchCriteria = {
  tenantId: string;
  codes?: readonly string[] | undefined;
  offset?: number | undefined;
  limit?: number | undefined;
};
export type HierarchySearchCriteria = {
  tenantId: string;
  hierarchyType?: string | null | undefined;
  offset?: number | undefined;
  limit?: number | undefined;
};
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

/**
 * Boundary codes and type names: letters, digits and `_ . - : / ( )`, single inner spaces. No '|'
 * (DIGIT's path delimiter) and ASCII only, so a stored path's character prefix is a path prefix.
 */
const NAME = /^[A-Za-z0-9_.:/()-]+( [A-Za-z0-9_.:/()-]+)*$/;
const isCode = (value: string) => value.length <= 128 && NAME.test(value);
const isTypeName = (value: string) => value.length <= 64 && NAME.test(value);

const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 1000;
const MAX_CODES = 1000;
const SOURCE = '/plinth/boundary';
const CHANGE_TOPIC = 'boundary';

export type BoundaryServiceDeps = {
  database: Database;
  store: BoundaryStore;
  clock: Clock;
  outbox: Outbox;
  changes: ChangeFeed;
  tenants: TenantDirectory;
};

/** One hierarchy, in memory: relationship searches and node look-ups are answered from it. */
type TreeIndex = {
  order: string[];
  nodes: RelationNode[];
  rank: Map<string, number>;
  byCode: Map<string, RelationNode>;
  byType: Map<string, RelationNode[]>;
  children: Map<string, RelationNode[]>;
  roots: RelationNode[];
};

function pathOf(row: Pick<RelationshipRow, 'ancestral_path'>): string[] {
  return row.ancestral_path === '' ? [] : row.ancestral_path.split('|');
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** `codes=A,B&codes=C` → [A, B, C]: DIGIT clients send lists comma-separated in one parameter. */
function splitCodes(codes: readonly string[] | undefined): string[] | undefined {
  if (codes === undefined) return undefined;
  const all = [
    ...new Set(
      codes
        .flatMap((c) => c.split(','))
        .map((c) => c.trim())
        .filter((c) => c !== ''),
    ),
  ];
  if (all.length > MAX_CODES)
    throw invalid('TOO_MANY_CODES', `At most ${MAX_CODES} codes may be searched at once; ${all.length} were sent`);
  return all.length === 0 ? undefined : all;
}

function toBoundary(row: EntityRow): Boundary {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    code: row.code,
    geometry: row.geometry ?? null,
    auditDetails: auditDetailsOf(row),
    additionalDetails: row.additional_details ?? null,
  };
}

function toHierarchy(row: HierarchyRow): BoundaryHierarchy {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    hierarchyType: row.hierarchy_type,
    boundaryHierarchy: row.boundary_hierarchy,
    auditDetails: auditDetailsOf(row),
  };
}

function toRelation(row: RelationshipRow): BoundaryRelation {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    code: row.code,
    hierarchyType: row.hierarchy_type,
    boundaryType: row.boundary_type,
    parent: row.parent,
    auditDetails: auditDetailsOf(row),
  };
}

/** Runs each check, gathering DomainErrors so that one answer lists every problem. */
async function gather(checks: Array<() => unknown>): Promise<void> {
  const errors: ErrorDetail[] = [];
  for (const check of checks) {
    try {
      await check();
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      errors.push(...error.details);
    }
  }
  if (errors.length > 0) throw new DomainError('invalid', errors);
}

export function createBoundaryService({ database, store, clock, outbox, changes, tenants }: BoundaryServiceDeps) {
  // Search answers by criteria, sized by the records they hold; trees per hierarchy, sized by nodes.
  const answers = createReadCache<{ value: object; size: number }>(changes, CHANGE_TOPIC, { maxSize: 50_000, size: (entry) => entry.size });
  const trees = createReadCache<TreeIndex>(changes, CHANGE_TOPIC, { maxSize: 200_000, size: (tree) => tree.nodes.length + 1 });

  const runner = (tx?: Tx): Runner => (tx ? (tx.kysely.withTables() as unknown as Runner) : store.runner());

  async function cached<T extends object>(key: string, size: (value: T) => number, load: () => Promise<T>): Promise<T> {
    const entry = await answers.get(key, async () => {
      const value = await load();
      return { value, size: size(value) };
    });
    return entry.value as T;
  }

  function checkName(value: string, kind: 'code' | 'type', code: string, field: string): void {
    if (!(kind === 'code' ? isCode(value) : isTypeName(value))) {
      throw invalid(
        code,
        `${field} "${value.slice(0, 140)}" must be ${kind === 'code' ? 'at most 128' : 'at most 64'} characters of letters, digits, spaces and _ . - : / ( ) (no '|', no leading, trailing or double spaces)`,
        [field],
      );
    }
  }

  async function orderOf(db: Runner, tenantId: string, hierarchyType: string): Promise<string[]> {
    const definition = await store.findHierarchy(db, tenantId, hierarchyType);
    if (!definition) {
      throw invalid(
        'HIERARCHY_DEFINITION_DOES_NOT_EXIST_ERR',
        `Hierarchy definition ${hierarchyType} does not exist at tenant ${tenantId}`,
        [hierarchyType],
      );
    }
    return hierarchyOrder(definition.boundary_hierarchy).order;
  }

  async function loadTree(tenantId: string, hierarchyType: string): Promise<TreeIndex> {
    const db = store.runner();
    const order = await orderOf(db, tenantId, hierarchyType);
    const rows = await store.relationships(db, tenantId, hierarchyType);
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

  function treeIndex(tenantId: string, hierarchyType: string): Promise<TreeIndex> {
    return trees.get(`${tenantId}\u0000${hierarchyType}`, () => loadTree(tenantId, hierarchyType));
  }

  /**
   * Before a transaction, never inside one: the tenant list is read outside it, and SQLite's one
   * connection would wait for the open transaction forever.
   */
  async function checkTenants(tenantIds: readonly string[]): Promise<void> {
    await gather([...new Set(tenantIds)].map((tenantId) => () => assertKnownTenant(tenants, tenantId)));
  }

  // -------------------------------------------------------------------------------------------
  // Boundary entities

  /** The code's and the geometry's checks, each reported on its own; the parsed geometry lands in `geometries`. */
  function entityChecks(input: BoundaryInput, i: number, geometries: Map<number, unknown>): Array<() => void> {
    return [
      () => checkName(input.code, 'code', 'INVALID_BOUNDARY_CODE', `Boundary[${i}].code`),
      () => void geometries.set(i, parseGeometry(input.geometry, `Boundary[${i}].geometry`)),
    ];
  }

  async function createBoundariesInTx(tx: Tx, inputs: readonly BoundaryInput[], actor: Actor): Promise<Boundary[]> {
    const db = runner(tx);
    const seen = new Set<string>();
    const geometries = new Map<number, unknown>();
    await gather(
      inputs.flatMap((input, i) => [
        ...entityChecks(input, i, geometries),
        () => {
          const key = `${input.tenantId}\u0000${input.code}`;
          if (seen.has(key))
            throw invalid(
              'DUPLICATE_BOUNDARY',
              `Boundary[${i}]: ${input.code} at ${input.tenantId} appears more than once in the request`,
              [input.code],
            );
          seen.add(key);
        },
      ]),
    );
    const byTenant = new Map<string, string[]>();
    for (const input of inputs) push(byTenant, input.tenantId, input.code);
    await gather(
      [...byTenant].map(([tenantId, codes]) => async () => {
        const existing = await store.findEntities(db, tenantId, codes);
        if (existing.length > 0) {
          const taken = existing.map((e) => e.code);
          throw invalid(
            'DUPLICATE_CODE',
            `Boundary entity with same code and tenantId already exists: (${tenantId}, [${taken.join(', ')}])`,
            taken,
          );
        }
      }),
    );
    const now = clock.now();
    const rows: EntityRow[] = inputs.map((input, i) => ({
      id: newId(),
      tenant_id: input.tenantId,
      code: input.code,
      geometry: geometries.get(i) ?? null,
      additional_details: input.additionalDetails ?? null,
      created_by: actor.uuid,
      last_modified_by: actor.uuid,
      created_time: now,
      last_modified_time: now,
    }));
    try {
      await store.insertEntities(db, rows);
    } catch (error) {
      if (isUniqueViolation(error))
        throw invalid('DUPLICATE_CODE', 'Boundary entity with same code and tenantId already exists (created concurrently)');
      throw error;
    }
    const created = rows.map(toBoundary);
    for (const boundary of created) {
      await outbox.append(tx, {
        type: 'plinth.boundary.entity.created.v1',
        source: SOURCE,
        subject: boundary.id,
        tenantId: boundary.tenantId,
        data: boundary,
      });
    }
    await changes.publish(tx, CHANGE_TOPIC);
    return created;
  }

  /** Omitted `geometry` or `additionalDetails` keep their stored value; null clears them. */
  async function updateBoundariesInTx(tx: Tx, inputs: readonly BoundaryInput[], actor: Actor): Promise<Boundary[]> {
    const db = runner(tx);
    const found = new Map<number, EntityRow>();
    const geometries = new Map<number, unknown>();
    const seen = new Set<string>();
    await gather(inputs.flatMap((input, i) => entityChecks(input, i, geometries)));
    await gather(
      inputs.map((input, i) => async () => {
        const key = `${input.tenantId}\u0000${input.code}`;
        if (seen.has(key))
          throw invalid('DUPLICATE_BOUNDARY', `Boundary[${i}]: ${input.code} at ${input.tenantId} appears more than once in the request`, [
            input.code,
          ]);
        seen.add(key);
        const [row] = await store.findEntities(db, input.tenantId, [input.code]);
        if (!row) {
          throw invalid(
            'NOT_FOUND_CODE_AND_TENANT_ID_CODE',
            `Tenant Id and Code combination not found: (${input.tenantId}, ${input.code})`,
            [input.code],
          );
        }
        found.set(i, row);
      }),
    );
    const now = clock.now();
    const updated: Boundary[] = [];
    for (const [i, input] of inputs.entries()) {
      const row = found.get(i)!;
      const changesToRow = {
        geometry: input.geometry === undefined ? row.geometry : geometries.get(i),
        additional_details: input.additionalDetails === undefined ? row.additional_details : input.additionalDetails,
        last_modified_by: actor.uuid,
        last_modified_time: now,
      };
      await store.updateEntity(db, row.id, changesToRow);
      const boundary = toBoundary({ ...row, ...changesToRow });
      await outbox.append(tx, {
        type: 'plinth.boundary.entity.updated.v1',
        source: SOURCE,
        subject: boundary.id,
        tenantId: boundary.tenantId,
        data: boundary,
      });
      updated.push(boundary);
    }
    await changes.publish(tx, CHANGE_TOPIC);
    return updated;
  }

  // -------------------------------------------------------------------------------------------
  // Hierarchy definitions

  function levelsOf(input: BoundaryHierarchyInput): BoundaryTypeLevel[] {
    return input.boundaryHierarchy.map((level) => ({
      boundaryType: level.boundaryType,
      parentBoundaryType:
        level.parentBoundaryType === undefined || level.parentBoundaryType === null || level.parentBoundaryType === ''
          ? null
          : level.parentBoundaryType,
      active: level.active ?? true,
    }));
  }

  async function createHierarchyInTx(tx: Tx, input: BoundaryHierarchyInput, actor: Actor): Promise<BoundaryHierarchy> {
    const db = runner(tx);
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
    if (await store.findHierarchy(db, input.tenantId, input.hierarchyType)) {
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
      await store.insertHierarchy(db, row);
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

  // -------------------------------------------------------------------------------------------
  // Relationships

  function checkRelationInput(input: BoundaryRelationInput): Promise<void> {
    return gather([
      () => checkName(input.code, 'code', 'INVALID_BOUNDARY_CODE', 'BoundaryRelationship.code'),
      () => checkName(input.hierarchyType, 'type', 'INVALID_HIERARCHY_TYPE', 'BoundaryRelationship.hierarchyType'),
      () => checkName(input.boundaryType, 'type', 'INVALID_BOUNDARY_TYPE', 'BoundaryRelationship.boundaryType'),
      () => input.parent && checkName(input.parent, 'code', 'INVALID_BOUNDARY_CODE', 'BoundaryRelationship.parent'),
    ]);
  }

  async function createRelationshipInTx(tx: Tx, input: BoundaryRelationInput, actor: Actor): Promise<BoundaryRelation> {
    await checkRelationInput(input);
    const db = runner(tx);
    const { tenantId, hierarchyType, code, boundaryType } = input;
    const parentCode = input.parent ? input.parent : null;
    if ((await store.findEntities(db, tenantId, [code])).length === 0) {
      throw invalid(
        'BOUNDARY_ENTITY_DOES_NOT_EXIST',
        `Boundary entity ${code} does not exist at tenant ${tenantId}: create it with /boundary-service/boundary/_create first`,
        [code],
      );
    }
    const existing = await store.findRelationship(db, tenantId, hierarchyType, code);
    if (existing) {
      const where = existing.parent === null ? 'as a root' : `under ${existing.parent}`;
      throw invalid(
        'DUPLICATE_RECORD',
        `Boundary ${code} is already in hierarchy ${hierarchyType} ${where}: a boundary has one parent per hierarchy (use _update to move it)`,
        [code],
      );
    }
    const order = await orderOf(db, tenantId, hierarchyType);
    if (!order.includes(boundaryType)) {
      throw invalid(
        'BOUNDARY_TYPE_ERROR',
        `Boundary type ${boundaryType} is not part of hierarchy ${hierarchyType} (${order.join(' > ')})`,
        [boundaryType],
      );
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
      const parent = await store.findRelationship(db, tenantId, hierarchyType, parentCode);
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
      await store.insertRelationship(db, row);
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
  async function updateRelationshipInTx(tx: Tx, input: BoundaryRelationInput, actor: Actor): Promise<BoundaryRelation> {
    await checkRelationInput(input);
    const db = runner(tx);
    const { tenantId, hierarchyType, code } = input;
    const existing = await store.findRelationship(db, tenantId, hierarchyType, code);
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
    const parent = await store.findRelationship(db, tenantId, hierarchyType, parentCode!);
    if (!parent) {
      throw invalid(
        'BOUNDARY_RELATIONSHIP_DOES_NOT_EXIST',
        `Parent ${parentCode} is not in hierarchy ${hierarchyType} at tenant ${tenantId}`,
        [parentCode!],
      );
    }
    const order = await orderOf(db, tenantId, hierarchyType);
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
    for (const below of await store.descendants(db, tenantId, hierarchyType, oldPrefix)) {
      await store.updateRelationship(db, below.id, { ancestral_path: newPrefix + below.ancestral_path.slice(oldPrefix.length) });
    }
    const changesToRow = { parent: parent.code, ancestral_path: newPath.join('|'), last_modified_by: actor.uuid, last_modified_time: now };
    await store.updateRelationship(db, existing.id, changesToRow);
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

  return {
    async createBoundaries(inputs: readonly BoundaryInput[], actor: Actor): Promise<Boundary[]> {
      await checkTenants(inputs.map((i) => i.tenantId));
      return database.transaction((tx) => createBoundariesInTx(tx, inputs, actor));
    },

    async updateBoundaries(inputs: readonly BoundaryInput[], actor: Actor): Promise<Boundary[]> {
      await checkTenants(inputs.map((i) => i.tenantId));
      return database.transaction((tx) => updateBoundariesInTx(tx, inputs, actor));
    },

    /** By tenant and codes (comma-separated codes are split), newest first; without codes, a page of all. */
    async searchBoundaries(criteria: BoundarySearchCriteria): Promise<Boundary[]> {
      await assertKnownTenant(tenants, criteria.tenantId);
      const asked = splitCodes(criteria.codes);
      // A code that breaks the naming rule cannot exist: leave it out rather than query for it.
      const codes = asked?.filter(isCode);
      if (codes && codes.length === 0) return [];
      const offset = criteria.offset ?? 0;
      // As DIGIT, an over-large limit is clamped; asking for codes returns all of them by default.
      const limit = Math.min(criteria.limit ?? Math.max(DEFAULT_LIMIT, codes?.length ?? 0), MAX_LIMIT);
      return cached(
        `entities|${JSON.stringify([criteria.tenantId, codes ?? null, offset, limit])}`,
        (found) => found.length,
        async () => (await store.searchEntities(store.runner(), { tenantId: criteria.tenantId, codes, offset, limit })).map(toBoundary),
      );
    },

    async createHierarchy(input: BoundaryHierarchyInput, actor: Actor): Promise<BoundaryHierarchy> {
      await checkTenants([input.tenantId]);
      return database.transaction((tx) => createHierarchyInTx(tx, input, actor));
    },

    async searchHierarchies(criteria: HierarchySearchCriteria): Promise<{ totalCount: number; hierarchies: BoundaryHierarchy[] }> {
      await assertKnownTenant(tenants, criteria.tenantId);
      const hierarchyType = criteria.hierarchyType ?? undefined;
      const offset = criteria.offset ?? 0;
      const limit = Math.min(criteria.limit ?? DEFAULT_LIMIT, MAX_LIMIT);
      return cached(
        `hierarchies|${JSON.stringify([criteria.tenantId, hierarchyType ?? null, offset, limit])}`,
        (found) => found.hierarchies.length,
        async () => {
          if (hierarchyType !== undefined && !isTypeName(hierarchyType)) return { totalCount: 0, hierarchies: [] };
          const { rows, totalCount } = await store.searchHierarchies(store.runner(), {
            tenantId: criteria.tenantId,
            hierarchyType,
            offset,
            limit,
          });
          return { totalCount, hierarchies: rows.map(toHierarchy) };
        },
      );
    },

    async createRelationship(input: BoundaryRelationInput, actor: Actor): Promise<BoundaryRelation> {
      await checkTenants([input.tenantId]);
      return database.transaction((tx) => createRelationshipInTx(tx, input, actor));
    },

    async updateRelationship(input: BoundaryRelationInput, actor: Actor): Promise<BoundaryRelation> {
      await checkTenants([input.tenantId]);
      return database.transaction((tx) => updateRelationshipInTx(tx, input, actor));
    },

    /**
     * DIGIT's relationship search: the nodes matching codes, boundary type and parent (the roots
     * when none is given), with all their ancestors (`includeParents`) and all their descendants
     * (`includeChildren`), answered as a tree from the highest level present.
     */
    async searchRelationships(criteria: RelationshipSearchCriteria): Promise<TenantBoundary> {
      const { tenantId, hierarchyType } = criteria;
      await assertKnownTenant(tenants, tenantId);
      checkName(hierarchyType, 'type', 'INVALID_HIERARCHY_TYPE', 'hierarchyType');
      const index = await treeIndex(tenantId, hierarchyType);
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
    },

    /** A boundary's place in a hierarchy, from memory; undefined when it is not in it. */
    async findNode(tenantId: string, hierarchyType: string, code: string): Promise<BoundaryNode | undefined> {
      if (!isTypeName(hierarchyType) || !isCode(code)) return undefined;
      let index: TreeIndex;
      try {
        index = await treeIndex(tenantId, hierarchyType);
      } catch (error) {
        if (error instanceof DomainError && error.kind === 'invalid') return undefined;
        throw error;
      }
      const node = index.byCode.get(code);
      return node && { code: node.code, boundaryType: node.boundaryType, parent: node.parent, ancestors: node.path };
    },

    checkTenants,

    /** For the seed loader: several writes in the caller's transaction (tenants checked before it). */
    inTransaction: {
      createBoundariesInTx,
      updateBoundariesInTx,
      createHierarchyInTx,
      createRelationshipInTx,
      updateRelationshipInTx,
      findEntity: async (tx: Tx, tenantId: string, code: string) => (await store.findEntities(runner(tx), tenantId, [code]))[0],
      findHierarchy: (tx: Tx, tenantId: string, hierarchyType: string) => store.findHierarchy(runner(tx), tenantId, hierarchyType),
      findRelationship: (tx: Tx, tenantId: string, hierarchyType: string, code: string) =>
        store.findRelationship(runner(tx), tenantId, hierarchyType, code),
    },

    close(): void {
      answers.close();
      trees.close();
    },
  };
}

export type BoundaryService = ReturnType<typeof createBoundaryService>;
