import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabase, type TestDatabase } from '../../test/helpers.js';
import type { UserInfo } from './auth.js';
import { connectDatabase, type Database } from './db.js';
import { SYSTEM_SCOPE, scopeFor, type Scope } from './scope.js';
import { escapeLike, ownedInScope, scopeRoots, tenantInScope } from './scope.sql.js';

type Row = { tenant_id: string; owner: string | null };

const TENANTS = ['pb', 'pb.amritsar', 'pb.amritsar.ward1', 'pb.jalandhar', 'pbx', 'pbx.city', 'pb_x.city', 'pbax.city', 'PB.AMRITSAR', 'pb.a_c', 'pb.abc', 'pb.a%c', 'pb.a%c.z', 'hp.shimla'];

let db: TestDatabase;
let database: Database;

beforeAll(async () => {
  db = await testDatabase();
  database = await connectDatabase(db.config);
  await database.kysely.schema.createTable('scope_probe').addColumn('tenant_id', 'text', (c) => c.notNull()).addColumn('owner', 'text').execute();
  const rows: Row[] = TENANTS.map((tenant_id, i) => ({ tenant_id, owner: i % 2 === 0 ? 'citizen-a' : 'citizen-b' }));
  await (database.kysely as unknown as Kysely<{ scope_probe: Row }>).insertInto('scope_probe').values(rows).execute();
});
afterAll(async () => {
  await database.close();
  await db.drop();
});

const employee = (roots: string[]): Scope => scopeFor(null, roots);
const citizen = (uuid: string, roots: string[]): Scope =>
  scopeFor({ id: 1, uuid, userName: uuid, name: null, mobileNumber: null, emailId: null, type: 'CITIZEN', tenantId: 'pb', roles: [] } satisfies UserInfo, roots);

async function visible(scope: Scope, owned = false): Promise<string[]> {
  const kysely = database.kysely as unknown as Kysely<{ scope_probe: Row }>;
  let query = kysely.selectFrom('scope_probe').select('tenant_id').where(tenantInScope(scope, 'tenant_id'));
  if (owned) query = query.where(ownedInScope(scope, 'owner'));
  return (await query.execute()).map((r) => r.tenant_id).sort();
}

describe('tenantInScope on the database', () => {
  it('keeps a state root and every tenant below it, not look-alike prefixes or other case', async () => {
    expect(await visible(employee(['pb']))).toEqual(['pb', 'pb.a%c', 'pb.a%c.z', 'pb.a_c', 'pb.abc', 'pb.amritsar', 'pb.amritsar.ward1', 'pb.jalandhar'].sort());
  });

  it('keeps a city root to its city and its wards', async () => {
    expect(await visible(employee(['pb.amritsar']))).toEqual(['pb.amritsar', 'pb.amritsar.ward1']);
    expect(await visible(employee(['pb.amritsar', 'pb.jalandhar']))).toEqual(['pb.amritsar', 'pb.amritsar.ward1', 'pb.jalandhar']);
  });

  it('matches LIKE metacharacters in a root literally', async () => {
    expect(await visible(employee(['pb.a_c']))).toEqual(['pb.a_c']);
    expect(await visible(employee(['pb.a%c']))).toEqual(['pb.a%c', 'pb.a%c.z']);
    expect(await visible(employee(['pb_x']))).toEqual(['pb_x.city']);
  });

  it('matches nothing for an empty scope and everything for the system', async () => {
    expect(await visible(employee([]))).toEqual([]);
    expect(await visible(SYSTEM_SCOPE)).toEqual([...TENANTS].sort());
  });

  it('keeps a citizen to their own rows when asked to', async () => {
    const mine = await visible(citizen('citizen-a', ['pb.amritsar']), true);
    expect(mine).toEqual(['pb.amritsar.ward1']);
    expect(await visible(employee(['pb.amritsar']), true)).toEqual(['pb.amritsar', 'pb.amritsar.ward1']);
  });
});

describe('scope helpers', () => {
  it('drops roots another root covers', () => {
    expect(scopeRoots(employee(['pb.amritsar', 'pb', 'pb.jalandhar', 'hp.shimla'])).sort()).toEqual(['hp.shimla', 'pb']);
  });

  it('escapes LIKE metacharacters', () => {
    expect(escapeLike('a_b%c\\d')).toBe('a\\_b\\%c\\\\d');
  });
});
