import type { Kysely } from 'kysely';
import type { Clock } from '../../kernel/clock.js';
import type { Database, Tx } from '../../kernel/db.js';
import { feedMarker } from '../../kernel/offline.feed.js';
import type { Scope } from '../../kernel/scope.js';
import { tenantInScope } from '../../kernel/scope.sql.js';
import { inChunks, versionedTable } from '../../kernel/offline.store.js';
import { personalFields, sealStoredRows, type EncryptionService, type PersonalFieldSpec } from '../../common/encryption/index.js';

/** Rows as the services see them: json decoded, booleans as booleans, times as numbers. */
export type HouseholdRow = {
  tenant_id: string;
  id: string;
  client_reference_id: string;
  member_count: number;
  household_type: string | null;
  locality_code: string | null;
  address: unknown;
  additional_fields: unknown;
  client_audit_details: unknown;
  row_version: number;
  is_deleted: boolean;
  /** When the household or any of its members last changed, commit-ordered: what a downsync pages by. */
  sync_time: number;
  created_by: string | null;
  last_modified_by: string | null;
  created_time: number;
  last_modified_time: number;
  /** When the household last changed, commit-ordered (kernel/offline.feed.ts): what lastChangedSince pages by. */
  change_time: number;
};

export type MemberRow = {
  id: string;
  tenant_id: string;
  client_reference_id: string;
  household_id: string | null;
  household_client_reference_id: string;
  individual_id: string | null;
  individual_client_reference_id: string | null;
  is_head_of_household: boolean;
  additional_fields: unknown;
  client_audit_details: unknown;
  row_version: number;
  is_deleted: boolean;
  link_problem: string | null;
  created_by: string | null;
  last_modified_by: string | null;
  created_time: number;
  last_modified_time: number;
  /** When the member (or a link of it) last changed, commit-ordered: what lastChangedSince pages by. */
  change_time: number;
};

export type RelationshipRow = {
  id: string;
  tenant_id: string;
  client_reference_id: string | null;
  member_id: string;
  relative_id: string | null;
  relative_client_reference_id: string | null;
  relationship_type: string;
  additional_fields: unknown;
  client_audit_details: unknown;
  row_version: number;
  is_deleted: boolean;
  created_by: string | null;
  last_modified_by: string | null;
  created_time: number;
  last_modified_time: number;
};

type Stored<T> = { [K in keyof T]: T[K] extends boolean ? unknown : T[K] };

type Tables = {
  household: Stored<HouseholdRow>;
  household_member: Stored<MemberRow>;
  household_member_relationship: Stored<RelationshipRow>;
};

/** A query runner: the database itself or a transaction. */
export type Runner = Kysely<Tables>;

export type Page = { offset: number; limit: number };

export type HouseholdFilter = {
  tenantId: string;
  ids?: readonly string[] | undefined;
  clientReferenceIds?: readonly string[] | undefined;
  localityCode?: string | undefined;
  householdType?: string | undefined;
  lastChangedSince?: number | undefined;
  includeDeleted: boolean;
};

export type MemberFilter = {
  tenantId: string;
  ids?: readonly string[] | undefined;
  clientReferenceIds?: readonly string[] | undefined;
  householdIds?: readonly string[] | undefined;
  householdClientReferenceIds?: readonly string[] | undefined;
  individualIds?: readonly string[] | undefined;
  individualClientReferenceIds?: readonly string[] | undefined;
  isHeadOfHousehold?: boolean | undefined;
  lastChangedSince?: number | undefined;
  includeDeleted: boolean;
};

/** Downsync position: after this (sync_time, id). */
export type SyncCursor = { syncTime: number; id: string };

/** A household's address (door, street, landmark, coordinates…) is stored encrypted; its locality code stays in clear for downsync. */
export const HOUSEHOLD_PII: PersonalFieldSpec<HouseholdRow> = { name: 'household', json: ['address'] };

/** Kysely queries for households, members and relationships; no rules here (see the services). */
export function createHouseholdStore(database: Database, encryption: EncryptionService, clock: Clock) {
  const pii = personalFields(encryption, HOUSEHOLD_PII);
  const json = (value: unknown) => (value === null || value === undefined ? null : database.toJson(value));
  const fromJson = (value: unknown) => (value === null || value === undefined ? null : database.fromJson(value));
  const bool = (value: boolean) => database.toBool(value);

  const readHousehold = (row: Stored<HouseholdRow>): Promise<HouseholdRow> => pii.open(row.tenant_id, decodeHousehold(row));
  const decodeHousehold = (row: Stored<HouseholdRow>): HouseholdRow => ({
    ...row,
    address: fromJson(row.address),
    additional_fields: fromJson(row.additional_fields),
    client_audit_details: fromJson(row.client_audit_details),
    is_deleted: database.fromBool(row.is_deleted),
    row_version: Number(row.row_version),
    member_count: Number(row.member_count),
    sync_time: Number(row.sync_time),
    created_time: Number(row.created_time),
    last_modified_time: Number(row.last_modified_time),
    change_time: Number(row.change_time),
  });
  const readMember = (row: Stored<MemberRow>): MemberRow => ({
    ...row,
    additional_fields: fromJson(row.additional_fields),
    client_audit_details: fromJson(row.client_audit_details),
    is_head_of_household: database.fromBool(row.is_head_of_household),
    is_deleted: database.fromBool(row.is_deleted),
    row_version: Number(row.row_version),
    created_time: Number(row.created_time),
    last_modified_time: Number(row.last_modified_time),
    change_time: Number(row.change_time),
  });
  const readRelationship = (row: Stored<RelationshipRow>): RelationshipRow => ({
    ...row,
    additional_fields: fromJson(row.additional_fields),
    client_audit_details: fromJson(row.client_audit_details),
    is_deleted: database.fromBool(row.is_deleted),
    row_version: Number(row.row_version),
    created_time: Number(row.created_time),
    last_modified_time: Number(row.last_modified_time),
  });
  const writeHousehold = async (plain: HouseholdRow): Promise<Stored<HouseholdRow>> => {
    const row = await pii.seal(plain.tenant_id, plain);
    return encodeHousehold(row);
  };
  const encodeHousehold = (row: HouseholdRow): Stored<HouseholdRow> => ({
    ...row,
    address: json(row.address),
    additional_fields: json(row.additional_fields),
    client_audit_details: json(row.client_audit_details),
    is_deleted: bool(row.is_deleted),
  });
  const writeMember = (row: MemberRow): Stored<MemberRow> => ({
    ...row,
    additional_fields: json(row.additional_fields),
    client_audit_details: json(row.client_audit_details),
    is_head_of_household: bool(row.is_head_of_household),
    is_deleted: bool(row.is_deleted),
  });
  const writeRelationship = (row: RelationshipRow): Stored<RelationshipRow> => ({
    ...row,
    additional_fields: json(row.additional_fields),
    client_audit_details: json(row.client_audit_details),
    is_deleted: bool(row.is_deleted),
  });

  // Writes move rows in the change feed: a household's own change also moves its downsync position.
  const householdMoved = feedMarker(clock, 'household', ['sync_time']);
  const memberChanged = feedMarker(clock, 'household_member');
  const households = versionedTable<HouseholdRow, Stored<HouseholdRow>, Runner>(
    'household',
    { read: readHousehold, write: writeHousehold },
    feedMarker(clock, 'household', ['change_time', 'sync_time']),
  );
  const members = versionedTable<MemberRow, Stored<MemberRow>, Runner>('household_member', { read: readMember, write: writeMember }, memberChanged);
  const inTx = (tx: Tx) => tx.kysely.withTables<Tables>() as unknown as Runner;

  function householdQuery(db: Runner, filter: HouseholdFilter) {
    let query = db.selectFrom('household').where('tenant_id', '=', filter.tenantId);
    if (filter.ids) query = query.where('id', 'in', filter.ids.length > 0 ? [...filter.ids] : ['']);
    if (filter.clientReferenceIds) {
      query = query.where('client_reference_id', 'in', filter.clientReferenceIds.length > 0 ? [...filter.clientReferenceIds] : ['']);
    }
    if (filter.localityCode !== undefined) query = query.where('locality_code', '=', filter.localityCode);
    if (filter.householdType !== undefined) query = query.where('household_type', '=', filter.householdType);
    if (filter.lastChangedSince !== undefined) query = query.where('change_time', '>=', filter.lastChangedSince);
    if (!filter.includeDeleted) query = query.where('is_deleted', '=', bool(false));
    return query;
  }

  function memberQuery(db: Runner, filter: MemberFilter) {
    let query = db.selectFrom('household_member').where('tenant_id', '=', filter.tenantId);
    const list = (values: readonly string[]) => (values.length > 0 ? [...values] : ['']);
    if (filter.ids) query = query.where('id', 'in', list(filter.ids));
    if (filter.clientReferenceIds) query = query.where('client_reference_id', 'in', list(filter.clientReferenceIds));
    if (filter.householdIds) query = query.where('household_id', 'in', list(filter.householdIds));
    if (filter.householdClientReferenceIds) {
      query = query.where('household_client_reference_id', 'in', list(filter.householdClientReferenceIds));
    }
    if (filter.individualIds) query = query.where('individual_id', 'in', list(filter.individualIds));
    if (filter.individualClientReferenceIds) {
      query = query.where('individual_client_reference_id', 'in', list(filter.individualClientReferenceIds));
    }
    if (filter.isHeadOfHousehold !== undefined) query = query.where('is_head_of_household', '=', bool(filter.isHeadOfHousehold));
    if (filter.lastChangedSince !== undefined) query = query.where('change_time', '>=', filter.lastChangedSince);
    if (!filter.includeDeleted) query = query.where('is_deleted', '=', bool(false));
    return query;
  }

  return {
    /** Loads the tenant's keys; call before a transaction that writes households (see PersonalFields.ready). */
    ready: (tenantId: string) => pii.ready(tenantId),
    /** Encrypts the addresses of households written before addresses were encrypted (run at start). */
    sealStored: () =>
      sealStoredRows(database, encryption, { table: 'household', id: 'id', tenant: 'tenant_id', read: (raw) => decodeHousehold(raw as Stored<HouseholdRow>), fields: pii, spec: HOUSEHOLD_PII }),
    runner(tx?: Tx): Runner {
      return (tx ? tx.kysely : database.kysely).withTables<Tables>() as unknown as Runner;
    },

    // ---- households

    householdsByClientRef: households.byClientRef,
    householdsById: households.byId,
    insertHousehold: households.insert,
    updateHousehold: households.update,

    /** A member changed: the household shows up in the next incremental downsync (its sync time is the commit's). */
    async touchHouseholds(tx: Tx, tenantId: string, ids: readonly string[], time: number): Promise<void> {
      await inChunks(ids, async (part) => {
        // Written now so that this transaction holds the rows it re-stamps at commit (see offline.feed.ts).
        await inTx(tx).updateTable('household').set({ sync_time: time }).where('tenant_id', '=', tenantId).where('id', 'in', part).execute();
        return [];
      });
      householdMoved(tx, tenantId, ids);
    },

    /** A caller's search: only rows inside `scope` are read, whatever tenant the filter names. */
    async searchHouseholds(db: Runner, filter: HouseholdFilter, page: Page, scope: Scope): Promise<{ total: number; rows: HouseholdRow[] }> {
      const count = await householdQuery(db, filter)
        .where(tenantInScope(scope, 'tenant_id'))
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      if (page.limit === 0) return { total: Number(count.n), rows: [] };
      const rows = await householdQuery(db, filter)
        .where(tenantInScope(scope, 'tenant_id'))
        .selectAll()
        .orderBy('change_time')
        .orderBy('id')
        .limit(page.limit)
        .offset(page.offset)
        .execute();
      return { total: Number(count.n), rows: await Promise.all(rows.map(readHousehold)) };
    },

    /** A locality's households by (sync_time, id): after `cursor` when given, else from `offset`. */
    async downsyncHouseholds(
      db: Runner,
      filter: { tenantId: string; localityCode: string; since?: number | undefined; includeDeleted: boolean },
      page: Page & { cursor?: SyncCursor | undefined },
    ): Promise<{ total: number; rows: HouseholdRow[] }> {
      const base = () => {
        let query = db.selectFrom('household').where('tenant_id', '=', filter.tenantId).where('locality_code', '=', filter.localityCode);
        if (filter.since !== undefined) query = query.where('sync_time', '>=', filter.since);
        if (!filter.includeDeleted) query = query.where('is_deleted', '=', bool(false));
        return query;
      };
      const count = await base()
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      if (page.limit === 0) return { total: Number(count.n), rows: [] };
      let query = base().selectAll();
      const cursor = page.cursor;
      if (cursor) {
        query = query.where((eb) =>
          eb.or([eb('sync_time', '>', cursor.syncTime), eb.and([eb('sync_time', '=', cursor.syncTime), eb('id', '>', cursor.id)])]),
        );
      }
      query = query.orderBy('sync_time').orderBy('id').limit(page.limit);
      if (!cursor) query = query.offset(page.offset);
      return { total: Number(count.n), rows: await Promise.all((await query.execute()).map(readHousehold)) };
    },

    // ---- members

    membersByClientRef: members.byClientRef,
    membersById: members.byId,

    async findMembers(db: Runner, filter: MemberFilter): Promise<MemberRow[]> {
      return (await memberQuery(db, filter).selectAll().orderBy('id').execute()).map(readMember);
    },

    /** A caller's search: only rows inside `scope` are read, whatever tenant the filter names. */
    async searchMembers(db: Runner, filter: MemberFilter, page: Page, scope: Scope): Promise<{ total: number; rows: MemberRow[] }> {
      const count = await memberQuery(db, filter)
        .where(tenantInScope(scope, 'tenant_id'))
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      if (page.limit === 0) return { total: Number(count.n), rows: [] };
      const rows = await memberQuery(db, filter)
        .where(tenantInScope(scope, 'tenant_id'))
        .selectAll()
        .orderBy('change_time')
        .orderBy('id')
        .limit(page.limit)
        .offset(page.offset)
        .execute();
      return { total: Number(count.n), rows: rows.map(readMember) };
    },

    insertMember: members.insert,
    updateMember: members.update,

    /** A relationship of these members changed (a relative arrived): they show up in the next incremental pull. */
    async touchMembers(tx: Tx, tenantId: string, ids: readonly string[], time: number): Promise<void> {
      await inChunks(ids, async (part) => {
        await inTx(tx).updateTable('household_member').set({ last_modified_time: time }).where('id', 'in', part).execute();
        return [];
      });
      memberChanged(tx, tenantId, ids);
    },

    /** Members still waiting for a household or an individual; all of the tenant's, or those touching `refs`. */
    async waitingMembers(db: Runner, tenantId: string, refs: readonly string[] | undefined): Promise<MemberRow[]> {
      let query = db
        .selectFrom('household_member')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('is_deleted', '=', bool(false))
        .where((eb) => eb.or([eb('household_id', 'is', null), eb('individual_id', 'is', null)]));
      if (refs) {
        const list = refs.length > 0 ? [...refs] : [''];
        query = query.where((eb) =>
          eb.or([
            eb('client_reference_id', 'in', list),
            eb('household_client_reference_id', 'in', list),
            eb('individual_client_reference_id', 'in', list),
          ]),
        );
      }
      return (await query.orderBy('created_time').orderBy('id').execute()).map(readMember);
    },

    /** Fills the household id of the members waiting for these households; answers the members linked. */
    async linkHousehold(tx: Tx, tenantId: string, householdId: string, clientReferenceId: string, time: number): Promise<MemberRow[]> {
      const db = inTx(tx);
      const waiting = await db
        .selectFrom('household_member')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('household_client_reference_id', '=', clientReferenceId)
        .where('household_id', 'is', null)
        .execute();
      if (waiting.length === 0) return [];
      await db
        .updateTable('household_member')
        .set({ household_id: householdId, last_modified_time: time })
        .where('tenant_id', '=', tenantId)
        .where('household_client_reference_id', '=', clientReferenceId)
        .where('household_id', 'is', null)
        .execute();
      memberChanged(
        tx,
        tenantId,
        waiting.map((row) => row.id),
      );
      return waiting.map((row) => ({ ...readMember(row), household_id: householdId, last_modified_time: time }));
    },

    async setIndividual(tx: Tx, member: MemberRow, individualId: string | null, problem: string | null, time: number): Promise<void> {
      await inTx(tx)
        .updateTable('household_member')
        .set({ individual_id: individualId, link_problem: problem, last_modified_time: time })
        .where('id', '=', member.id)
        .execute();
      memberChanged(tx, member.tenant_id, [member.id]);
    },

    /** Living members of other rows that already hold this individual. */
    async livingMembersOfIndividual(db: Runner, tenantId: string, individualId: string, exceptId: string): Promise<MemberRow[]> {
      const rows = await db
        .selectFrom('household_member')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('individual_id', '=', individualId)
        .where('is_deleted', '=', bool(false))
        .where('id', '<>', exceptId)
        .execute();
      return rows.map(readMember);
    },

    // ---- relationships

    async relationshipsOf(db: Runner, memberIds: readonly string[]): Promise<RelationshipRow[]> {
      return inChunks(memberIds, async (part) =>
        (
          await db
            .selectFrom('household_member_relationship')
            .selectAll()
            .where('member_id', 'in', part)
            .orderBy('created_time')
            .orderBy('id')
            .execute()
        ).map(readRelationship),
      );
    },

    async insertRelationship(tx: Tx, row: RelationshipRow): Promise<void> {
      await inTx(tx).insertInto('household_member_relationship').values(writeRelationship(row)).execute();
    },

    async updateRelationship(tx: Tx, row: RelationshipRow): Promise<void> {
      const { id, ...rest } = writeRelationship(row);
      await inTx(tx).updateTable('household_member_relationship').set(rest).where('id', '=', id).execute();
    },

    /** Relationships waiting for a relative member that has now arrived; answers their member ids. */
    async linkRelatives(tx: Tx, tenantId: string, memberId: string, clientReferenceId: string, time: number): Promise<string[]> {
      const db = inTx(tx);
      const waiting = await db
        .selectFrom('household_member_relationship')
        .select('member_id')
        .where('tenant_id', '=', tenantId)
        .where('relative_client_reference_id', '=', clientReferenceId)
        .where('relative_id', 'is', null)
        .execute();
      if (waiting.length === 0) return [];
      await db
        .updateTable('household_member_relationship')
        .set({ relative_id: memberId, last_modified_time: time })
        .where('tenant_id', '=', tenantId)
        .where('relative_client_reference_id', '=', clientReferenceId)
        .where('relative_id', 'is', null)
        .execute();
      return waiting.map((row) => row.member_id);
    },

    async waitingRelationships(db: Runner, tenantId: string): Promise<Array<RelationshipRow & { member_client_reference_id: string }>> {
      const rows = await db
        .selectFrom('household_member_relationship as r')
        .innerJoin('household_member as m', 'm.id', 'r.member_id')
        .selectAll('r')
        .select('m.client_reference_id as member_client_reference_id')
        .where('r.tenant_id', '=', tenantId)
        .where('r.relative_id', 'is', null)
        .where('r.is_deleted', '=', bool(false))
        .where('m.is_deleted', '=', bool(false))
        .orderBy('r.created_time')
        .orderBy('r.id')
        .execute();
      return rows.map((row) => ({ ...readRelationship(row), member_client_reference_id: row.member_client_reference_id }));
    },
  };
}

export type HouseholdStore = ReturnType<typeof createHouseholdStore>;
