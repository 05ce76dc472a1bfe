import { sql, type Kysely } from 'kysely';
import type { Database, Tx } from './db.js';
import { newId } from './ids.js';
import type { Clock } from './clock.js';
import type { Migration } from './migrator.js';

/** CloudEvents 1.0, with the tenant as an extension attribute. */
export type CloudEvent<T = unknown> = {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  tenantid: string;
  data: T;
};

export type EventInput<T = unknown> = {
  /** e.g. `plinth.mdms.data.created.v1` */
  type: string;
  /** e.g. `/plinth/mdms` */
  source: string;
  /** The aggregate's id: events of one subject are delivered in order. */
  subject: string;
  tenantId: string;
  data: T;
};

export type EventSubscriber = {
  /** Stable name: delivery is recorded per subscriber, so a retry never runs a handler twice. */
  readonly name: string;
  readonly types: readonly string[] | '*';
  handle(event: CloudEvent): Promise<void>;
};

type OutboxStatus = 'pending' | 'delivered' | 'dead';

type OutboxTables = {
  plinth_outbox: {
    id: string;
    tenant_id: string;
    type: string;
    source: string;
    subject: string;
    data: unknown;
    created_time: number;
    status: OutboxStatus;
    attempts: number;
    next_attempt_time: number;
    last_error: string | null;
    delivered_time: number | null;
  };
  plinth_event_handled: { subscriber: string; event_id: string; handled_time: number };
};

export const eventMigrations: readonly Migration[] = [
  {
    name: '0001_outbox',
    async up(db, t) {
      await db.schema
        .createTable('plinth_outbox')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('data', t.json, (c) => c.notNull())
        .addColumn('created_time', t.bigint, (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_time', t.bigint, (c) => c.notNull())
        .addColumn('last_error', 'text')
        .addColumn('delivered_time', t.bigint)
        .execute();
      await db.schema.createIndex('plinth_outbox_status_idx').on('plinth_outbox').columns(['status', 'id']).execute();
      await db.schema
        .createTable('plinth_event_handled')
        .addColumn('subscriber', 'text', (c) => c.notNull())
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('handled_time', t.bigint, (c) => c.notNull())
        .addPrimaryKeyConstraint('plinth_event_handled_pk', ['subscriber', 'event_id'])
        .execute();
    },
  },
];

export type Outbox = {
  /** Writes the event in the caller's transaction: it exists exactly when the change does. */
  append<T>(tx: Tx, input: EventInput<T>): Promise<CloudEvent<T>>;
  /**
   * `append` for many events at once (multi-row inserts): the same rows, ids drawn in input order,
   * so the dispatcher delivers them exactly as if they had been appended one by one.
   */
  appendMany<T>(tx: Tx, inputs: readonly EventInput<T>[]): Promise<Array<CloudEvent<T>>>;
};

export type Dispatcher = {
  subscribe(subscriber: EventSubscriber): void;
  /** Asks for a delivery pass soon (after a commit). */
  kick(): void;
  /** One delivery pass; returns how many events were delivered. Tests call it directly. */
  deliverPending(): Promise<number>;
  /** Puts dead-lettered events back in the queue; all of them when no ids are given. */
  replayDead(ids?: readonly string[]): Promise<number>;
  start(): void;
  stop(): Promise<void>;
};

export type DispatcherOptions = {
  maxAttempts?: number;
  pollIntervalMs?: number;
  /** Delay before retry number `attempt` (1-based). */
  backoffMs?: (attempt: number) => number;
  onError?: (error: unknown, event: CloudEvent) => void;
};

const DISPATCH_LOCK_KEY = 7_361_204_002;
const BATCH = 200;
/** Rows per outbox INSERT in appendMany: 12 parameters each, far below both engines' limits. */
const APPEND_CHUNK = 500;

function outboxDb(database: Database): Kysely<OutboxTables> {
  return database.kysely.withTables<OutboxTables>();
}

export function createOutbox(database: Database, clock: Clock, onAppend: () => void): Outbox {
  function eventOf<T>(input: EventInput<T>, now: number): CloudEvent<T> {
    return {
      specversion: '1.0',
      // UUID v7, drawn in call order: the dispatcher's delivery order (by id) is the append order.
      id: newId(),
      source: input.source,
      type: input.type,
      subject: input.subject,
      time: new Date(now).toISOString(),
      datacontenttype: 'application/json',
      tenantid: input.tenantId,
      data: input.data,
    };
  }
  const rowOf = (event: CloudEvent, now: number): OutboxTables['plinth_outbox'] => ({
    id: event.id,
    tenant_id: event.tenantid,
    type: event.type,
    source: event.source,
    subject: event.subject,
    data: database.toJson(event.data),
    created_time: now,
    status: 'pending',
    attempts: 0,
    next_attempt_time: now,
    last_error: null,
    delivered_time: null,
  });
  return {
    async append(tx, input) {
      const now = clock.now();
      const event = eventOf(input, now);
      await (tx.kysely as unknown as Kysely<OutboxTables>).insertInto('plinth_outbox').values(rowOf(event, now)).execute();
      tx.afterCommit(onAppend);
      return event;
    },

    async appendMany(tx, inputs) {
      if (inputs.length === 0) return [];
      const now = clock.now();
      const events = inputs.map((input) => eventOf(input, now));
      const db = tx.kysely as unknown as Kysely<OutboxTables>;
      for (let i = 0; i < events.length; i += APPEND_CHUNK) {
        await db
          .insertInto('plinth_outbox')
          .values(events.slice(i, i + APPEND_CHUNK).map((event) => rowOf(event, now)))
          .execute();
      }
      tx.afterCommit(onAppend);
      return events;
    },
  };
}

/**
 * Delivers outbox events to in-process subscribers: oldest first, in order per subject, retrying
 * failures with backoff and dead-lettering after `maxAttempts`. With PostgreSQL, an advisory lock
 * keeps a single dispatcher active across processes.
 */
export function createDispatcher(database: Database, clock: Clock, options: DispatcherOptions = {}): Dispatcher {
  const maxAttempts = options.maxAttempts ?? 8;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const backoffMs = options.backoffMs ?? ((attempt: number) => Math.min(60_000 * 10, 500 * 2 ** (attempt - 1)));
  const subscribers: EventSubscriber[] = [];
  const db = outboxDb(database);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  let again = false;
  let stopped = true;

  async function deliverOne(row: OutboxTables['plinth_outbox']): Promise<void> {
    const event: CloudEvent = {
      specversion: '1.0',
      id: row.id,
      source: row.source,
      type: row.type,
      subject: row.subject,
      time: new Date(row.created_time).toISOString(),
      datacontenttype: 'application/json',
      tenantid: row.tenant_id,
      data: database.fromJson(row.data),
    };
    const interested = subscribers.filter((s) => s.types === '*' || s.types.includes(row.type));
    const handled =
      interested.length === 0
        ? new Set<string>()
        : new Set(
            (await db.selectFrom('plinth_event_handled').select('subscriber').where('event_id', '=', row.id).execute()).map(
              (r) => r.subscriber,
            ),
          );
    try {
      for (const subscriber of interested) {
        if (handled.has(subscriber.name)) continue;
        await subscriber.handle(event);
        await db
          .insertInto('plinth_event_handled')
          .values({ subscriber: subscriber.name, event_id: row.id, handled_time: clock.now() })
          .execute();
      }
    } catch (error) {
      options.onError?.(error, event);
      const attempts = row.attempts + 1;
      await db
        .updateTable('plinth_outbox')
        .set({
          attempts,
          status: attempts >= maxAttempts ? 'dead' : 'pending',
          next_attempt_time: clock.now() + backoffMs(attempts),
          last_error: String((error as Error)?.message ?? error).slice(0, 2000),
        })
        .where('id', '=', row.id)
        .execute();
      throw error;
    }
    await db
      .updateTable('plinth_outbox')
      .set({ status: 'delivered', delivered_time: clock.now(), last_error: null })
      .where('id', '=', row.id)
      .execute();
  }

  async function pass(): Promise<number> {
    const rows = await db.selectFrom('plinth_outbox').selectAll().where('status', '=', 'pending').orderBy('id').limit(BATCH).execute();
    const blocked = new Set<string>();
    let delivered = 0;
    for (const row of rows) {
      if (blocked.has(row.subject)) continue;
      if (row.next_attempt_time > clock.now()) {
        blocked.add(row.subject);
        continue;
      }
      try {
        await deliverOne(row);
        delivered++;
      } catch {
        blocked.add(row.subject);
      }
    }
    if (rows.length === BATCH && delivered > 0) again = true;
    return delivered;
  }

  async function lockedPass(): Promise<number> {
    if (database.dialect !== 'postgres') return pass();
    return db.connection().execute(async (connection) => {
      const got = await sql<{ locked: boolean }>`select pg_try_advisory_lock(${DISPATCH_LOCK_KEY}) as locked`.execute(connection);
      if (!got.rows[0]?.locked) return 0;
      try {
        return await pass();
      } finally {
        await sql`select pg_advisory_unlock(${DISPATCH_LOCK_KEY})`.execute(connection);
      }
    });
  }

  function deliverPending(): Promise<number> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      let total = 0;
      do {
        again = false;
        total += await lockedPass();
      } while (again);
      return total;
    })().finally(() => {
      running = undefined;
    });
    return running;
  }

  function schedule(delay: number) {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      deliverPending()
        .catch(() => undefined)
        .finally(() => schedule(pollIntervalMs));
    }, delay);
    timer.unref();
  }

  return {
    subscribe(subscriber) {
      if (subscribers.some((s) => s.name === subscriber.name)) {
        throw new Error(`event subscriber "${subscriber.name}" is already registered`);
      }
      subscribers.push(subscriber);
    },
    kick() {
      if (!stopped) schedule(0);
    },
    deliverPending,
    async replayDead(ids) {
      let query = db
        .updateTable('plinth_outbox')
        .set({ status: 'pending', attempts: 0, next_attempt_time: clock.now() })
        .where('status', '=', 'dead');
      if (ids && ids.length > 0) query = query.where('id', 'in', ids);
      const result = await query.executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
    start() {
      stopped = false;
      schedule(0);
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running?.catch(() => undefined);
    },
  };
}
