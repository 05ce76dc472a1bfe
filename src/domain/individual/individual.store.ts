import { CompiledQuery, sql, type Kysely } from 'kysely';
import type { Scope } from '../../kernel/scope.js';
import { tenantInScope } from '../../kernel/scope.sql.js';
import type { Clock } from '../../kernel/clock.js';
import type { Database, Tx } from '../../kernel/db.js';
import { feedMarker } from '../../kernel/offline.feed.js';

export type IndividualRow = {
  id: string;
  tenant_id: string;
  individual_id: string;
  client_reference_id: string | null;
  user_id: string | null;
  user_uuid: string | null;
  given_name: string | null;
  family_name: string | null;
  other_names: string | null;
  date_of_birth: string | null;
  mobile_number: string | null;
  alt_contact_number: string | null;
  email: string | null;
  father_name: string | null;
  husband_name: string | null;
  gender: string | null;
  blood_group: string | null;
  relationship: string | null;
  photo: string | null;
  addresses: unknown;
  identifiers: unknown;
  skills: unknown;
  locality_code: string | null;
  ward_code: string | null;
  given_name_bidx: string | null;
  family_name_bidx: string | null;
  mobile_bidx: string | null;
  key_id: string | null;
  is_system_user: boolean | number;
  is_system_user_active: boolean | number;
  source: string | null;
  application_id: string | null;
  additional_fields: unknown;
  client_audit: unknown;
  row_version: number;
  is_deleted: boolean | number;
  created_by: string | null;
  last_modified_by: string | null;
  created_time: number;
  last_modified_time: number;
  /** When the last change committed, commit-ordered (kernel/offline.feed.ts): what lastChangedSince pages by. */
  change_time: number;
};

export type IdentifierIndexRow = { individual_id: string; tenant_id: string; identifier_bidx: string };

type Tables = { individual: IndividualRow; individual_identifier_index: IdentifierIndexRow };
export type Runner = Kysely<Tables>;

/** What a search filters on; personal fields arrive as blind indexes. */
export type SearchQuery = {
  /** What the caller may see: rows outside it are never read, whatever `tenantId` says. */
  scope: Scope;
  tenantId: string;
  ids?: readonly string[] | undefined;
  clientReferenceIds?: readonly string[] | undefined;
  individualIds?: readonly string[] | undefined;
  givenNameBidx?: string | undefined;
  familyNameBidx?: string | undefined;
  /** Either name part (DIGIT's `individualName`). */
  anyNameBidx?: string | undefined;
  mobileBidxs?: readonly string[] | undefined;
  identifierBidx?: string | undefined;
  gender?: string | undefined;
  localityCode?: string | undefined;
  wardCode?: string | undefined;
  userIds?: readonly string[] | undefined;
  userUuids?: readonly string[] | undefined;
  createdFrom?: number | undefined;
  createdTo?: number | undefined;
  lastChangedSince?: number | undefined;
  includeDeleted: boolean;
  offset: number;
  limit: number;
};

/** The columns an update rewrites (everything but identity, creation and the tenant). */
export type RowChanges = Omit<IndividualRow, 'id' | 'tenant_id' | 'individual_id' | 'client_reference_id' | 'created_by' | 'created_time'>;

// Rows per SQLite INSERT: ~40 parameters each stays well below SQLite's 32,766. PostgreSQL takes a
// whole batch in one statement (one array parameter per column).
const CHUNK = 200;
const IN_CHUNK = 500;

/** PostgreSQL type of each column (as in the migration), in the order the bulk INSERTs list them. */
type PgType = 'text' | 'jsonb' | 'boolean' | 'integer' | 'bigint';
const INDIVIDUAL_COLUMNS = {
  id: 'text',
  tenant_id: 'text',
  individual_id: 'text',
  client_reference_id: 'text',
  user_id: 'text',
  user_uuid: 'text',
  given_name: 'text',
  family_name: 'text',
  other_names: 'text',
  date_of_birth: 'text',
  mobile_number: 'text',
  alt_contact_number: 'text',
  email: 'text',
  father_name: 'text',
  husband_name: 'text',
  gender: 'text',
  blood_group: 'text',
  relationship: 'text',
  photo: 'text',
  addresses: 'jsonb',
  identifiers: 'jsonb',
  skills: 'jsonb',
  locality_code: 'text',
  ward_code: 'text',
  given_name_bidx: 'text',
  family_name_bidx: 'text',
  mobile_bidx: 'text',
  key_id: 'text',
  is_system_user: 'boolean',
  is_system_user_active: 'boolean',
  source: 'text',
  application_id: 'text',
  additional_fields: 'jsonb',
  client_audit: 'jsonb',
  row_version: 'integer',
  is_deleted: 'boolean',
  created_by: 'text',
  last_modified_by: 'text',
  created_time: 'bigint',
  last_modified_time: 'bigint',
  change_time: 'bigint',
} as const satisfies Record<keyof IndividualRow, PgType>;
const IDENTIFIER_INDEX_COLUMNS = {
  individual_id: 'text',
  tenant_id: 'text',
  identifier_bidx: 'text',
} as const satisfies Record<keyof IdentifierIndexRow, PgType>;

type BulkInsert<Row> = {
  readonly table: string;
  readonly columns: Readonly<Record<keyof Row & string, PgType>>;
  /** Columns of the unique key whose conflicts are skipped. */
  readonly conflict: readonly string[];
  readonly returning?: string;
};

const quote = (name: string) => `"${name}"`;

/**
 * Multi-row INSERT … ON CONFLICT DO NOTHING as hand-built SQL: Kysely's builder spends more time
 * compiling an 8,000-value INSERT than the database spends running it. SQLite: VALUES lists of
 * placeholders. PostgreSQL: one array per column through unnest, so the statement has ~40
 * parameters instead of thousands to parse and plan. Values are always parameters, never text.
 */
function bulkInserter<Row extends Record<string, unknown>>(dialect: 'sqlite' | 'postgres', spec: BulkInsert<Row>) {
  const names = Object.keys(spec.columns) as Array<keyof Row & string>;
  const head = `insert into ${quote(spec.table)} (${names.map(quote).join(', ')})`;
  const tail = ` on conflict (${spec.conflict.map(quote).join(', ')}) do nothing${spec.returning ? ` returning ${quote(spec.returning)}` : ''}`;
  const pgText = `${head} select * from unnest(${names.map((n, i) => `$${i + 1}::${spec.columns[n]}[]`).join(', ')})${tail}`;
  const sqliteTexts = new Map<number, string>();
  const oneRow = `(${names.map(() => '?').join(', ')})`;
  return (rows: readonly Row[]): CompiledQuery => {
    if (dialect === 'postgres') {
      return CompiledQuery.raw(
        pgText,
        names.map((n) => rows.map((r) => r[n] ?? null)),
      );
    }
    let text = sqliteTexts.get(rows.length);
    if (!text) sqliteTexts.set(rows.length, (text = `${head} values ${Array.from(rows, () => oneRow).join(', ')}${tail}`));
    const params: unknown[] = [];
    for (const r of rows) for (const n of names) params.push(r[n] ?? null);
    return CompiledQuery.raw(text, params);
  };
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Kysely queries for individuals; encryption, masking and sync rules live in individual.service.ts. */
export function createIndividualStore(database: Database, clock: Clock) {
  const falseValue = database.toBool(false);
  // Writes that change a person move it in the change feed; re-encryption does not.
  const changed = feedMarker(clock, 'individual');
  const inTx = (tx: Tx) => tx.kysely.withTables<Tables>() as unknown as Runner;
  async function rewrite(tx: Tx, id: string, expected: number, changes: Partial<RowChanges>): Promise<boolean> {
    const result = await inTx(tx).updateTable('individual').set(changes).where('id', '=', id).where('row_version', '=', expected).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }
  const chunkSize = database.dialect === 'postgres' ? Number.MAX_SAFE_INTEGER : CHUNK;
  const insertIndividuals = bulkInserter<IndividualRow>(database.dialect, {
    table: 'individual',
    columns: INDIVIDUAL_COLUMNS,
    conflict: ['tenant_id', 'client_reference_id'],
    returning: 'id',
  });
  const insertIdentifiers = bulkInserter<IdentifierIndexRow>(database.dialect, {
    table: 'individual_identifier_index',
    columns: IDENTIFIER_INDEX_COLUMNS,
    conflict: ['individual_id', 'identifier_bidx'],
  });
  return {
    runner(tx?: Tx): Runner {
      return (tx ? tx.kysely : database.kysely).withTables<Tables>() as unknown as Runner;
    },

    async byClientReferenceIds(db: Runner, tenantId: string, refs: readonly string[]): Promise<IndividualRow[]> {
      const out: IndividualRow[] = [];
      for (const part of chunks(refs, IN_CHUNK)) {
        out.push(
          ...(await db
            .selectFrom('individual')
            .selectAll()
            .where('tenant_id', '=', tenantId)
            .where('client_reference_id', 'in', part)
            .execute()),
        );
      }
      return out;
    },

    /** By server id; `tenantId` narrows to one tenant when given. */
    async byIds(db: Runner, ids: readonly string[], tenantId?: string): Promise<IndividualRow[]> {
      const out: IndividualRow[] = [];
      for (const part of chunks(ids, IN_CHUNK)) {
        let q = db.selectFrom('individual').selectAll().where('id', 'in', part);
        if (tenantId !== undefined) q = q.where('tenant_id', '=', tenantId);
        out.push(...(await q.execute()));
      }
      return out;
    },

    async idsByClientReferenceIds(
      db: Runner,
      tenantId: string,
      refs: readonly string[],
    ): Promise<Array<{ id: string; client_reference_id: string | null }>> {
      const out: Array<{ id: string; client_reference_id: string | null }> = [];
      for (const part of chunks(refs, IN_CHUNK)) {
        out.push(
          ...(await db
            .selectFrom('individual')
            .select(['id', 'client_reference_id'])
            .where('tenant_id', '=', tenantId)
            .where('client_reference_id', 'in', part)
            .execute()),
        );
      }
      return out;
    },

    async existingIds(db: Runner, tenantId: string, ids: readonly string[]): Promise<string[]> {
      const out: string[] = [];
      for (const part of chunks(ids, IN_CHUNK)) {
        const rows = await db.selectFrom('individual').select('id').where('tenant_id', '=', tenantId).where('id', 'in', part).execute();
        out.push(...rows.map((r) => r.id));
      }
      return out;
    },

    /**
     * Inserts in multi-row statements; a row whose client reference id another request stored
     * meanwhile is skipped, not an error. Answers the ids actually inserted.
     */
    async insertMany(tx: Tx, rows: readonly IndividualRow[]): Promise<Set<string>> {
      const inserted = new Set<string>();
      for (const part of chunks(rows, chunkSize)) {
        const done = await inTx(tx).executeQuery<{ id: string }>(insertIndividuals(part));
        for (const r of done.rows) inserted.add(r.id);
      }
      for (const row of rows) if (inserted.has(row.id)) changed(tx, row.tenant_id, [row.id]);
      return inserted;
    },

    async insertIdentifierIndexes(db: Runner, rows: readonly IdentifierIndexRow[]): Promise<void> {
      for (const part of chunks(rows, chunkSize === CHUNK ? CHUNK * 4 : chunkSize)) {
        await db.executeQuery(insertIdentifiers(part));
      }
    },

    async replaceIdentifierIndexes(db: Runner, individualId: string, rows: readonly IdentifierIndexRow[]): Promise<void> {
      await db.deleteFrom('individual_identifier_index').where('individual_id', '=', individualId).execute();
      if (rows.length > 0) await this.insertIdentifierIndexes(db, rows);
    },

    /** Optimistic update of a person: only when the stored version is still `expected`; true if it was. */
    async update(tx: Tx, row: { id: string; tenant_id: string }, expected: number, changes: Partial<RowChanges>): Promise<boolean> {
      const written = await rewrite(tx, row.id, expected, changes);
      if (written) changed(tx, row.tenant_id, [row.id]);
      return written;
    },

    /** The same update, for what is no change of the person (re-encryption): the row keeps its place in the feed. */
    rewrite,

    async search(db: Runner, q: SearchQuery): Promise<{ rows: IndividualRow[]; total: number }> {
      let base = db.selectFrom('individual').where('individual.tenant_id', '=', q.tenantId).where(tenantInScope(q.scope, 'individual.tenant_id'));
      if (!q.includeDeleted) base = base.where('is_deleted', '=', falseValue);
      if (q.ids?.length) base = base.where('id', 'in', q.ids);
      if (q.clientReferenceIds?.length) base = base.where('client_reference_id', 'in', q.clientReferenceIds);
      if (q.individualIds?.length) base = base.where('individual_id', 'in', q.individualIds);
      if (q.givenNameBidx !== undefined) base = base.where('given_name_bidx', '=', q.givenNameBidx);
      if (q.familyNameBidx !== undefined) base = base.where('family_name_bidx', '=', q.familyNameBidx);
      if (q.anyNameBidx !== undefined) {
        const h = q.anyNameBidx;
        base = base.where((eb) => eb.or([eb('given_name_bidx', '=', h), eb('family_name_bidx', '=', h)]));
      }
      if (q.mobileBidxs?.length) base = base.where('mobile_bidx', 'in', q.mobileBidxs);
      if (q.identifierBidx !== undefined) {
        const h = q.identifierBidx;
        base = base.where('id', 'in', (eb) =>
          eb
            .selectFrom('individual_identifier_index')
            .select('individual_id')
            .where('tenant_id', '=', q.tenantId)
            .where('identifier_bidx', '=', h),
        );
      }
      if (q.gender !== undefined) base = base.where('gender', '=', q.gender);
      if (q.localityCode !== undefined) base = base.where('locality_code', '=', q.localityCode);
      if (q.wardCode !== undefined) base = base.where('ward_code', '=', q.wardCode);
      if (q.userIds?.length) base = base.where('user_id', 'in', q.userIds);
      if (q.userUuids?.length) base = base.where('user_uuid', 'in', q.userUuids);
      if (q.createdFrom !== undefined) base = base.where('created_time', '>=', q.createdFrom);
      if (q.createdTo !== undefined) base = base.where('created_time', '<=', q.createdTo);
      if (q.lastChangedSince !== undefined) base = base.where('change_time', '>=', q.lastChangedSince);
      const countRow = await base.select(sql<number>`count(*)`.as('n')).executeTakeFirst();
      const total = Number(countRow?.n ?? 0);
      if (q.limit === 0 || total === 0) return { rows: [], total };
      // Oldest change first (commit order), ties by id: pages of an incremental download never skip or repeat.
      const rows = await base.selectAll().orderBy('change_time').orderBy('id').offset(q.offset).limit(q.limit).execute();
      return { rows, total };
    },

    /** Rows of a state (its own tenant and its cities) whose ciphertexts are under another key than `currentKeyId`. */
    async underOldKey(db: Runner, stateTenantId: string, currentKeyId: string, limit: number): Promise<IndividualRow[]> {
      return (
        db
          .selectFrom('individual')
          .selectAll()
          .where('key_id', 'is not', null)
          .where('key_id', '!=', currentKeyId)
          // A prefix compare, not LIKE: `_` in a tenant id would be a LIKE wildcard (state `a_b` matching `axb.*`).
          .where((eb) =>
            eb.or([
              eb('tenant_id', '=', stateTenantId),
              eb(eb.fn('substr', ['tenant_id', eb.val(1), eb.val(stateTenantId.length + 1)]), '=', `${stateTenantId}.`),
            ]),
          )
          .orderBy('id')
          .limit(limit)
          .execute()
      );
    },
  };
}

export type IndividualStore = ReturnType<typeof createIndividualStore>;
