import { sql, type Kysely } from 'kysely';
import type { Database, Tx } from '../../kernel/db.js';
import { assertInScope, outOfScope, type Scope } from '../../kernel/scope.js';
import { tenantInScope } from '../../kernel/scope.sql.js';
import type { BoundaryTypeLevel } from './boundary.tree.js';

/** Rows as the service sees them: json decoded (the store converts). */
export type EntityRow = {
  id: string;
  tenant_id: string;
  code: string;
  geometry: unknown;
  additional_details: unknown;
  created_by: string | null;
  last_modified_by: string | null;
  created_time: number;
  last_modified_time: number;
};

export type HierarchyRow = {
  id: string;
  tenant_id: string;
  hierarchy_type: string;
  boundary_hierarchy: BoundaryTypeLevel[];
  created_by: string | null;
  last_modified_by: string | null;
  created_time: number;
  last_modified_time: number;
};

export type RelationshipRow = {
  id: string;
  tenant_id: string;
  hierarchy_type: string;
  code: string;
  boundary_type: string;
  parent: string | null;
  ancestral_path: string;
  created_by: string | null;
  last_modified_by: string | null;
  created_time: number;
  last_modified_time: number;
};

export type BoundaryTables = {
  boundary_entity: EntityRow;
  boundary_hierarchy: Omit<HierarchyRow, 'boundary_hierarchy'> & { boundary_hierarchy: unknown };
  boundary_relationship: RelationshipRow;
};

/** A query runner: the database itself or a transaction. */
export type Runner = Kysely<BoundaryTables>;

export type Audit = Pick<EntityRow, 'last_modified_by' | 'last_modified_time'>;

/** A unique key already taken (PostgreSQL 23505, SQLite SQLITE_CONSTRAINT_UNIQUE/PRIMARYKEY): a race lost to another writer. */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/**
 * Kysely queries for boundaries, hierarchies and relationships; no rules here (see boundary.service.ts
 * and its operations). Every read takes a Scope and reaches only rows inside it; inserts check the
 * row's tenant, updates refuse (403) a row outside it.
 */
export function createBoundaryStore(database: Database) {
  const json = (value: unknown) => (value === null || value === undefined ? null : database.toJson(value));
  const readEntity = (row: EntityRow): EntityRow => ({
    ...row,
    geometry: row.geometry === null ? null : database.fromJson(row.geometry),
    additional_details: row.additional_details === null ? null : database.fromJson(row.additional_details),
  });
  const readHierarchy = (row: BoundaryTables['boundary_hierarchy']): HierarchyRow => ({
    ...row,
    boundary_hierarchy: database.fromJson<BoundaryTypeLevel[]>(row.boundary_hierarchy),
  });

  return {
    /** The database, or the transaction `tx` when given. */
    runner(tx?: Tx): Runner {
      return (tx ? tx.kysely : database.kysely).withTables<BoundaryTables>() as unknown as Runner;
    },

    async findEntities(db: Runner, tenantId: string, codes: readonly string[], scope: Scope): Promise<EntityRow[]> {
      if (codes.length === 0) return [];
      const rows = await db
        .selectFrom('boundary_entity')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where(tenantInScope(scope, 'tenant_id'))
        .where('code', 'in', codes)
        .execute();
      return rows.map(readEntity);
    },

    async searchEntities(
      db: Runner,
      criteria: { tenantId: string; codes?: readonly string[] | undefined; offset: number; limit: number },
      scope: Scope,
    ): Promise<EntityRow[]> {
      let q = db
        .selectFrom('boundary_entity')
        .selectAll()
        .where('tenant_id', '=', criteria.tenantId)
        .where(tenantInScope(scope, 'tenant_id'));
      if (criteria.codes) q = q.where('code', 'in', criteria.codes);
      const rows = await q.orderBy('created_time', 'desc').orderBy('id', 'desc').offset(criteria.offset).limit(criteria.limit).execute();
      return rows.map(readEntity);
    },

    async insertEntities(db: Runner, rows: readonly EntityRow[], scope: Scope): Promise<void> {
      if (rows.length === 0) return;
      for (const row of rows) assertInScope(scope, row.tenant_id);
      await db
        .insertInto('boundary_entity')
        .values(rows.map((row) => ({ ...row, geometry: json(row.geometry), additional_details: json(row.additional_details) })))
        .execute();
    },

    async updateEntity(
      db: Runner,
      id: string,
      changes: Audit & { geometry: unknown; additional_details: unknown },
      scope: Scope,
    ): Promise<void> {
      const result = await db
        .updateTable('boundary_entity')
        .set({ ...changes, geometry: json(changes.geometry), additional_details: json(changes.additional_details) })
        .where('id', '=', id)
        .where(tenantInScope(scope, 'tenant_id'))
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) throw outOfScope();
    },

    async findHierarchy(db: Runner, tenantId: string, hierarchyType: string, scope: Scope): Promise<HierarchyRow | undefined> {
      const row = await db
        .selectFrom('boundary_hierarchy')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where(tenantInScope(scope, 'tenant_id'))
        .where('hierarchy_type', '=', hierarchyType)
        .executeTakeFirst();
      return row && readHierarchy(row);
    },

    async searchHierarchies(
      db: Runner,
      criteria: { tenantId: string; hierarchyType?: string | undefined; offset: number; limit: number },
      scope: Scope,
    ): Promise<{ rows: HierarchyRow[]; totalCount: number }> {
      let q = db.selectFrom('boundary_hierarchy').where('tenant_id', '=', criteria.tenantId).where(tenantInScope(scope, 'tenant_id'));
      if (criteria.hierarchyType !== undefined) q = q.where('hierarchy_type', '=', criteria.hierarchyType);
      const rows = await q
        .selectAll()
        .orderBy('created_time', 'desc')
        .orderBy('id', 'desc')
        .offset(criteria.offset)
        .limit(criteria.limit)
        .execute();
      const count = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
      return { rows: rows.map(readHierarchy), totalCount: Number(count?.n ?? 0) };
    },

    async insertHierarchy(db: Runner, row: HierarchyRow, scope: Scope): Promise<void> {
      assertInScope(scope, row.tenant_id);
      await db
        .insertInto('boundary_hierarchy')
        .values({ ...row, boundary_hierarchy: database.toJson(row.boundary_hierarchy) })
        .execute();
    },

    async findRelationship(
      db: Runner,
      tenantId: string,
      hierarchyType: string,
      code: string,
      scope: Scope,
    ): Promise<RelationshipRow | undefined> {
      return db
        .selectFrom('boundary_relationship')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where(tenantInScope(scope, 'tenant_id'))
        .where('hierarchy_type', '=', hierarchyType)
        .where('code', '=', code)
        .executeTakeFirst();
    },

    /** Every node of one hierarchy, in DIGIT's answer order (newest first). */
    async relationships(db: Runner, tenantId: string, hierarchyType: string, scope: Scope): Promise<RelationshipRow[]> {
      return db
        .selectFrom('boundary_relationship')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where(tenantInScope(scope, 'tenant_id'))
        .where('hierarchy_type', '=', hierarchyType)
        .orderBy('created_time', 'desc')
        .orderBy('id', 'desc')
        .execute();
    },

    /** Nodes below the node whose own path (ancestors and itself) is `prefix`. */
    async descendants(db: Runner, tenantId: string, hierarchyType: string, prefix: string, scope: Scope): Promise<RelationshipRow[]> {
      const below = `${prefix}|`;
      // Codes are ASCII without '|' (the service checks), so a character prefix is a path prefix.
      return db
        .selectFrom('boundary_relationship')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where(tenantInScope(scope, 'tenant_id'))
        .where('hierarchy_type', '=', hierarchyType)
        .where((eb) => eb.or([eb('ancestral_path', '=', prefix), eb(sql<string>`substr(ancestral_path, 1, ${below.length})`, '=', below)]))
        .execute();
    },

    async insertRelationship(db: Runner, row: RelationshipRow, scope: Scope): Promise<void> {
      assertInScope(scope, row.tenant_id);
      await db.insertInto('boundary_relationship').values(row).execute();
    },

    async updateRelationship(
      db: Runner,
      id: string,
      changes: Partial<Pick<RelationshipRow, 'parent' | 'ancestral_path'>> & Partial<Audit>,
      scope: Scope,
    ): Promise<void> {
      const result = await db
        .updateTable('boundary_relationship')
        .set(changes)
        .where('id', '=', id)
        .where(tenantInScope(scope, 'tenant_id'))
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) throw outOfScope();
    },
  };
}

export type BoundaryStore = ReturnType<typeof createBoundaryStore>;
