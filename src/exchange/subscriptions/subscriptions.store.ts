import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database, Tx } from '../../kernel/db.js';
import { assertInScope, type Scope } from '../../kernel/scope.js';
import { tenantInScope } from '../../kernel/scope.sql.js';
import type { DeliveryStatus, SubscriptionStatus } from './subscriptions.schema.js';

export type SubscriptionRow = {
  id: string;
  tenant_id: string;
  agency_id: string;
  tenant_ids: unknown;
  event_types: unknown;
  conditions: unknown;
  fields: unknown;
  webhook_url: string;
  status: SubscriptionStatus;
  max_attempts: number;
  created_by: string | null;
  last_modified_by: string | null;
  created_time: number;
  last_modified_time: number;
};

export type DeliveryRow = {
  id: string;
  subscription_id: string;
  origin: string;
  event_id: string;
  event_type: string;
  event_subject: string;
  event_time: number;
  tenant_id: string;
  message: unknown;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_time: number;
  lease_owner: string | null;
  lease_until: number | null;
  last_attempt_time: number | null;
  last_status_code: number | null;
  last_error: string | null;
  sent_digests: unknown;
  receipt: string | null;
  receipt_status: string | null;
  delivered_time: number | null;
  created_time: number;
  last_modified_time: number;
};

export type Tables = { exchange_subscription: SubscriptionRow; exchange_delivery: DeliveryRow };

/** A delivery waiting to be sent, with what the worker needs of its subscription. */
export type DueDelivery = Selectable<DeliveryRow> & { agency_id: string; webhook_url: string; max_attempts: number };

export type DeliveryFilter = {
  tenantId: string;
  subscriptionId?: string | undefined;
  ids?: readonly string[] | undefined;
  status?: DeliveryStatus | undefined;
  eventId?: string | undefined;
  fromTime?: number | undefined;
  toTime?: number | undefined;
};

/** `pb` covers `pb` and `pb.*` (substr, not LIKE: `_` is a LIKE wildcard and a tenant id character). */
const covered = (column: string, tenantId: string) =>
  sql<boolean>`(${sql.ref(column)} = ${tenantId} or substr(${sql.ref(column)}, 1, ${tenantId.length + 1}) = ${`${tenantId}.`})`;

/**
 * Kysely queries only; the rules live in the service and the worker. Subscription and delivery
 * reads for a caller take a Scope (rows of subscriptions inside it only); reading one subscription
 * refuses (403) one stored outside it. The worker's queue reads are the platform's own.
 */
export function createSubscriptionStore(database: Database) {
  const root = database.kysely.withTables<Tables>();
  const runner = (tx?: Tx): Kysely<Tables> => (tx ? (tx.kysely as unknown as Kysely<Tables>) : root);

  return {
    runner,

    insertSubscription: (db: Kysely<Tables>, row: SubscriptionRow) => db.insertInto('exchange_subscription').values(row).execute(),

    updateSubscription: (db: Kysely<Tables>, id: string, changes: Partial<SubscriptionRow>) =>
      db.updateTable('exchange_subscription').set(changes).where('id', '=', id).execute(),

    /** The subscription with this id; 403 when it is stored outside the scope. */
    async subscriptionById(db: Kysely<Tables>, id: string, scope: Scope) {
      const row = await db.selectFrom('exchange_subscription').selectAll().where('id', '=', id).executeTakeFirst();
      if (row) assertInScope(scope, row.tenant_id);
      return row;
    },

    async searchSubscriptions(
      criteria: { tenantId: string; ids?: readonly string[] | undefined; agencyId?: string | undefined; status?: SubscriptionStatus | undefined },
      page: { offset: number; limit: number },
      scope: Scope,
    ) {
      let query = root
        .selectFrom('exchange_subscription')
        .where(covered('tenant_id', criteria.tenantId))
        .where(tenantInScope(scope, 'tenant_id'));
      if (criteria.ids && criteria.ids.length > 0) query = query.where('id', 'in', [...criteria.ids]);
      if (criteria.agencyId) query = query.where('agency_id', '=', criteria.agencyId);
      if (criteria.status) query = query.where('status', '=', criteria.status);
      const total = await query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const rows = await query.selectAll().orderBy('created_time').orderBy('id').offset(page.offset).limit(page.limit).execute();
      return { total: Number(total.n), rows };
    },

    /** Every ACTIVE subscription inside the scope (event types, tenants and conditions are checked by the caller). */
    activeSubscriptions: (scope: Scope) =>
      root.selectFrom('exchange_subscription').selectAll().where('status', '=', 'ACTIVE').where(tenantInScope(scope, 'tenant_id')).execute(),

    /** Insert-or-ignore on (subscription, event, origin): an event handed over again creates nothing. */
    async insertDeliveries(db: Kysely<Tables>, rows: readonly DeliveryRow[]): Promise<number> {
      if (rows.length === 0) return 0;
      const result = await db
        .insertInto('exchange_delivery')
        .values([...rows])
        .onConflict((oc) => oc.columns(['subscription_id', 'event_id', 'origin']).doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0);
    },

    /**
     * The deliveries that may be sent now, oldest first: of ACTIVE subscriptions, each the head of
     * its (subscription, subject) group (no earlier PENDING delivery of that group, in event order),
     * due and unleased. Filtered in SQL so a backlog of one receiver's deliveries backing off never
     * fills the batch and starves the other subscriptions.
     */
    dueHeads: (limit: number, now: number) =>
      root
        .selectFrom('exchange_delivery as d')
        .innerJoin('exchange_subscription as s', 's.id', 'd.subscription_id')
        .selectAll('d')
        .select(['s.agency_id', 's.webhook_url', 's.max_attempts'])
        .where('d.status', '=', 'PENDING')
        .where('s.status', '=', 'ACTIVE')
        .where('d.next_attempt_time', '<=', now)
        .where((eb) => eb.or([eb('d.lease_until', 'is', null), eb('d.lease_until', '<', now)]))
        .where((eb) =>
          eb.not(
            eb.exists(
              eb
                .selectFrom('exchange_delivery as e')
                .select('e.id')
                .whereRef('e.subscription_id', '=', 'd.subscription_id')
                .whereRef('e.event_subject', '=', 'd.event_subject')
                .where('e.status', '=', 'PENDING')
                .where((inner) =>
                  inner.or([
                    inner('e.event_id', '<', inner.ref('d.event_id')),
                    inner.and([inner('e.event_id', '=', inner.ref('d.event_id')), inner('e.id', '<', inner.ref('d.id'))]),
                  ]),
                ),
            ),
          ),
        )
        .orderBy('d.event_id')
        .orderBy('d.id')
        .limit(limit)
        .execute() as Promise<DueDelivery[]>,

    /**
     * Compare-and-set claim: succeeds for exactly one worker (of any process) while the row is
     * pending and unleased, so two processes never send the same delivery at once.
     */
    async claim(id: string, owner: string, now: number, until: number): Promise<boolean> {
      const result = await root
        .updateTable('exchange_delivery')
        .set({ lease_owner: owner, lease_until: until })
        .where('id', '=', id)
        .where('status', '=', 'PENDING')
        .where('next_attempt_time', '<=', now)
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
        // Read again at the claim: a subscription paused since the pass read its rows sends nothing more.
        .where((eb) =>
          eb.exists(
            eb
              .selectFrom('exchange_subscription as s')
              .select('s.id')
              .whereRef('s.id', '=', 'exchange_delivery.subscription_id')
              .where('s.status', '=', 'ACTIVE'),
          ),
        )
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /** Records an attempt's outcome, only if this worker still holds the lease. */
    async finishAttempt(id: string, owner: string, changes: Partial<DeliveryRow>): Promise<boolean> {
      const result = await root
        .updateTable('exchange_delivery')
        .set({ ...changes, lease_owner: null, lease_until: null })
        .where('id', '=', id)
        .where('lease_owner', '=', owner)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    deliveryById: (id: string) => root.selectFrom('exchange_delivery').selectAll().where('id', '=', id).executeTakeFirst(),

    async searchDeliveries(filter: DeliveryFilter, page: { offset: number; limit: number }, scope: Scope) {
      let query = root
        .selectFrom('exchange_delivery as d')
        .innerJoin('exchange_subscription as s', 's.id', 'd.subscription_id')
        .where(covered('s.tenant_id', filter.tenantId))
        .where(tenantInScope(scope, 's.tenant_id'));
      if (filter.subscriptionId) query = query.where('d.subscription_id', '=', filter.subscriptionId);
      if (filter.ids && filter.ids.length > 0) query = query.where('d.id', 'in', [...filter.ids]);
      if (filter.status) query = query.where('d.status', '=', filter.status);
      if (filter.eventId) query = query.where('d.event_id', '=', filter.eventId);
      if (filter.fromTime !== undefined) query = query.where('d.event_time', '>=', filter.fromTime);
      if (filter.toTime !== undefined) query = query.where('d.event_time', '<=', filter.toTime);
      const total = await query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const rows = await query
        .selectAll('d')
        .select(['s.agency_id'])
        .orderBy('d.event_id')
        .orderBy('d.id')
        .offset(page.offset)
        .limit(page.limit)
        .execute();
      return { total: Number(total.n), rows };
    },

    /** The subscription's deliveries made by events (not earlier replays) at or after `fromTime`, in event order. */
    originalsSince: (db: Kysely<Tables>, subscriptionId: string, fromTime: number) =>
      db
        .selectFrom('exchange_delivery')
        .selectAll()
        .where('subscription_id', '=', subscriptionId)
        .where('origin', '=', 'fanout')
        .where('event_time', '>=', fromTime)
        .orderBy('event_id')
        .execute(),

    /** Puts DEAD deliveries back in the queue from scratch; answers their ids. */
    async revive(db: Kysely<Tables>, ids: readonly string[], now: number): Promise<void> {
      if (ids.length === 0) return;
      await db
        .updateTable('exchange_delivery')
        .set({ status: 'PENDING', attempts: 0, next_attempt_time: now, last_modified_time: now, lease_owner: null, lease_until: null })
        .where('id', 'in', [...ids])
        .where('status', '=', 'DEAD')
        .execute();
    },

    deadOf: (db: Kysely<Tables>, filter: { subscriptionIds: readonly string[]; ids?: readonly string[] | undefined }) => {
      let query = db.selectFrom('exchange_delivery').select(['id']).where('status', '=', 'DEAD');
      query = query.where('subscription_id', 'in', [...filter.subscriptionIds]);
      if (filter.ids && filter.ids.length > 0) query = query.where('id', 'in', [...filter.ids]);
      return query.execute();
    },
  };
}

export type SubscriptionStore = ReturnType<typeof createSubscriptionStore>;
