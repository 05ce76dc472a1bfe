import { sql, type Expression, type Kysely, type SqlBool } from 'kysely';
import type { Database } from '../../kernel/db.js';
import { assertInScope, outOfScope, type Scope } from '../../kernel/scope.js';
import { tenantInScope } from '../../kernel/scope.sql.js';

/** Rows as the service sees them: json decoded, booleans as booleans (the store converts). */
export type SchemaRow = {
  id: string;
  tenant_id: string;
  code: string;
  description: string | null;
  definition: unknown;
  is_active: boolean;
  created_by: string | null;
  last_modified_by: string | null;
  created_time: number;
  last_modified_time: number;
};

export type DataRow = {
  id: string;
  tenant_id: string;
  schema_code: string;
  unique_identifier: string;
  data: unknown;
  is_active: boolean;
  created_by: string | null;
  last_modified_by: string | null;
  created_time: number;
  last_modified_time: number;
};

/** As stored: SQLite keeps booleans as 0/1. */
type Stored<Row> = Omit<Row, 'is_active'> & { is_active: boolean | number };
export type MdmsTables = { mdms_schema: Stored<SchemaRow>; mdms_data: Stored<DataRow> };

/** A query runner: the database itself or a transaction. */
export type Runner = Kysely<MdmsTables>;

export type DataQuery = {
  tenantId: string;
  schemaCode?: string | undefined;
  ids?: readonly string[] | undefined;
  uniqueIdentifiers?: readonly string[] | undefined;
  /** Containment on the record's data: every leaf must equal. */
  filters?: Record<string, unknown> | undefined;
  isActive?: boolean | undefined;
};

/** `{a:{b:"x"}, c:"y"}` → [[["a","b"],"x"], [["c"],"y"]] */
function leaves(value: Record<string, unknown>, prefix: string[] = []): Array<[string[], unknown]> {
  const out: Array<[string[], unknown]> = [];
  for (const [key, child] of Object.entries(value)) {
    if (child !== null && typeof child === 'object' && !Array.isArray(child)) {
      out.push(...leaves(child as Record<string, unknown>, [...prefix, key]));
    } else {
      out.push([[...prefix, key], child]);
    }
  }
  return out;
}

/** How json_extract hands back a JSON scalar: booleans become 1/0, strings stay text (so "1" ≠ 1). */
function sqliteScalar(value: unknown): string | number {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number' || typeof value === 'string') return value;
  return JSON.stringify(value);
}

/**
 * Kysely queries for master data; no rules here (they live in mdms.service.ts). Every read takes a
 * Scope and reaches only rows inside it; a write checks the row's tenant against it.
 */
export function createMdmsStore(database: Database) {
  const json = (value: unknown) => database.toJson(value);
  const readSchema = (row: Stored<SchemaRow>): SchemaRow => ({ ...row, definition: database.fromJson(row.definition), is_active: database.fromBool(row.is_active) });
  const readData = (row: Stored<DataRow>): DataRow => ({ ...row, data: database.fromJson(row.data), is_active: database.fromBool(row.is_active) });

  /** DIGIT's `data @> filters` in PostgreSQL; the same containment, leaf by leaf, in SQLite. */
  function containment(filters: Record<string, unknown>): Expression<SqlBool> {
    if (database.dialect === 'postgres') return sql<SqlBool>`data @> ${JSON.stringify(filters)}::jsonb`;
    const conditions = leaves(filters).flatMap(([path, value]) => {
      const jsonPath = '$' + path.map((p) => `."${p.replace(/"/g, '""')}"`).join('');
      if (value === null) return [sql<SqlBool>`json_type(data, ${jsonPath}) = 'null'`];
      // Like jsonb @>: an array filter matches when the stored array holds every listed element.
      if (Array.isArray(value)) {
        return value.map(
          (element) => sql<SqlBool>`exists (select 1 from json_each(data, ${jsonPath}) where value = ${sqliteScalar(element)})`,
        );
      }
      return [sql<SqlBool>`json_extract(data, ${jsonPath}) = ${sqliteScalar(value)}`];
    });
    return conditions.length === 0 ? sql<SqlBool>`1 = 1` : sql<SqlBool>`(${sql.join(conditions, sql` and `)})`;
  }

  function whereData(db: Runner, query: DataQuery, scope: Scope) {
    let q = db.selectFrom('mdms_data').where('tenant_id', '=', query.tenantId).where(tenantInScope(scope, 'tenant_id'));
    if (query.schemaCode) q = q.where('schema_code', '=', query.schemaCode);
    if (query.ids?.length) q = q.where('id', 'in', query.ids);
    if (query.uniqueIdentifiers?.length) q = q.where('unique_identifier', 'in', query.uniqueIdentifiers);
    if (query.isActive !== undefined) q = q.where('is_active', '=', database.toBool(query.isActive));
    if (query.filters && Object.keys(query.filters).length > 0) {
      const filters = query.filters;
      q = q.where(() => containment(filters));
    }
    return q;
  }

  return {
    runner(): Runner {
      return database.kysely.withTables<MdmsTables>() as unknown as Runner;
    },

    async findSchema(db: Runner, tenantIds: readonly string[], code: string, scope: Scope): Promise<SchemaRow[]> {
      const rows = await db
        .selectFrom('mdms_schema')
        .selectAll()
        .where('code', '=', code)
        .where('tenant_id', 'in', tenantIds)
        .where(tenantInScope(scope, 'tenant_id'))
        .execute();
      return rows.map(readSchema);
    },

    async searchSchemas(
      db: Runner,
      criteria: { tenantId: string; codes?: readonly string[] | undefined; offset: number; limit: number },
      scope: Scope,
    ): Promise<SchemaRow[]> {
      let q = db.selectFrom('mdms_schema').selectAll().where('tenant_id', '=', criteria.tenantId).where(tenantInScope(scope, 'tenant_id'));
      if (criteria.codes?.length) q = q.where('code', 'in', criteria.codes);
      const rows = await q.orderBy('created_time', 'desc').orderBy('id', 'desc').offset(criteria.offset).limit(criteria.limit).execute();
      return rows.map(readSchema);
    },

    async insertSchema(db: Runner, row: SchemaRow, scope: Scope): Promise<void> {
      assertInScope(scope, row.tenant_id);
      await db
        .insertInto('mdms_schema')
        .values({ ...row, definition: json(row.definition), is_active: database.toBool(row.is_active) })
        .execute();
    },

    async countData(db: Runner, query: DataQuery, scope: Scope): Promise<number> {
      const row = await whereData(db, query, scope).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
      return Number(row?.n ?? 0);
    },

    async searchData(db: Runner, query: DataQuery, page: { offset: number; limit: number }, scope: Scope): Promise<DataRow[]> {
      const rows = await whereData(db, query, scope)
        .selectAll()
        .orderBy('created_time', 'desc')
        .orderBy('id', 'desc')
        .offset(page.offset)
        .limit(page.limit)
        .execute();
      return rows.map(readData);
    },

    /** Active rows of several schemas over a tenant lineage, oldest first (v1 search, refs). */
    async activeData(
      db: Runner,
      tenantIds: readonly string[],
      schemaCodes: readonly string[],
      uniqueIdentifiers: readonly string[] | undefined,
      scope: Scope,
    ): Promise<DataRow[]> {
      let q = db
        .selectFrom('mdms_data')
        .selectAll()
        .where('tenant_id', 'in', tenantIds)
        .where(tenantInScope(scope, 'tenant_id'))
        .where('schema_code', 'in', schemaCodes)
        .where('is_active', '=', database.toBool(true));
      if (uniqueIdentifiers) q = q.where('unique_identifier', 'in', uniqueIdentifiers);
      const rows = await q.orderBy('created_time', 'asc').orderBy('id', 'asc').execute();
      return rows.map(readData);
    },

    async findByKey(db: Runner, tenantId: string, schemaCode: string, uniqueIdentifier: string, scope: Scope): Promise<DataRow | undefined> {
      const row = await db
        .selectFrom('mdms_data')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where(tenantInScope(scope, 'tenant_id'))
        .where('schema_code', '=', schemaCode)
        .where('unique_identifier', '=', uniqueIdentifier)
        .executeTakeFirst();
      return row && readData(row);
    },

    /** The record with this id; 403 when it exists outside the scope (the STORED tenant decides). */
    async findById(db: Runner, id: string, scope: Scope): Promise<DataRow | undefined> {
      const row = await db.selectFrom('mdms_data').selectAll().where('id', '=', id).executeTakeFirst();
      if (row) assertInScope(scope, row.tenant_id);
      return row && readData(row);
    },

    async insertData(db: Runner, row: DataRow, scope: Scope): Promise<void> {
      assertInScope(scope, row.tenant_id);
      await db
        .insertInto('mdms_data')
        .values({ ...row, data: json(row.data), is_active: database.toBool(row.is_active) })
        .execute();
    },

    /** Changes a record read with findById; one outside the scope is left alone and refused (403). */
    async updateData(
      db: Runner,
      id: string,
      changes: { data: unknown; is_active: boolean; last_modified_by: string | null; last_modified_time: number },
      scope: Scope,
    ): Promise<void> {
      const result = await db
        .updateTable('mdms_data')
        .set({ ...changes, data: json(changes.data), is_active: database.toBool(changes.is_active) })
        .where('id', '=', id)
        .where(tenantInScope(scope, 'tenant_id'))
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) throw outOfScope();
    },

    /** Codes of every active `tenant.tenants` record inside the scope (the platform's directory: every state). */
    async tenantCodes(db: Runner, scope: Scope): Promise<string[]> {
      const rows = await db
        .selectFrom('mdms_data')
        .select('data')
        .where('schema_code', '=', 'tenant.tenants')
        .where(tenantInScope(scope, 'tenant_id'))
        .where('is_active', '=', database.toBool(true))
        .execute();
      return rows
        .map((row) => database.fromJson<{ code?: unknown }>(row.data).code)
        .filter((code): code is string => typeof code === 'string');
    },
  };
}

export type MdmsStore = ReturnType<typeof createMdmsStore>;
