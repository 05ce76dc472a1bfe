import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabase, type TestDatabase } from '../../../test/helpers.js';
import { connectDatabase, type Database } from '../../kernel/db.js';
import { newId } from '../../kernel/ids.js';
import { migrate } from '../../kernel/migrator.js';
import { changeClockMigrations } from '../../kernel/offline.feed.js';
import { SYSTEM_SCOPE, scopeFor } from '../../kernel/scope.js';
import { createIndividualStore, type IndividualRow, type IndividualStore } from './individual.store.js';
import { init } from './migrations/0001_init.js';
import { changeTime } from './migrations/0002_change_time.js';

// The bulk INSERTs are hand-built SQL (VALUES lists on SQLite, unnest arrays on PostgreSQL): these
// check what Kysely's builder used to guarantee: exact round trips, skipped conflicts, chunking.

let db: TestDatabase;
let database: Database;
let store: IndividualStore;

beforeAll(async () => {
  db = await testDatabase();
  database = await connectDatabase(db.config);
  await migrate(database, [
    { module: 'kernel', migrations: changeClockMigrations },
    { module: 'individual', migrations: [init, changeTime] },
  ]);
  store = createIndividualStore(database, { now: () => 1_760_000_000_456 });
});
/** Inserts in a transaction of its own, as every write does. */
const insertMany = (rows: readonly IndividualRow[]) => database.transaction((tx) => store.insertMany(tx, rows));

afterAll(async () => {
  await database.close();
  await db.drop();
});

/** Text that a naive array literal or placeholder list would mangle. */
const AWKWARD = 'a"b\\c,{d} e\'f NULL ';

const row = (n: number, over: Partial<IndividualRow> = {}): IndividualRow => ({
  id: newId(),
  tenant_id: 'pb.store',
  individual_id: `IND-${n}`,
  client_reference_id: `ref-${n}`,
  user_id: null,
  user_uuid: null,
  given_name: `k|given${n}`,
  family_name: null,
  other_names: null,
  date_of_birth: null,
  mobile_number: null,
  alt_contact_number: null,
  email: null,
  father_name: null,
  husband_name: null,
  gender: 'FEMALE',
  blood_group: null,
  relationship: null,
  photo: null,
  addresses: database.toJson([{ type: 'PERMANENT', doorNo: AWKWARD, locality: { code: 'SUN04' } }]),
  identifiers: database.toJson([]),
  skills: database.toJson([]),
  locality_code: 'SUN04',
  ward_code: null,
  given_name_bidx: `bidx-${n}`,
  family_name_bidx: null,
  mobile_bidx: null,
  key_id: 'k',
  is_system_user: database.toBool(false) as boolean,
  is_system_user_active: database.toBool(true) as boolean,
  source: null,
  application_id: null,
  additional_fields: null,
  client_audit: database.toJson({ createdBy: 'device', createdTime: 1_760_000_000_000 }),
  row_version: 1,
  is_deleted: database.toBool(false) as boolean,
  created_by: 'u',
  last_modified_by: 'u',
  created_time: 1_760_000_000_123,
  last_modified_time: 1_760_000_000_456,
  change_time: 1_760_000_000_456,
  ...over,
});

describe('bulk inserts', () => {
  it('stores every column exactly as given: awkward text, nulls, JSON, booleans, epoch milliseconds', async () => {
    const written = row(1, { email: AWKWARD, photo: '', father_name: 'NULL', is_system_user: database.toBool(true) as boolean });
    expect(await insertMany([written])).toEqual(new Set([written.id]));
    const [read] = await store.byIds(store.runner(), [written.id]);
    expect(read).toBeDefined();
    const { addresses, identifiers, skills, client_audit: clientAudit, additional_fields: additional, ...scalars } = read!;
    const expected: Partial<IndividualRow> = { ...written };
    delete expected.addresses;
    delete expected.identifiers;
    delete expected.skills;
    delete expected.client_audit;
    delete expected.additional_fields;
    expect({
      ...scalars,
      created_time: Number(scalars.created_time),
      last_modified_time: Number(scalars.last_modified_time),
      is_system_user: database.fromBool(scalars.is_system_user),
      is_system_user_active: database.fromBool(scalars.is_system_user_active),
      is_deleted: database.fromBool(scalars.is_deleted),
    }).toEqual({ ...expected, is_system_user: true, is_system_user_active: true, is_deleted: false });
    expect(database.fromJson(addresses)).toEqual([{ type: 'PERMANENT', doorNo: AWKWARD, locality: { code: 'SUN04' } }]);
    expect([database.fromJson(identifiers), database.fromJson(skills), additional]).toEqual([[], [], null]);
    expect(database.fromJson(clientAudit)).toEqual({ createdBy: 'device', createdTime: 1_760_000_000_000 });
  });

  it('skips a row whose client reference id is already stored, answering only the ids it inserted', async () => {
    const first = [row(10), row(11)];
    await insertMany(first);
    const again = row(10, { given_name: 'k|someone else' });
    const fresh = row(12);
    expect(await insertMany([again, fresh])).toEqual(new Set([fresh.id]));
    const stored = await store.byClientReferenceIds(store.runner(), 'pb.store', ['ref-10', 'ref-12']);
    expect(stored.map((r) => [r.client_reference_id, r.id, r.given_name]).sort()).toEqual(
      [
        ['ref-10', first[0]!.id, 'k|given10'],
        ['ref-12', fresh.id, 'k|given12'],
      ].sort(),
    );
  });

  it('inserts batches larger than one statement, and identifier indexes with duplicates skipped', async () => {
    const many = Array.from({ length: 450 }, (_, i) => row(1000 + i));
    const inserted = await insertMany(many);
    expect(inserted.size).toBe(450);
    expect(
      await store.existingIds(
        store.runner(),
        'pb.store',
        many.map((r) => r.id),
      ),
    ).toHaveLength(450);

    const indexes = many.flatMap((r) => [
      { individual_id: r.id, tenant_id: 'pb.store', identifier_bidx: `a-${r.id}` },
      { individual_id: r.id, tenant_id: 'pb.store', identifier_bidx: `b-${r.id}` },
    ]);
    await store.insertIdentifierIndexes(store.runner(), indexes);
    await store.insertIdentifierIndexes(store.runner(), indexes.slice(0, 3));
    const found = await store.search(store.runner(), {
      scope: SYSTEM_SCOPE,
      tenantId: 'pb.store',
      identifierBidx: `b-${many[449]!.id}`,
      includeDeleted: false,
      offset: 0,
      limit: 10,
    });
    expect(found.rows.map((r) => r.id)).toEqual([many[449]!.id]);
  });

  it('finds the rows of a state under an old key, and not those of a state whose name LIKE would match', async () => {
    const own = row(900, { tenant_id: 'a_b.city', client_reference_id: 'state-900', key_id: 'old' });
    const state = row(901, { tenant_id: 'a_b', client_reference_id: 'state-901', key_id: 'old' });
    const lookalike = row(902, { tenant_id: 'axb.city', client_reference_id: 'state-902', key_id: 'old' });
    const current = row(903, { tenant_id: 'a_b.city', client_reference_id: 'state-903', key_id: 'new' });
    await insertMany([own, state, lookalike, current]);
    const found = await store.underOldKey(store.runner(), 'a_b', 'new', 10);
    expect(found.map((r) => r.id).sort()).toEqual([own.id, state.id].sort());
  });

  it('searches only inside the scope it is given, whatever tenant the query names (issue #14)', async () => {
    const inside = row(950, { tenant_id: 'pb.scoped', client_reference_id: 'scoped-950' });
    await insertMany([inside]);
    const search = (scope: ReturnType<typeof scopeFor>) =>
      store.search(store.runner(), { scope, tenantId: 'pb.scoped', includeDeleted: false, offset: 0, limit: 10 });
    expect((await search(scopeFor(null, ['pb']))).rows.map((r) => r.id)).toEqual([inside.id]);
    expect((await search(scopeFor(null, ['pb.scoped']))).rows.map((r) => r.id)).toEqual([inside.id]);
    const outside = await search(scopeFor(null, ['pb.store', 'pbx']));
    expect(outside).toEqual({ rows: [], total: 0 });
    expect((await search(scopeFor(null, []))).total).toBe(0);
  });
});
