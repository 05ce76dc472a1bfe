import type { Kysely } from 'kysely';
import type { Database, Tx } from '../../kernel/db.js';
import { assertInScope, type Scope } from '../../kernel/scope.js';
import { tenantInScope } from '../../kernel/scope.sql.js';
import type { LineageRow } from './localization.rules.js';

export type MessageRow = {
  id: string;
  tenant_id: string;
  locale: string;
  module: string;
  code: string;
  message: string;
  created_by: string | null;
  last_modified_by: string | null;
  created_time: number;
  last_modified_time: number;
};

export type LocalizationTables = { localization_message: MessageRow };

/** A query runner: the database itself or a transaction. */
export type Runner = Kysely<LocalizationTables>;

// Well under SQLite's 32 766 and PostgreSQL's 65 535 bound parameters per statement (10 columns a row).
const CHUNK = 500;

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

/**
 * Kysely queries for localization messages; the merge and write rules live in the service. Every
 * read and change takes a Scope and reaches only rows inside it; an insert outside it is refused.
 */
export function createLocalizationStore(database: Database) {
  return {
    runner(tx?: Tx): Runner {
      return (tx ? tx.kysely : database.kysely).withTables<LocalizationTables>() as unknown as Runner;
    },

    /** Messages of these tenants in these locales, optionally of these modules only. */
    async forSearch(
      db: Runner,
      tenantIds: readonly string[],
      locales: readonly string[],
      modules: readonly string[] | undefined,
      scope: Scope,
    ): Promise<LineageRow[]> {
      let q = db
        .selectFrom('localization_message')
        .select(['tenant_id as tenantId', 'locale', 'module', 'code', 'message'])
        .where('tenant_id', 'in', tenantIds)
        .where(tenantInScope(scope, 'tenant_id'))
        .where('locale', 'in', locales);
      if (modules && modules.length > 0) q = q.where('module', 'in', modules);
      return q.execute();
    },

    /** Every message of one tenant, locale and module: the rows a write call may touch. */
    async inGroup(db: Runner, tenantId: string, locale: string, module: string, scope: Scope): Promise<MessageRow[]> {
      return db
        .selectFrom('localization_message')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where(tenantInScope(scope, 'tenant_id'))
        .where('locale', '=', locale)
        .where('module', '=', module)
        .execute();
    },

    /**
     * Inserts rows; with `replace`, a row that another transaction inserted meanwhile gets this text
     * instead of failing the call (two concurrent upserts of one new code).
     */
    async insert(db: Runner, rows: readonly MessageRow[], onConflict: 'fail' | 'replace', scope: Scope): Promise<void> {
      for (const tenantId of new Set(rows.map((r) => r.tenant_id))) assertInScope(scope, tenantId);
      for (const chunk of chunks(rows)) {
        const q = db.insertInto('localization_message').values(chunk);
        if (onConflict === 'fail') await q.execute();
        else {
          await q
            .onConflict((oc) =>
              oc.columns(['tenant_id', 'locale', 'module', 'code']).doUpdateSet((eb) => ({
                message: eb.ref('excluded.message'),
                last_modified_by: eb.ref('excluded.last_modified_by'),
                last_modified_time: eb.ref('excluded.last_modified_time'),
              })),
            )
            .execute();
        }
      }
    },

    async updateMessage(
      db: Runner,
      id: string,
      changes: { message: string; last_modified_by: string | null; last_modified_time: number },
      scope: Scope,
    ): Promise<void> {
      await db.updateTable('localization_message').set(changes).where('id', '=', id).where(tenantInScope(scope, 'tenant_id')).execute();
    },

    async deleteByIds(db: Runner, ids: readonly string[], scope: Scope): Promise<number> {
      let deleted = 0;
      for (const chunk of chunks(ids)) {
        const result = await db.deleteFrom('localization_message').where('id', 'in', chunk).where(tenantInScope(scope, 'tenant_id')).executeTakeFirst();
        deleted += Number(result.numDeletedRows);
      }
      return deleted;
    },
  };
}

export type LocalizationStore = ReturnType<typeof createLocalizationStore>;
