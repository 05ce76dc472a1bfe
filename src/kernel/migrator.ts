import { sql, type Kysely } from 'kysely';
import type { ColumnTypes, Database } from './db.js';

/** One schema change of a module. Never edited once landed: add a new one instead. */
export type Migration = {
  readonly name: string;
  up(db: Kysely<unknown>, types: ColumnTypes): Promise<void>;
};

export type ModuleMigrations = { readonly module: string; readonly migrations: readonly Migration[] };

export class MigrationError extends Error {}

type MigrationTables = {
  plinth_migrations: { module: string; name: string; applied_time: number };
};

// Any fixed number: the advisory lock that keeps two PostgreSQL processes from migrating at once.
const MIGRATION_LOCK_KEY = 7_361_204_001;

/**
 * Applies each module's pending migrations, modules in the order given (kernel first), each
 * migration in its own transaction together with the record that it ran.
 * Returns the names applied, as `module/name`.
 */
export async function migrate(database: Database, modules: readonly ModuleMigrations[]): Promise<string[]> {
  const db = database.kysely.withTables<MigrationTables>();
  const applied: string[] = [];
  const run = async () => {
    await db.schema
      .createTable('plinth_migrations')
      .ifNotExists()
      .addColumn('module', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('applied_time', database.types.bigint, (c) => c.notNull())
      .addPrimaryKeyConstraint('plinth_migrations_pk', ['module', 'name'])
      .execute();
    const done = await db.selectFrom('plinth_migrations').select(['module', 'name']).execute();
    const doneKeys = new Set(done.map((row) => `${row.module}/${row.name}`));
    for (const { module, migrations } of modules) {
      for (const migration of migrations) {
        const key = `${module}/${migration.name}`;
        if (doneKeys.has(key)) continue;
        try {
          await db.transaction().execute(async (trx) => {
            await migration.up(trx as unknown as Kysely<unknown>, database.types);
            await trx
              .insertInto('plinth_migrations')
              .values({ module, name: migration.name, applied_time: Date.now() })
              .execute();
          });
        } catch (error) {
          throw new MigrationError(`migration ${key} failed: ${(error as Error).message}`);
        }
        applied.push(key);
      }
    }
  };

  if (database.dialect === 'postgres') {
    await db.connection().execute(async (connection) => {
      await sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`.execute(connection);
      try {
        // Re-read inside the lock: another process may have just finished.
        await run();
      } finally {
        await sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.execute(connection);
      }
    });
  } else {
    await run();
  }
  return applied;
}
