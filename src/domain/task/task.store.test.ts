import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabase, type TestDatabase } from '../../../test/helpers.js';
import { connectDatabase, type Database } from '../../kernel/db.js';
import { newId } from '../../kernel/ids.js';
import { migrate } from '../../kernel/migrator.js';
import { changeClockMigrations } from '../../kernel/offline.feed.js';
import { SYSTEM_SCOPE, scopeFor, type Scope } from '../../kernel/scope.js';
import { init } from './migrations/0001_init.js';
import { changeTime } from './migrations/0002_change_time.js';
import { createTaskStore, type TaskRow, type TaskStore } from './task.store.js';

// Issue #14: a task search reads only rows inside the caller's scope, even for a tenant outside it
// (the kernel refuses such requests; the store must not depend on that).

let db: TestDatabase;
let database: Database;
let store: TaskStore;

beforeAll(async () => {
  db = await testDatabase();
  database = await connectDatabase(db.config);
  await migrate(database, [
    { module: 'kernel', migrations: changeClockMigrations },
    { module: 'task', migrations: [init, changeTime] },
  ]);
  store = createTaskStore(database, { now: () => 1 });
});
afterAll(async () => {
  await database.close();
  await db.drop();
});

const task = (tenant_id: string): TaskRow => ({
  tenant_id,
  id: newId(),
  client_reference_id: newId(),
  project_id: 'PJT-1',
  project_beneficiary_id: null,
  project_beneficiary_client_reference_id: newId(),
  resources: [],
  planned_start_date: null,
  planned_end_date: null,
  actual_start_date: null,
  actual_end_date: null,
  task_created_by: null,
  task_created_date: null,
  address: null,
  status: null,
  additional_fields: null,
  client_audit_details: null,
  row_version: 1,
  is_deleted: false,
  created_by: null,
  last_modified_by: null,
  created_time: 1,
  last_modified_time: 1,
  change_time: 1,
});

describe('task search takes the scope', () => {
  it('finds the tenant\'s tasks only inside the scope', async () => {
    const row = task('pb.amritsar');
    await database.transaction((tx) => store.insert(tx, row));
    const search = (scope: Scope) => store.search(store.runner(), { tenantId: 'pb.amritsar', includeDeleted: false }, { limit: 10, offset: 0 }, scope);
    for (const scope of [SYSTEM_SCOPE, scopeFor(null, ['pb']), scopeFor(null, ['pb.amritsar'])]) {
      expect((await search(scope)).rows.map((r) => r.id)).toEqual([row.id]);
    }
    for (const scope of [scopeFor(null, ['pb.jalandhar']), scopeFor(null, ['pb.amritsar.ward1', 'pbx']), scopeFor(null, [])]) {
      expect(await search(scope)).toEqual({ total: 0, rows: [] });
    }
  });
});
