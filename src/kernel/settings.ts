import type { Kysely } from 'kysely';
import type { Database } from './db.js';
import type { Migration } from './migrator.js';

type SettingsTables = { plinth_settings: { key: string; value: string; updated_time: number } };

export const settingsMigrations: readonly Migration[] = [
  {
    name: '0002_settings',
    async up(db, t) {
      await db.schema
        .createTable('plinth_settings')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('updated_time', t.bigint, (c) => c.notNull())
        .execute();
    },
  },
];

/** Small facts about this installation (e.g. when the demo state was seeded). */
export function createSettings(database: Database) {
  const db = () => database.kysely.withTables<SettingsTables>() as unknown as Kysely<SettingsTables>;
  return {
    async get(key: string): Promise<string | undefined> {
      const row = await db().selectFrom('plinth_settings').select('value').where('key', '=', key).executeTakeFirst();
      return row?.value;
    },
    async set(key: string, value: string): Promise<void> {
      await db()
        .insertInto('plinth_settings')
        .values({ key, value, updated_time: Date.now() })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_time: Date.now() }))
        .execute();
    },
  };
}

export type Settings = ReturnType<typeof createSettings>;
