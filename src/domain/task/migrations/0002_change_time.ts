import { sql } from 'kysely';
import type { Migration } from '../../../kernel/migrator.js';

/**
 * A task's change time, commit-ordered (kernel/offline.feed.ts): what lastChangedSince pages by
 * from now on, instead of the time the writing transaction started. Earlier rows keep their last
 * modified time as their change time.
 */
export const changeTime: Migration = {
  name: '0002_change_time',
  async up(db, t) {
    await db.schema
      .alterTable('project_task')
      .addColumn('change_time', t.bigint, (c) => c.notNull().defaultTo(0))
      .execute();
    await sql`update project_task set change_time = last_modified_time`.execute(db);
    await db.schema.dropIndex('project_task_changed_idx').execute();
    await db.schema.createIndex('project_task_change_idx').on('project_task').columns(['tenant_id', 'change_time', 'id']).execute();
  },
};
