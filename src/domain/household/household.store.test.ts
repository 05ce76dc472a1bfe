import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabase, type TestDatabase } from '../../../test/helpers.js';
import { connectDatabase, type Database } from '../../kernel/db.js';
import { newId } from '../../kernel/ids.js';
import { migrate } from '../../kernel/migrator.js';
import { changeClockMigrations } from '../../kernel/offline.feed.js';
import { SYSTEM_SCOPE, scopeFor, type Scope } from '../../kernel/scope.js';
import type { EncryptionService, TenantKeys } from '../../common/encryption/index.js';
import { createHouseholdStore, type HouseholdRow, type HouseholdStore, type MemberRow } from './household.store.js';
import { init } from './migrations/0001_init.js';
import { changeTime } from './migrations/0002_change_time.js';

// Issue #14: searches read only rows inside the caller's scope, even when the tenant they are
// asked for lies outside it (the kernel refuses such requests; the store must not depend on that).

let db: TestDatabase;
let database: Database;
let store: HouseholdStore;

beforeAll(async () => {
  db = await testDatabase();
  database = await connectDatabase(db.config);
  await migrate(database, [
    { module: 'kernel', migrations: changeClockMigrations },
    { module: 'household', migrations: [init, changeTime] },
  ]);
  // These rows carry no address, the only sealed field, so keys are fetched but never used.
  const unused = () => {
    throw new Error('the scope test used a key');
  };
  const keysOf = (tenantId: string): TenantKeys => ({
    tenantId,
    encrypt: unused,
    decrypt: unused,
    isCurrent: unused,
    blindIndex: unused,
    derivedKey: unused,
  });
  const noKeys = { forTenant: async (tenantId: string) => keysOf(tenantId) } as unknown as EncryptionService;
  store = createHouseholdStore(database, noKeys, { now: () => 1 });
});
afterAll(async () => {
  await database.close();
  await db.drop();
});

const audit = { created_by: null, last_modified_by: null, created_time: 1, last_modified_time: 1, change_time: 1 };

const household = (tenant_id: string): HouseholdRow => ({
  tenant_id,
  id: newId(),
  client_reference_id: newId(),
  member_count: 1,
  household_type: null,
  locality_code: 'SUN04',
  address: null,
  additional_fields: null,
  client_audit_details: null,
  row_version: 1,
  is_deleted: false,
  sync_time: 1,
  ...audit,
});

const member = (tenant_id: string, home: HouseholdRow): MemberRow => ({
  id: newId(),
  tenant_id,
  client_reference_id: newId(),
  household_id: home.id,
  household_client_reference_id: home.client_reference_id,
  individual_id: null,
  individual_client_reference_id: newId(),
  is_head_of_household: true,
  additional_fields: null,
  client_audit_details: null,
  row_version: 1,
  is_deleted: false,
  link_problem: null,
  ...audit,
});

describe('household searches take the scope', () => {
  it('finds households and members of the tenant only inside the scope', async () => {
    const home = household('pb.amritsar');
    const head = member('pb.amritsar', home);
    await database.transaction(async (tx) => {
      await store.insertHousehold(tx, home);
      await store.insertMember(tx, head);
    });
    const page = { limit: 10, offset: 0 };
    const households = (scope: Scope) =>
      store.searchHouseholds(store.runner(), { tenantId: 'pb.amritsar', includeDeleted: false }, page, scope);
    const members = (scope: Scope) => store.searchMembers(store.runner(), { tenantId: 'pb.amritsar', includeDeleted: false }, page, scope);

    for (const scope of [SYSTEM_SCOPE, scopeFor(null, ['pb']), scopeFor(null, ['pb.amritsar'])]) {
      expect((await households(scope)).rows.map((r) => r.id)).toEqual([home.id]);
      expect((await members(scope)).rows.map((r) => r.id)).toEqual([head.id]);
    }
    for (const scope of [scopeFor(null, ['pb.jalandhar']), scopeFor(null, ['pb.amritsar.ward1', 'pbx']), scopeFor(null, [])]) {
      expect(await households(scope)).toEqual({ total: 0, rows: [] });
      expect(await members(scope)).toEqual({ total: 0, rows: [] });
    }
  });
});
