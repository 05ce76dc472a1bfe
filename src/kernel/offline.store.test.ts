import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabase, type TestDatabase } from '../../test/helpers.js';
import { connectDatabase, type Database } from './db.js';
import { DomainError } from './errors.js';
import { isUniqueViolation, versionedTable } from './offline.store.js';

type Row = { tenant_id: string; id: string; client_reference_id: string; row_version: number; note: string };

let db: TestDatabase;
let database: Database;
const table = versionedTable<Row, Row, Database['kysely']>(
  'offline_probe',
  { read: (r) => ({ ...r, row_version: Number(r.row_version) }), write: (r) => r },
  (id) => `Probe ${id}`,
);

beforeAll(async () => {
  db = await testDatabase();
  database = await connectDatabase(db.config);
  await database.kysely.schema
    .createTable('offline_probe')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('client_reference_id', 'text', (c) => c.notNull().unique())
    .addColumn('row_version', 'integer', (c) => c.notNull())
    .addColumn('note', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('offline_probe_pk', ['tenant_id', 'id'])
    .execute();
});
afterAll(async () => {
  await database.close();
  await db.drop();
});

describe('versionedTable', () => {
  it('finds rows by id and client reference id within the tenant only', async () => {
    await table.insert(database.kysely, { tenant_id: 'pb.a', id: 'i1', client_reference_id: 'c1', row_version: 1, note: 'x' });
    expect((await table.byId(database.kysely, 'pb.a', ['i1', 'i1', 'nope'])).map((r) => r.client_reference_id)).toEqual(['c1']);
    expect((await table.byClientRef(database.kysely, 'pb.a', ['c1'])).map((r) => r.id)).toEqual(['i1']);
    expect(await table.byId(database.kysely, 'pb.b', ['i1'])).toEqual([]);
  });

  it('writes over the version before it and refuses a write that lost the race', async () => {
    await table.update(database.kysely, { tenant_id: 'pb.a', id: 'i1', client_reference_id: 'c1', row_version: 2, note: 'y' });
    expect((await table.byId(database.kysely, 'pb.a', ['i1']))[0]).toMatchObject({ row_version: 2, note: 'y' });
    const stale = table.update(database.kysely, { tenant_id: 'pb.a', id: 'i1', client_reference_id: 'c1', row_version: 2, note: 'z' });
    await expect(stale).rejects.toBeInstanceOf(DomainError);
    await expect(stale).rejects.toMatchObject({
      kind: 'conflict',
      details: [{ code: 'ROW_VERSION_MISMATCH', message: expect.stringMatching(/^Probe i1 was changed/) as unknown }],
    });
    expect((await table.byId(database.kysely, 'pb.a', ['i1']))[0]).toMatchObject({ note: 'y' });
  });

  it('a second insert of a client reference id is a unique violation on either engine', async () => {
    const error = await table
      .insert(database.kysely, { tenant_id: 'pb.a', id: 'i2', client_reference_id: 'c1', row_version: 1, note: 'x' })
      .catch((e: unknown) => e);
    expect(isUniqueViolation(error)).toBe(true);
  });
});
