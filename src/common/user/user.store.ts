import { sql } from 'kysely';
import type { Database, Tx } from '../../kernel/db.js';
import type { UserType } from '../../kernel/auth.js';
import { stateTenantOf, type TenantDirectory } from '../../kernel/tenancy.js';
import type { TenantKeys } from '../encryption/index.js';
import { INDEX_COLUMN, type UserCrypto } from './user.crypto.js';
import type { Identity, IdentityField, IdentityIndexes, RoleRow, Runner, UserRow, UserTables } from './user.rows.js';

export type { RoleRow, Runner, UserRow, UserTables } from './user.rows.js';


export type UserQuery = {
  tenantId?: string | undefined;
  ids?: readonly number[] | undefined;
  uuids?: readonly string[] | undefined;
  userName?: string | undefined;
  name?: string | undefined;
  mobileNumber?: string | undefined;
  emailId?: string | undefined;
  type?: UserType | undefined;
  active?: boolean | undefined;
  roleCodes?: readonly string[] | undefined;
  /** Only users on these tenants or below them (a caller's scope); an empty list matches nobody. */
  tenantRoots?: readonly string[] | undefined;
};

/** What a user row may change outside its identity (which only `updateIdentity` writes, sealed). */
export type UserChanges = Partial<Omit<UserRow, 'id' | 'uuid' | IdentityField>>;

/** DIGIT pages by id (egov-user's DENSE_RANK over id) and sorts by name; names are ciphertext, so a page is sorted once opened. */
const byName = (a: UserRow, b: UserRow) => (a.name ?? '').localeCompare(b.name ?? '') || a.id - b.id;

/**
 * Kysely queries for users, roles, OTPs and tokens; no rules here. The identity columns are sealed
 * on write and opened on read here (user.crypto.ts), and searched by their blind indexes.
 */
export function createUserStore(database: Database, crypto: UserCrypto, tenants: TenantDirectory) {
  const db = (): Runner => database.kysely.withTables<UserTables>() as unknown as Runner;
  const inTx = (tx: Tx | undefined): Runner => (tx ? (tx.kysely.withTables<UserTables>() as unknown as Runner) : db());
  const read = (row: UserTables['users'], keys: TenantKeys): UserRow => {
    const decoded: UserRow & Partial<IdentityIndexes> = {
      ...row,
      profile: database.fromJson<Record<string, unknown>>(row.profile) ?? {},
      active: database.fromBool(row.active),
      account_locked: database.fromBool(row.account_locked),
    };
    // The blind indexes are the store's own: the service never sees them.
    delete decoded.user_name_bidx;
    delete decoded.name_bidx;
    delete decoded.mobile_number_bidx;
    delete decoded.email_id_bidx;
    return crypto.openIdentity(keys, decoded);
  };
  /** Opens rows of any states, loading each state's keys once. */
  async function readAll(rows: ReadonlyArray<UserTables['users']>): Promise<UserRow[]> {
    const keyring = new Map<string, TenantKeys>();
    const out: UserRow[] = [];
    for (const row of rows) {
      const state = stateTenantOf(row.tenant_id);
      let keys = keyring.get(state);
      if (!keys) keyring.set(state, (keys = await crypto.keys(state)));
      out.push(read(row, keys));
    }
    return out;
  }

  /**
   * The states a query may reach: blind-index keys are per state, so a value is looked up under
   * the key of each. No tenant named (the platform's own searches): every state of the platform.
   */
  async function statesOf(runner: Runner, query: UserQuery): Promise<string[]> {
    const states = (tenantIds: Iterable<string>) => [...new Set([...tenantIds].map(stateTenantOf))];
    if (query.tenantId) return states([query.tenantId]);
    if (query.tenantRoots) return states(query.tenantRoots);
    const known = await tenants.knownTenants();
    if (known.size > 0) return states(known);
    // Nothing configured yet (first start): the states that hold users.
    return states((await runner.selectFrom('users').select('tenant_id').distinct().execute()).map((r) => r.tenant_id));
  }

  return {
    db,
    inTx,

    /** Only outside a transaction (keys may be loaded). */
    async findUsers(runner: Runner, query: UserQuery, page: { offset: number; limit: number }): Promise<UserRow[]> {
      let q = runner.selectFrom('users').selectAll('users');
      if (query.tenantId) q = q.where('users.tenant_id', '=', query.tenantId);
      if (query.ids?.length) q = q.where('users.id', 'in', query.ids);
      if (query.uuids?.length) q = q.where('users.uuid', 'in', query.uuids);
      const searched = ([['user_name', query.userName], ['name', query.name], ['mobile_number', query.mobileNumber], ['email_id', query.emailId]] as const).filter(
        (entry): entry is readonly [IdentityField, string] => Boolean(entry[1]),
      );
      if (searched.length > 0) {
        const keys = await Promise.all((await statesOf(runner, query)).map((state) => crypto.keys(state)));
        if (keys.length === 0) return [];
        // One index per state; an index of one state never equals another's (different HMAC keys).
        for (const [field, value] of searched) q = q.where(`users.${INDEX_COLUMN[field]}`, 'in', keys.map((k) => crypto.index(k, field, value)));
      }
      if (query.type) q = q.where('users.type', '=', query.type);
      if (query.active !== undefined) q = q.where('users.active', '=', database.toBool(query.active));
      if (query.tenantRoots) {
        const roots = query.tenantRoots;
        if (roots.length === 0) return [];
        // substr, not LIKE: `_` in a tenant code is a LIKE wildcard.
        q = q.where((eb) =>
          eb.or(roots.flatMap((root) => [eb('users.tenant_id', '=', root), eb(sql<string>`substr(users.tenant_id, 1, ${root.length + 1})`, '=', `${root}.`)])),
        );
      }
      if (query.roleCodes?.length) {
        const codes = query.roleCodes;
        q = q.where(({ exists, selectFrom }) =>
          exists(selectFrom('user_roles').select('user_roles.user_id').whereRef('user_roles.user_id', '=', 'users.id').where('user_roles.role_code', 'in', codes)),
        );
      }
      const rows = await q.orderBy('users.id').offset(page.offset).limit(page.limit).execute();
      return (await readAll(rows)).sort(byName);
    },

    /**
     * The user who logs in as `userName` (compared by blind index). Inside a transaction pass the
     * state's `keys`, fetched before it; outside, they are loaded here.
     */
    async findByLogin(runner: Runner, tenantId: string, type: UserType, userName: string, keys?: TenantKeys): Promise<UserRow | undefined> {
      const stateKeys = keys ?? (await crypto.keys(tenantId));
      const row = await runner
        .selectFrom('users')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('type', '=', type)
        .where('user_name_bidx', '=', crypto.index(stateKeys, 'user_name', userName))
        .executeTakeFirst();
      return row && read(row, stateKeys);
    },

    /** Only outside a transaction (keys may be loaded). */
    async findByUuid(runner: Runner, uuid: string): Promise<UserRow | undefined> {
      const row = await runner.selectFrom('users').selectAll().where('uuid', '=', uuid).executeTakeFirst();
      return row && (await readAll([row]))[0];
    },

    /** Only outside a transaction (keys may be loaded). */
    async findById(runner: Runner, id: number): Promise<UserRow | undefined> {
      const row = await runner.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
      return row && (await readAll([row]))[0];
    },

    async rolesOf(runner: Runner, userIds: readonly number[]): Promise<RoleRow[]> {
      if (userIds.length === 0) return [];
      return runner.selectFrom('user_roles').selectAll().where('user_id', 'in', userIds).orderBy('role_code').execute();
    },

    /** `keys`: the state's, fetched before the transaction. The user name's uniqueness is on its blind index. */
    async insertUser(runner: Runner, keys: TenantKeys, row: Omit<UserRow, 'id'>): Promise<number> {
      const inserted = await runner
        .insertInto('users')
        .values({
          ...row,
          ...crypto.sealIdentity(keys, row),
          profile: database.toJson(row.profile) as string,
          active: database.toBool(row.active),
          account_locked: database.toBool(row.account_locked),
        } as never)
        .returning('id')
        .executeTakeFirstOrThrow();
      return Number(inserted.id);
    },

    async updateUser(runner: Runner, id: number, changes: UserChanges): Promise<void> {
      const values: Record<string, unknown> = { ...changes };
      if (changes.profile !== undefined) values['profile'] = database.toJson(changes.profile);
      if (changes.active !== undefined) values['active'] = database.toBool(changes.active);
      if (changes.account_locked !== undefined) values['account_locked'] = database.toBool(changes.account_locked);
      await runner.updateTable('users').set(values as never).where('id', '=', id).execute();
    },

    /** Rewrites the identity columns, sealed under `keys` (the state's, fetched before the transaction). */
    async updateIdentity(runner: Runner, keys: TenantKeys, id: number, identity: Identity): Promise<void> {
      await runner.updateTable('users').set(crypto.sealIdentity(keys, identity)).where('id', '=', id).execute();
    },

    async replaceRoles(runner: Runner, userId: number, roles: ReadonlyArray<{ code: string; tenantId: string }>): Promise<void> {
      await runner.deleteFrom('user_roles').where('user_id', '=', userId).execute();
      if (roles.length === 0) return;
      await runner
        .insertInto('user_roles')
        .values(roles.map((r) => ({ user_id: userId, role_code: r.code, tenant_id: r.tenantId })))
        .execute();
    },

    /** Records a failure and forgets those older than `keepSince`, so the table stays small. */
    async recordLoginFailure(runner: Runner, userId: number, time: number, ip: string | null, keepSince: number): Promise<void> {
      await runner.deleteFrom('user_login_failures').where('user_id', '=', userId).where('time', '<', keepSince).execute();
      await runner.insertInto('user_login_failures').values({ user_id: userId, time, ip }).execute();
    },

    /**
     * Counts one login attempt before its password is checked, atomically (a single UPDATE …
     * RETURNING: the row is locked on PostgreSQL, writes are serial on SQLite); answers the attempts
     * in the window, this one included. A window older than `windowStart` starts over.
     */
    async reserveLoginAttempt(runner: Runner, userId: number, now: number, windowStart: number): Promise<number> {
      const stale = sql<boolean>`login_attempts_since is null or login_attempts_since < ${windowStart}`;
      const row = await runner
        .updateTable('users')
        .set({
          login_attempts: sql<number>`case when ${stale} then 1 else login_attempts + 1 end`,
          login_attempts_since: sql<number>`case when ${stale} then ${now} else login_attempts_since end`,
        } as never)
        .where('id', '=', userId)
        .returning('login_attempts')
        .executeTakeFirst();
      return Number(row?.login_attempts ?? 0);
    },

    async countLoginFailuresSince(runner: Runner, userId: number, since: number): Promise<number> {
      const row = await runner
        .selectFrom('user_login_failures')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('user_id', '=', userId)
        .where('time', '>=', since)
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },

    /** Deletes OTPs, revocations and refresh tokens that can no longer be used; answers how many. */
    async sweepExpired(runner: Runner, now: number): Promise<number> {
      const results = await Promise.all([
        runner.deleteFrom('user_otps').where('expires_time', '<', now).executeTakeFirst(),
        // A revoked access token past its expiry is refused by its signature check anyway.
        runner.deleteFrom('user_revoked_tokens').where('expires_time', '<', now).executeTakeFirst(),
        runner.deleteFrom('user_refresh_tokens').where('expires_time', '<', now).executeTakeFirst(),
      ]);
      return results.reduce((sum, r) => sum + Number(r.numDeletedRows), 0);
    },

    async clearLoginFailures(runner: Runner, userId: number): Promise<void> {
      await runner.deleteFrom('user_login_failures').where('user_id', '=', userId).execute();
      await runner.updateTable('users').set({ login_attempts: 0, login_attempts_since: null }).where('id', '=', userId).execute();
    },
  };
}

export type UserStore = ReturnType<typeof createUserStore>;
