import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabase, type TestDatabase } from '../../test/helpers.js';
import { connectDatabase, type Database } from './db.js';
import { migrate } from './migrator.js';
import { changeClockMigrations, feedMarker } from './offline.feed.js';
import { isUniqueViolation, versionedTable } from './offline.store.js';

type Row = { tenant_id: string; id: string; client_reference_id: string; row_version: number; note: string; change_time: number };

let db: TestDatabase;
let database: Database;
let time = 5_000;
const table = versionedTable<Row, Row, Database['kysely']>(
  'offline_probe',
  { read: (r) => ({ ...r, row_version: Number(r.row_version), change_time: Number(r.change_time) }), write: (r) => r },
  feedMarker({ now: () => time }, 'offline_probe'),
);
const row = (over: Partial<Row>): Row => ({
  tenant_id: 'pb.a',
  id: 'i1',
  client_reference_id: 'c1',
  row_version: 1,
  note: 'x',
  change_time: 0,
  ...over,
});

beforeAll(async () => {
  db = await testDatabase();
  database = await connectDatabase(db.config);
  await migrate(database, [{ module: 'kernel', migrations: changeClockMigrations }]);
  await database.kysely.schema
    .createTable('offline_probe')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('client_reference_id', 'text', (c) => c.notNull())
    .addColumn('row_version', 'integer', (c) => c.notNull())
    .addColumn('note', 'text', (c) => c.notNull())
    .addColumn('change_time', database.types.bigint, (c) => c.notNull())
    .addPrimaryKeyConstraint('offline_probe_pk', ['tenant_id', 'id'])
    .addUniqueConstraint('offline_probe_ref_uq', ['tenant_id', 'client_reference_id'])
    .execute();
});
afterAll(async () => {
  await database.close();
  await db.drop();
});

describe('versionedTable', () => {
  it('finds rows by id and client reference id within the tenant only, and stamps what it writes with the commit time', async () => {
    expect(await database.transaction((tx) => table.insert(tx, row({})))).toBe(true);
    expect((await table.byId(database.kysely, 'pb.a', ['i1', 'i1', 'nope'])).map((r) => [r.client_reference_id, r.change_time])).toEqual([
      ['c1', 5_000],
    ]);
    expect((await table.byClientRef(database.kysely, 'pb.a', ['c1'])).map((r) => r.id)).toEqual(['i1']);
    expect(await table.byId(database.kysely, 'pb.b', ['i1'])).toEqual([]);
  });

  it('writes over the version before it, and answers false to a write that lost the race', async () => {
    time = 6_000;
    expect(await database.transaction((tx) => table.update(tx, row({ row_version: 2, note: 'y' })))).toBe(true);
    expect((await table.byId(database.kysely, 'pb.a', ['i1']))[0]).toMatchObject({ row_version: 2, note: 'y', change_time: 6_000 });
    time = 7_000;
    expect(await database.transaction((tx) => table.update(tx, row({ row_version: 2, note: 'z' })))).toBe(false);
    expect((await table.byId(database.kysely, 'pb.a', ['i1']))[0]).toMatchObject({ note: 'y', change_time: 6_000 });
  });

  it('skips a second insert of a client reference id (the caller answers the stored one); other keys still refuse', async () => {
    expect(await database.transaction((tx) => table.insert(tx, row({ id: 'i2' })))).toBe(false);
    expect(await table.byId(database.kysely, 'pb.a', ['i2'])).toEqual([]);
    const error = await database.transaction((tx) => table.insert(tx, row({ client_reference_id: 'c2' }))).catch((e: unknown) => e);
    expect(isUniqueViolation(error)).toBe(true);
    const { rows } = await sql<{ n: number | string }>`select count(*) as n from offline_probe`.execute(database.kysely);
    expect(Number(rows[0]!.n)).toBe(1);
  });
});
