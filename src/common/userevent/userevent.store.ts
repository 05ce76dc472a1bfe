import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely';
import type { Database, Tx } from '../../kernel/db.js';
import { assertInScope, outOfScope, type Scope } from '../../kernel/scope.js';
import { scopeRoots, tenantInScope } from '../../kernel/scope.sql.js';
import { tenantLineage } from '../../kernel/tenancy.js';
import { personalFields, sealStoredRows, type EncryptionService, type PersonalFieldSpec } from '../encryption/index.js';

export type EventRow = {
  id: string;
  tenant_id: string;
  source: string;
  event_type: string;
  category: string | null;
  name: string;
  description: string;
  status: string;
  reference_id: string | null;
  posted_by: string | null;
  recepient: unknown;
  actions: unknown;
  event_details: unknown;
  created_by: string | null;
  created_time: number;
  last_modified_by: string | null;
  last_modified_time: number;
};
export type RecipientRow = { event_id: string; tenant_id: string; kind: 'user' | 'role'; value: string };
type LastAccessRow = { user_id: string; tenant_id: string | null; last_access_time: number };
/** As stored: the name's blind index besides the row (the service never sees it). */
type StoredEvent = EventRow & { name_bidx: string | null };
export type UserEventTables = { user_event: StoredEvent; user_event_recipient: RecipientRow; user_event_last_access: LastAccessRow };

/**
 * What an event may say about a person, encrypted at rest under the state's key: its title and
 * text (a notification's in-app copy names the citizen, their complaint, their mobile) and its
 * details (organizer, address, place). The title is searched by blind index. Filters (type,
 * status, source, reference, dates) and recipients (uuids, role codes) stay in clear.
 */
export const EVENT_PII: PersonalFieldSpec<EventRow> = {
  name: 'userevent',
  text: ['name', 'description'],
  json: ['event_details'],
  indexes: { name_bidx: (row) => row.name },
};

/** Who reads: a user's uuid and role grants. Role-addressed events reach a grant on the event's tenant, an ancestor or a descendant. */
export type Reader = { uuid: string; roles: readonly { code: string; tenantId: string }[] };
/** `addressed`: events sent to the reader; `addressedOrPosted`: also those they posted; `all`: no audience limit. */
export type Visibility = 'addressed' | 'addressedOrPosted' | 'all';

export type Criteria = {
  tenantId: string;
  ids?: string[];
  userids?: string[];
  postedBy?: string[];
  name?: string[];
  referenceIds?: string[];
  source?: string[];
  status?: string[];
  eventTypes?: string[];
  fromDate?: number;
  toDate?: number;
  /** DIGIT's citizen post-processing: BROADCASTs only while ACTIVE. */
  activeBroadcastsOnly?: boolean;
};

type Eb = ExpressionBuilder<UserEventTables, 'user_event'>;

/** `tenant` is `parent` or below it; substr rather than LIKE, whose `_` would be a wildcard. */
function within(column: string, parent: string) {
  return sql<SqlBool>`(${sql.ref(column)} = ${parent} OR substr(${sql.ref(column)}, 1, ${parent.length + 1}) = ${`${parent}.`})`;
}

/** Tenants related to `tenantId`: itself, its ancestors and its descendants. */
function related(column: string, tenantId: string) {
  return sql<SqlBool>`(${sql.ref(column)} IN (${sql.join(tenantLineage(tenantId))}) OR ${within(column, tenantId)})`;
}

/**
 * Events a caller may read: those on the tenants of their scope and below, and those posted above
 * them (a state's events reach its cities' users, as `related` reads them), each still subject to
 * the audience filter.
 */
function inScopeOrAbove(scope: Scope, column: string): Expression<SqlBool> {
  if (scope.system) return sql<SqlBool>`1 = 1`;
  const above = [...new Set(scopeRoots(scope).flatMap((root) => tenantLineage(root).slice(1)))];
  if (above.length === 0) return tenantInScope(scope, column);
  return sql<SqlBool>`(${tenantInScope(scope, column)} OR ${sql.ref(column)} IN (${sql.join(above)}))`;
}

/**
 * Kysely queries for in-app events. Reads take a Scope (see inScopeOrAbove); a write refuses (403)
 * an event outside it. Personal fields are sealed on write and opened on read (EVENT_PII).
 */
export function createUserEventStore(database: Database, encryption: EncryptionService) {
  const db = (tx?: Tx) => (tx ? tx.kysely : database.kysely).withTables<UserEventTables>() as unknown as Kysely<UserEventTables>;
  const pii = personalFields(encryption, EVENT_PII);
  // event_details is json text on the way in (the service encodes it) and a json column at rest.
  const decodeDetails = (value: unknown): unknown => (value === null || value === undefined ? null : database.fromJson(value));
  const seal = async (row: EventRow, tx: Tx): Promise<StoredEvent> => {
    const sealed = await pii.seal(row.tenant_id, { ...row, event_details: decodeDetails(row.event_details) }, tx);
    return { ...(sealed as StoredEvent), event_details: sealed.event_details === null ? null : database.toJson(sealed.event_details) };
  };
  const open = async (stored: StoredEvent): Promise<EventRow> => {
    // The blind index is the store's own: the service never sees it.
    const row: EventRow & { name_bidx?: string | null } = { ...stored };
    delete row.name_bidx;
    const opened = await pii.open(row.tenant_id, { ...row, event_details: decodeDetails(row.event_details) });
    return { ...opened, created_time: Number(opened.created_time), last_modified_time: Number(opened.last_modified_time) };
  };

  const audience = (eb: Eb, reader: Reader): Expression<SqlBool> => {
    const sub = eb
      .selectFrom('user_event_recipient as r')
      .select('r.event_id')
      .where((r) => {
        const ors: Expression<SqlBool>[] = [r.and([r('r.kind', '=', 'user'), r('r.value', '=', reader.uuid)])];
        for (const grant of reader.roles) {
          ors.push(r.and([r('r.kind', '=', 'role'), r('r.value', 'in', [grant.code, '*']), related('r.tenant_id', grant.tenantId)]));
        }
        return r.or(ors);
      });
    return eb('user_event.id', 'in', sub);
  };

  /** The blind indexes of the names a search asks for (the state's key: related tenants share a state). */
  const nameIndexes = async (criteria: Criteria): Promise<string[] | undefined> =>
    criteria.name && criteria.name.length > 0 ? Promise.all(criteria.name.map((name) => pii.blindIndex(criteria.tenantId, 'name_bidx', name))) : undefined;

  const filtered = (criteria: Criteria, reader: Reader, visibility: Visibility, scope: Scope, names: string[] | undefined, tx?: Tx) =>
    db(tx)
      .selectFrom('user_event')
      .where((eb) => {
        const ands: Expression<SqlBool>[] = [related('user_event.tenant_id', criteria.tenantId), inScopeOrAbove(scope, 'user_event.tenant_id')];
        if (visibility === 'addressed') ands.push(audience(eb, reader));
        if (visibility === 'addressedOrPosted') ands.push(eb.or([audience(eb, reader), eb('user_event.posted_by', '=', reader.uuid)]));
        const inList = (column: 'id' | 'posted_by' | 'name_bidx' | 'reference_id' | 'source' | 'status' | 'event_type', values?: string[]) => {
          if (values && values.length > 0) ands.push(eb(`user_event.${column}`, 'in', values));
        };
        inList('id', criteria.ids);
        inList('posted_by', criteria.postedBy);
        inList('name_bidx', names);
        inList('reference_id', criteria.referenceIds);
        inList('source', criteria.source);
        inList('status', criteria.status);
        inList('event_type', criteria.eventTypes);
        if (criteria.userids && criteria.userids.length > 0) {
          const users = criteria.userids;
          ands.push(eb('user_event.id', 'in', eb.selectFrom('user_event_recipient as u').select('u.event_id').where('u.kind', '=', 'user').where('u.value', 'in', users)));
        }
        if (criteria.fromDate !== undefined) ands.push(eb('user_event.created_time', '>=', criteria.fromDate));
        if (criteria.toDate !== undefined) ands.push(eb('user_event.created_time', '<=', criteria.toDate));
        if (criteria.activeBroadcastsOnly) ands.push(eb.or([eb('user_event.event_type', '!=', 'BROADCAST'), eb('user_event.status', '=', 'ACTIVE')]));
        return eb.and(ands);
      });

  return {
    /** Loads the state's keys; call before a transaction that writes events (see PersonalFields.ready). */
    ready: (tenantId: string) => pii.ready(tenantId),

    /** Encrypts the events written before their personal fields were encrypted (run at start). */
    sealStored: () =>
      sealStoredRows(database, encryption, {
        table: 'user_event',
        id: 'id',
        tenant: 'tenant_id',
        read: (raw) => ({ ...(raw as EventRow), event_details: decodeDetails(raw['event_details']) }),
        fields: pii,
        spec: EVENT_PII,
      }),

    async search(criteria: Criteria, reader: Reader, visibility: Visibility, page: { offset: number; limit: number }, scope: Scope) {
      const names = await nameIndexes(criteria);
      const rows = await filtered(criteria, reader, visibility, scope, names)
        .selectAll('user_event')
        .orderBy('user_event.created_time', 'desc')
        .orderBy('user_event.id', 'desc')
        .limit(page.limit)
        .offset(page.offset)
        .execute();
      const total = await filtered(criteria, reader, visibility, scope, names).select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirst();
      return { rows: await Promise.all(rows.map(open)), total: Number(total?.n ?? 0) };
    },

    async count(criteria: Criteria, reader: Reader, since: number, scope: Scope) {
      const names = await nameIndexes(criteria);
      const total = await filtered(criteria, reader, 'addressed', scope, names).select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirst();
      const unread = await filtered({ ...criteria, status: ['ACTIVE'] }, reader, 'addressed', scope, names)
        .where('user_event.last_modified_time', '>', since)
        .select((eb) => eb.fn.countAll<string | number>().as('n'))
        .executeTakeFirst();
      return { total: Number(total?.n ?? 0), unread: Number(unread?.n ?? 0) };
    },

    /** The events with these ids as stored; 403 when one of them lies outside the scope. */
    async findByIds(ids: readonly string[], scope: Scope, tx?: Tx): Promise<EventRow[]> {
      if (ids.length === 0) return [];
      const rows = await db(tx).selectFrom('user_event').selectAll().where('id', 'in', [...ids]).execute();
      for (const row of rows) assertInScope(scope, row.tenant_id);
      return Promise.all(rows.map(open));
    },

    async insert(tx: Tx, row: EventRow, recipients: readonly RecipientRow[], scope: Scope) {
      assertInScope(scope, row.tenant_id);
      await db(tx).insertInto('user_event').values(await seal(row, tx)).execute();
      if (recipients.length > 0) await db(tx).insertInto('user_event_recipient').values([...recipients]).execute();
    },

    async update(tx: Tx, row: EventRow, recipients: readonly RecipientRow[], scope: Scope) {
      const { id, ...rest } = await seal(row, tx);
      const result = await db(tx).updateTable('user_event').set(rest).where('id', '=', id).where(tenantInScope(scope, 'tenant_id')).executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) throw outOfScope();
      await db(tx).deleteFrom('user_event_recipient').where('event_id', '=', id).execute();
      if (recipients.length > 0) await db(tx).insertInto('user_event_recipient').values([...recipients]).execute();
    },

    async lastAccess(userId: string): Promise<number> {
      const row = await db().selectFrom('user_event_last_access').select('last_access_time').where('user_id', '=', userId).executeTakeFirst();
      return row ? Number(row.last_access_time) : 0;
    },

    async setLastAccess(userId: string, tenantId: string, time: number) {
      await db()
        .insertInto('user_event_last_access')
        .values({ user_id: userId, tenant_id: tenantId, last_access_time: time })
        .onConflict((oc) => oc.column('user_id').doUpdateSet({ tenant_id: tenantId, last_access_time: time }))
        .execute();
    },
  };
}

export type UserEventStore = ReturnType<typeof createUserEventStore>;
