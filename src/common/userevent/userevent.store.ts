import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely';
import type { Database, Tx } from '../../kernel/db.js';
import { tenantLineage } from '../../kernel/tenancy.js';

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
export type UserEventTables = { user_event: EventRow; user_event_recipient: RecipientRow; user_event_last_access: LastAccessRow };

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

export function createUserEventStore(database: Database) {
  const db = (tx?: Tx) => (tx ? tx.kysely : database.kysely).withTables<UserEventTables>() as unknown as Kysely<UserEventTables>;

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

  const filtered = (criteria: Criteria, reader: Reader, visibility: Visibility, tx?: Tx) =>
    db(tx)
      .selectFrom('user_event')
      .where((eb) => {
        const ands: Expression<SqlBool>[] = [related('user_event.tenant_id', criteria.tenantId)];
        if (visibility === 'addressed') ands.push(audience(eb, reader));
        if (visibility === 'addressedOrPosted') ands.push(eb.or([audience(eb, reader), eb('user_event.posted_by', '=', reader.uuid)]));
        const inList = (column: 'id' | 'posted_by' | 'name' | 'reference_id' | 'source' | 'status' | 'event_type', values?: string[]) => {
          if (values && values.length > 0) ands.push(eb(`user_event.${column}`, 'in', values));
        };
        inList('id', criteria.ids);
        inList('posted_by', criteria.postedBy);
        inList('name', criteria.name);
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

  const toRow = (row: EventRow): EventRow => ({ ...row, created_time: Number(row.created_time), last_modified_time: Number(row.last_modified_time) });

  return {
    async search(criteria: Criteria, reader: Reader, visibility: Visibility, page: { offset: number; limit: number }) {
      const rows = await filtered(criteria, reader, visibility)
        .selectAll('user_event')
        .orderBy('user_event.created_time', 'desc')
        .orderBy('user_event.id', 'desc')
        .limit(page.limit)
        .offset(page.offset)
        .execute();
      const total = await filtered(criteria, reader, visibility).select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirst();
      return { rows: rows.map(toRow), total: Number(total?.n ?? 0) };
    },

    async count(criteria: Criteria, reader: Reader, since: number) {
      const total = await filtered(criteria, reader, 'addressed').select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirst();
      const unread = await filtered({ ...criteria, status: ['ACTIVE'] }, reader, 'addressed')
        .where('user_event.last_modified_time', '>', since)
        .select((eb) => eb.fn.countAll<string | number>().as('n'))
        .executeTakeFirst();
      return { total: Number(total?.n ?? 0), unread: Number(unread?.n ?? 0) };
    },

    async findByIds(ids: readonly string[], tx?: Tx): Promise<EventRow[]> {
      if (ids.length === 0) return [];
      const rows = await db(tx).selectFrom('user_event').selectAll().where('id', 'in', [...ids]).execute();
      return rows.map(toRow);
    },

    async insert(tx: Tx, row: EventRow, recipients: readonly RecipientRow[]) {
      await db(tx).insertInto('user_event').values(row).execute();
      if (recipients.length > 0) await db(tx).insertInto('user_event_recipient').values([...recipients]).execute();
    },

    async update(tx: Tx, row: EventRow, recipients: readonly RecipientRow[]) {
      const { id, ...rest } = row;
      await db(tx).updateTable('user_event').set(rest).where('id', '=', id).execute();
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
