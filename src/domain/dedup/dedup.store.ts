import { sql, type Kysely } from 'kysely';
import type { Clock } from '../../kernel/clock.js';
import type { Database, Tx } from '../../kernel/db.js';
import { feedMarker } from '../../kernel/offline.feed.js';
import { assertInScope, type Scope } from '../../kernel/scope.js';
import { tenantInScope } from '../../kernel/scope.sql.js';

export type ProgramStateRow = { tenant_id: string; program: string; version: number; created_time: number; last_modified_time: number };

export type EncodingRow = {
  tenant_id: string;
  program: string;
  record_id: string;
  locality: string | null;
  clk: string;
  blocks: string;
  version: number;
  is_deleted: boolean | number;
  created_by: string | null;
  created_time: number;
  last_modified_by: string | null;
  last_modified_time: number;
  /** When the last change committed, commit-ordered (kernel/offline.feed.ts): what lastChangedSince pages by. */
  change_time: number;
};

export type ReviewStatus = 'PENDING' | 'DUPLICATE' | 'NOT_DUPLICATE';

export type ReviewRow = {
  id: string;
  tenant_id: string;
  program: string;
  record_id: string;
  match_id: string;
  pair_key: string;
  score: number;
  status: ReviewStatus;
  decided_by: string | null;
  decided_time: number | null;
  comment: string | null;
  created_by: string | null;
  created_time: number;
  last_modified_by: string | null;
  last_modified_time: number;
};

export type LinkRow = {
  id: string;
  tenant_id: string;
  program: string;
  record_id: string;
  duplicate_of: string;
  review_id: string;
  created_by: string | null;
  created_time: number;
  last_modified_by: string | null;
  last_modified_time: number;
};

export type DedupTables = {
  dedup_program_state: ProgramStateRow;
  dedup_encoding: EncodingRow;
  dedup_review: ReviewRow;
  dedup_link: LinkRow;
};

export type Runner = Kysely<DedupTables>;

export type ReviewQuery = {
  tenantId: string;
  program?: string | undefined;
  status?: ReviewStatus | undefined;
  ids?: readonly string[] | undefined;
  recordIds?: readonly string[] | undefined;
  offset: number;
  limit: number;
};

export type EncodingQuery = {
  tenantId: string;
  program: string;
  localities: readonly string[];
  lastChangedSince?: number | undefined;
  includeDeleted: boolean;
  offset: number;
  limit: number;
};

// 12 parameters per encoding row: 500 rows stay far below both engines' parameter limits.
const CHUNK = 500;

/**
 * Kysely queries for encodings, the review queue and links; the matching rules live in
 * dedup.service.ts. Searches take a Scope and read only rows inside it; a decision is taken only on
 * a review inside it. Writes made for a registry's transaction (register, forget) are the
 * platform's own: the registry has checked its caller.
 */
export function createDedupStore(database: Database, clock: Clock) {
  // A device pulls encodings by change: what a transaction writes moves in the feed (one program's rows).
  const changed = feedMarker(clock, 'dedup_encoding', ['change_time'], 'record_id');
  const inTx = (tx: Tx) => tx.kysely.withTables<DedupTables>() as unknown as Runner;
  const toNumber = <T extends { version?: number; created_time: number; last_modified_time: number }>(row: T): T => ({
    ...row,
    ...(row.version !== undefined ? { version: Number(row.version) } : {}),
    created_time: Number(row.created_time),
    last_modified_time: Number(row.last_modified_time),
  });

  return {
    runner(tx?: Tx): Runner {
      return (tx ? tx.kysely : database.kysely).withTables<DedupTables>() as unknown as Runner;
    },

    /** Takes the program's next version, creating the counter at 1; holds its row lock until `tx` ends. */
    async nextVersion(db: Runner, tenantId: string, program: string, now: number): Promise<number> {
      const row = await db
        .insertInto('dedup_program_state')
        .values({ tenant_id: tenantId, program, version: 1, created_time: now, last_modified_time: now })
        .onConflict((oc) =>
          oc
            .columns(['tenant_id', 'program'])
            .doUpdateSet({ version: sql<number>`dedup_program_state.version + 1`, last_modified_time: now }),
        )
        .returning('version')
        .executeTakeFirstOrThrow();
      return Number(row.version);
    },

    /** The last committed version (0: nothing written yet). */
    async currentVersion(db: Runner, tenantId: string, program: string): Promise<number> {
      const row = await db
        .selectFrom('dedup_program_state')
        .select('version')
        .where('tenant_id', '=', tenantId)
        .where('program', '=', program)
        .executeTakeFirst();
      return row ? Number(row.version) : 0;
    },

    /** Rows written after `version` (tombstones included), oldest first. */
    async changedSince(db: Runner, tenantId: string, program: string, version: number, scope: Scope): Promise<EncodingRow[]> {
      const rows = await db
        .selectFrom('dedup_encoding')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where(tenantInScope(scope, 'tenant_id'))
        .where('program', '=', program)
        .where('version', '>', version)
        .orderBy('version')
        .execute();
      return rows.map(toNumber);
    },

    async upsertEncodings(tx: Tx, rows: readonly EncodingRow[]): Promise<void> {
      for (let start = 0; start < rows.length; start += CHUNK) {
        await inTx(tx)
          .insertInto('dedup_encoding')
          .values(rows.slice(start, start + CHUNK))
          .onConflict((oc) =>
            oc.columns(['tenant_id', 'program', 'record_id']).doUpdateSet((eb) => ({
              locality: eb.ref('excluded.locality'),
              clk: eb.ref('excluded.clk'),
              blocks: eb.ref('excluded.blocks'),
              version: eb.ref('excluded.version'),
              is_deleted: eb.ref('excluded.is_deleted'),
              last_modified_by: eb.ref('excluded.last_modified_by'),
              last_modified_time: eb.ref('excluded.last_modified_time'),
              change_time: eb.ref('excluded.change_time'),
            })),
          )
          .execute();
      }
      for (const row of rows) changed(tx, { tenant_id: row.tenant_id, program: row.program }, [row.record_id]);
    },

    /** Blanks a record's encoding and marks it deleted; false when there was none. */
    async tombstone(
      tx: Tx,
      tenantId: string,
      program: string,
      recordId: string,
      version: number,
      now: number,
      isDeleted: unknown,
    ): Promise<boolean> {
      const result = await inTx(tx)
        .updateTable('dedup_encoding')
        .set({ clk: '', blocks: '', version, is_deleted: isDeleted as boolean, last_modified_time: now })
        .where('tenant_id', '=', tenantId)
        .where('program', '=', program)
        .where('record_id', '=', recordId)
        .executeTakeFirst();
      const tombstoned = Number(result.numUpdatedRows) > 0;
      if (tombstoned) changed(tx, { tenant_id: tenantId, program }, [recordId]);
      return tombstoned;
    },

    async searchEncodings(db: Runner, query: EncodingQuery, notDeleted: unknown, scope: Scope): Promise<{ rows: EncodingRow[]; total: number }> {
      let q = db
        .selectFrom('dedup_encoding')
        .where('tenant_id', '=', query.tenantId)
        .where(tenantInScope(scope, 'tenant_id'))
        .where('program', '=', query.program)
        .where('locality', 'in', query.localities);
      if (query.lastChangedSince !== undefined) q = q.where('change_time', '>=', query.lastChangedSince);
      if (!query.includeDeleted) q = q.where('is_deleted', '=', notDeleted as boolean);
      const [rows, count] = await Promise.all([
        q.selectAll().orderBy('change_time').orderBy('record_id').offset(query.offset).limit(query.limit).execute(),
        q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
      ]);
      return { rows: rows.map(toNumber), total: Number(count.n) };
    },

    /** Inserts the reviews whose pair is not queued yet; answers those inserted. */
    async insertReviews(db: Runner, rows: readonly ReviewRow[]): Promise<ReviewRow[]> {
      const inserted: ReviewRow[] = [];
      for (let start = 0; start < rows.length; start += CHUNK) {
        const ids = await db
          .insertInto('dedup_review')
          .values(rows.slice(start, start + CHUNK))
          .onConflict((oc) => oc.columns(['tenant_id', 'program', 'pair_key']).doNothing())
          .returning('id')
          .execute();
        const done = new Set(ids.map((r) => r.id));
        inserted.push(...rows.slice(start, start + CHUNK).filter((r) => done.has(r.id)));
      }
      return inserted;
    },

    async searchReviews(db: Runner, query: ReviewQuery, scope: Scope): Promise<{ rows: ReviewRow[]; total: number }> {
      let q = db.selectFrom('dedup_review').where('tenant_id', '=', query.tenantId).where(tenantInScope(scope, 'tenant_id'));
      if (query.program !== undefined) q = q.where('program', '=', query.program);
      if (query.status !== undefined) q = q.where('status', '=', query.status);
      if (query.ids?.length) q = q.where('id', 'in', query.ids);
      if (query.recordIds?.length) {
        const recordIds = query.recordIds;
        q = q.where((eb) => eb.or([eb('record_id', 'in', recordIds), eb('match_id', 'in', recordIds)]));
      }
      const [rows, count] = await Promise.all([
        q.selectAll().orderBy('created_time', 'desc').orderBy('id', 'desc').offset(query.offset).limit(query.limit).execute(),
        q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
      ]);
      return {
        rows: rows.map((r) => ({
          ...toNumber(r),
          score: Number(r.score),
          decided_time: r.decided_time === null ? null : Number(r.decided_time),
        })),
        total: Number(count.n),
      };
    },

    /** The tenant of review `id` as stored; 403 when it lies outside the scope, undefined when there is none. */
    async reviewTenant(db: Runner, id: string, scope: Scope): Promise<string | undefined> {
      const row = await db.selectFrom('dedup_review').select('tenant_id').where('id', '=', id).executeTakeFirst();
      if (row) assertInScope(scope, row.tenant_id);
      return row?.tenant_id;
    },

    /** Decides a PENDING review inside the scope; undefined when it is not pending any more (or does not exist). */
    async decide(
      db: Runner,
      tenantId: string,
      id: string,
      change: { status: ReviewStatus; decidedBy: string | null; comment: string | null; now: number },
      scope: Scope,
    ): Promise<ReviewRow | undefined> {
      const row = await db
        .updateTable('dedup_review')
        .set({
          status: change.status,
          decided_by: change.decidedBy,
          decided_time: change.now,
          comment: change.comment,
          last_modified_by: change.decidedBy,
          last_modified_time: change.now,
        })
        .where('tenant_id', '=', tenantId)
        .where(tenantInScope(scope, 'tenant_id'))
        .where('id', '=', id)
        .where('status', '=', 'PENDING')
        .returningAll()
        .executeTakeFirst();
      return row ? { ...toNumber(row), score: Number(row.score), decided_time: Number(row.decided_time) } : undefined;
    },

    async insertLink(db: Runner, row: LinkRow): Promise<void> {
      await db.insertInto('dedup_link').values(row).execute();
    },

    async linksOf(db: Runner, tenantId: string, reviewIds: readonly string[]): Promise<LinkRow[]> {
      if (reviewIds.length === 0) return [];
      const rows = await db
        .selectFrom('dedup_link')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('review_id', 'in', reviewIds)
        .execute();
      return rows.map(toNumber);
    },
  };
}

export type DedupStore = ReturnType<typeof createDedupStore>;
