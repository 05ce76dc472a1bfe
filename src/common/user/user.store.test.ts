import type { FastifyBaseLogger } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabase, type TestDatabase } from '../../../test/helpers.js';
import type { ChangeFeed } from '../../kernel/changes.js';
import { systemClock } from '../../kernel/clock.js';
import { connectDatabase, type Database } from '../../kernel/db.js';
import type { Outbox } from '../../kernel/events.js';
import { migrate } from '../../kernel/migrator.js';
import { isUniqueViolation } from '../../kernel/offline.store.js';
import { createEncryptionService, type CryptoService } from '../encryption/encryption.service.js';
import { createEncryptionStore } from '../encryption/encryption.store.js';
import { encryptionModule, isCipherText } from '../encryption/index.js';
import { userModule } from './index.js';
import { createUserCrypto, type UserCrypto } from './user.crypto.js';
import { createUserStore, type UserRow, type UserStore } from './user.store.js';

/**
 * The users table at rest (#14 Build 4): identity columns sealed under the state's data key,
 * searched by keyed blind indexes computed under each state's own index key, unique login names on
 * the blind index, rows from before sealed at start and moved to a new key after a rotation.
 */

let db: TestDatabase;
let database: Database;
let encryption: CryptoService;
let crypto: UserCrypto;
let store: UserStore;
const json = { to: (v: unknown) => database.toJson(v), from: (v: unknown) => database.fromJson<Record<string, unknown>>(v) ?? null };

beforeAll(async () => {
  db = await testDatabase();
  database = await connectDatabase(db.config);
  // A database of the release before: a user in clear, then this release's migration over it.
  const before = userModule.migrations.filter((m) => m.name !== '0006_sealed_identity');
  await migrate(database, [
    { module: encryptionModule.name, migrations: encryptionModule.migrations },
    { module: userModule.name, migrations: before },
  ]);
  const now = Date.now();
  await sql`insert into users (uuid, tenant_id, type, user_name, name, mobile_number, email_id, profile, active, account_locked, created_time, last_modified_time)
    values (${LEGACY}, 'pb', 'CITIZEN', '9876500999', 'Legacy Singh', '9876500999', 'legacy@example.org',
    ${database.toJson({ pan: 'LEGCY1234L', gender: 'MALE' })}, ${database.toBool(true)}, ${database.toBool(false)}, ${now}, ${now})`.execute(
    database.kysely,
  );
  await migrate(database, [{ module: userModule.name, migrations: userModule.migrations }]);
  const quiet = { info: () => undefined, warn: () => undefined, debug: () => undefined } as unknown as FastifyBaseLogger;
  const changes: ChangeFeed = {
    publish: async () => undefined,
    subscribe: () => () => undefined,
    start: async () => undefined,
    stop: async () => undefined,
  };
  encryption = createEncryptionService({
    database,
    store: createEncryptionStore(database),
    clock: systemClock,
    outbox: { append: async () => ({}) } as unknown as Outbox,
    changes,
    logger: quiet,
    master: { masterKey: db.config.masterKey, masterKeyFile: db.config.masterKeyFile, dataDir: db.config.dataDir },
    audit: { appendInTx: async () => ({}) as never },
  });
  crypto = createUserCrypto(encryption);
  // Two states: each has its own keys.
  store = createUserStore(database, crypto, { knownTenants: async () => new Set(['pb', 'pb.amritsar', 'up', 'up.lucknow']) });
  encryption.registerReencryption('user', (keys, tx) => crypto.reencryptBatch(keys, store.inTx(tx), json));
});
afterAll(async () => {
  encryption?.close();
  await database?.close();
  await db?.drop();
});

const LEGACY = '00000000-0000-4000-8000-0000000001d0';
let serial = 0;
function user(over: Partial<UserRow>): Omit<UserRow, 'id'> {
  serial++;
  return {
    uuid: `00000000-0000-4000-8000-${String(serial).padStart(12, '0')}`,
    tenant_id: 'pb',
    type: 'CITIZEN',
    user_name: `user${serial}`,
    name: null,
    mobile_number: null,
    email_id: null,
    profile: {},
    password_hash: null,
    password_changed_time: null,
    active: true,
    account_locked: false,
    account_locked_time: null,
    tokens_not_before: null,
    key_id: null,
    login_attempts: 0,
    login_attempts_since: null,
    created_by: null,
    last_modified_by: null,
    created_time: 1,
    last_modified_time: 1,
    ...over,
  };
}

/** As the service writes a user: profile sealed, key_id set. */
async function insert(row: Omit<UserRow, 'id'>): Promise<number> {
  const keys = await crypto.keys(row.tenant_id);
  const sealed = crypto.sealProfile(keys, row.profile);
  return database.transaction((tx) => store.insertUser(store.inTx(tx), keys, { ...row, profile: sealed.profile, key_id: sealed.keyId }));
}

type Raw = Record<string, unknown>;
const raw = async (id: number): Promise<Raw> => (await sql<Raw>`select * from users where id = ${id}`.execute(database.kysely)).rows[0]!;
const found = (rows: UserRow[]) => rows.map((r) => r.uuid).sort();

const MOBILE = '9876500001';

describe('the users store', () => {
  let asha: Omit<UserRow, 'id'>;
  let ravi: Omit<UserRow, 'id'>;
  let ashaId: number;
  let raviId: number;

  beforeAll(async () => {
    asha = user({ tenant_id: 'pb', user_name: MOBILE, name: 'Asha Kaur', mobile_number: MOBILE, email_id: 'asha@example.org' });
    ravi = user({
      tenant_id: 'up.lucknow',
      type: 'EMPLOYEE',
      user_name: 'ravi.lko',
      name: 'Ravi Verma',
      mobile_number: MOBILE,
      email_id: 'ravi@example.org',
    });
    ashaId = await insert(asha);
    raviId = await insert(ravi);
  });

  it('stores the user name, name, mobile and e-mail only as ciphertext, each with a blind index of its state', async () => {
    for (const [id, plain] of [
      [ashaId, asha],
      [raviId, ravi],
    ] as const) {
      const row = await raw(id);
      for (const column of ['user_name', 'name', 'mobile_number', 'email_id'] as const) {
        expect(isCipherText(row[column]), column).toBe(true);
        expect(JSON.stringify(row)).not.toContain(String(plain[column]));
        expect(row[`${column}_bidx`], column).toEqual(expect.any(String));
      }
    }
    // The same number under two states' index keys: two unrelated indexes.
    expect((await raw(ashaId))['mobile_number_bidx']).not.toBe((await raw(raviId))['mobile_number_bidx']);
  });

  it('finds users by each identity field through the index, under the key of every state the query reaches', async () => {
    const page = { offset: 0, limit: 10 };
    // No tenant: both states' indexes of the number.
    expect(found(await store.findUsers(store.db(), { mobileNumber: MOBILE }, page))).toEqual([asha.uuid, ravi.uuid].sort());
    // A scope over both states, one state, one city.
    expect(found(await store.findUsers(store.db(), { mobileNumber: MOBILE, tenantRoots: ['pb', 'up'] }, page))).toEqual(
      [asha.uuid, ravi.uuid].sort(),
    );
    expect(found(await store.findUsers(store.db(), { mobileNumber: MOBILE, tenantRoots: ['pb'] }, page))).toEqual([asha.uuid]);
    expect(found(await store.findUsers(store.db(), { mobileNumber: MOBILE, tenantId: 'up.lucknow' }, page))).toEqual([ravi.uuid]);
    expect(await store.findUsers(store.db(), { mobileNumber: MOBILE, tenantRoots: [] }, page)).toEqual([]);

    expect(found(await store.findUsers(store.db(), { userName: 'ravi.lko' }, page))).toEqual([ravi.uuid]);
    expect(found(await store.findUsers(store.db(), { name: 'Asha Kaur', tenantId: 'pb' }, page))).toEqual([asha.uuid]);
    expect(found(await store.findUsers(store.db(), { emailId: 'ravi@example.org' }, page))).toEqual([ravi.uuid]);
    // Exact match, as before: no partial or other-case hits.
    expect(await store.findUsers(store.db(), { name: 'Asha' }, page)).toEqual([]);
    expect(await store.findUsers(store.db(), { emailId: 'ASHA@example.org' }, page)).toEqual([]);

    const [opened] = await store.findUsers(store.db(), { userName: MOBILE, tenantId: 'pb' }, page);
    expect(opened).toMatchObject({ user_name: MOBILE, name: 'Asha Kaur', mobile_number: MOBILE, email_id: 'asha@example.org' });
    expect(Object.keys(opened!).filter((k) => k.endsWith('_bidx'))).toEqual([]);
    expect(await store.findByLogin(store.db(), 'up.lucknow', 'EMPLOYEE', 'ravi.lko')).toMatchObject({
      uuid: ravi.uuid,
      name: 'Ravi Verma',
    });
    expect(await store.findByLogin(store.db(), 'up.lucknow', 'CITIZEN', 'ravi.lko')).toBeUndefined();
    expect(await store.findByUuid(store.db(), asha.uuid)).toMatchObject({ mobile_number: MOBILE });
  });

  it('pages by id and sorts each page by the opened name', async () => {
    const ids = [];
    for (const name of ['Zora Page', 'Bela Page', 'Mira Page'])
      ids.push(await insert(user({ tenant_id: 'pb.amritsar', type: 'EMPLOYEE', name })));
    const all = await store.findUsers(store.db(), { tenantId: 'pb.amritsar' }, { offset: 0, limit: 10 });
    expect(all.map((u) => u.name)).toEqual(['Bela Page', 'Mira Page', 'Zora Page']);
    const first = await store.findUsers(store.db(), { tenantId: 'pb.amritsar' }, { offset: 0, limit: 2 });
    expect(first.map((u) => u.id).sort()).toEqual(ids.slice(0, 2).sort());
    expect(first.map((u) => u.name)).toEqual(['Bela Page', 'Zora Page']);
  });

  it('keeps a user name unique per tenant and type on its blind index', async () => {
    const twin = user({ tenant_id: 'up.lucknow', type: 'EMPLOYEE', user_name: 'ravi.lko', name: 'Another Ravi' });
    const refused = await insert(twin).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isUniqueViolation(refused), String(refused)).toBe(true);
    // Another type, another tenant: another login.
    await insert({ ...twin, uuid: '00000000-0000-4000-8000-00000000aaa1', type: 'CITIZEN' });
    await insert({ ...twin, uuid: '00000000-0000-4000-8000-00000000aaa2', tenant_id: 'up' });
  });

  it('refuses an identity value shaped like a ciphertext (it would be decrypted for readers)', async () => {
    const ciphertext = String((await raw(ashaId))['name']);
    await expect(insert(user({ name: ciphertext }))).rejects.toMatchObject({ kind: 'invalid', code: 'INVALID_USER_FIELD' });
  });

  it('seals rows written in the clear before, once; their user names become unique on the index', async () => {
    // The row inserted before the migration (beforeAll), and a row of the release before this one: profile sealed (key_id set), identity still in clear.
    const half = user({ tenant_id: 'up', user_name: 'half.sealed', name: 'Half Sealed', mobile_number: '9876500998' });
    const halfId = await insert(half);
    await sql`update users set user_name = 'half.sealed', name = 'Half Sealed', mobile_number = '9876500998', email_id = null,
      user_name_bidx = null, name_bidx = null, mobile_number_bidx = null where id = ${halfId}`.execute(database.kysely);
    const keyIdBefore = (await raw(halfId))['key_id'];

    expect(await crypto.sealExisting(store.db, json)).toBe(2);
    expect(await crypto.sealExisting(store.db, json)).toBe(0);

    const legacy = (await sql<Raw>`select * from users where uuid = ${LEGACY}`.execute(database.kysely)).rows[0]!;
    const text = JSON.stringify(legacy);
    for (const secret of ['9876500999', 'Legacy Singh', 'legacy@example.org', 'LEGCY1234L']) expect(text).not.toContain(secret);
    expect(legacy['key_id']).toEqual(expect.any(String));
    expect(await store.findByLogin(store.db(), 'pb', 'CITIZEN', '9876500999')).toMatchObject({
      name: 'Legacy Singh',
      email_id: 'legacy@example.org',
    });
    expect((await raw(halfId))['key_id']).toBe(keyIdBefore);
    expect(found(await store.findUsers(store.db(), { mobileNumber: '9876500998', tenantId: 'up' }, { offset: 0, limit: 5 }))).toEqual([
      half.uuid,
    ]);
    const twin = insert(user({ tenant_id: 'pb', type: 'CITIZEN', user_name: '9876500999' }));
    await expect(
      twin.then(
        () => 'inserted',
        (error: unknown) => isUniqueViolation(error),
      ),
    ).resolves.toBe(true);
  });

  it('moves the identity to the new data key after a rotation; the blind indexes stay', async () => {
    const before = await raw(raviId);
    const otherState = await raw(ashaId);
    const { keyId } = await encryption.rotateKey('up');
    const moved = await encryption.reencrypt('up');
    expect(moved['user']).toBeGreaterThanOrEqual(1);
    const after = await raw(raviId);
    expect(after['key_id']).toBe(keyId);
    for (const column of ['user_name', 'name', 'mobile_number', 'email_id']) {
      expect(String(after[column]).startsWith(`${keyId}|`), column).toBe(true);
      expect(after[`${column}_bidx`]).toBe(before[`${column}_bidx`]);
    }
    expect(found(await store.findUsers(store.db(), { mobileNumber: MOBILE, tenantId: 'up.lucknow' }, { offset: 0, limit: 5 }))).toEqual([
      ravi.uuid,
    ]);
    expect(await store.findByLogin(store.db(), 'up.lucknow', 'EMPLOYEE', 'ravi.lko')).toMatchObject({
      name: 'Ravi Verma',
      mobile_number: MOBILE,
    });
    // The other state's rows are not touched.
    expect(await raw(ashaId)).toEqual(otherState);
  });
});
