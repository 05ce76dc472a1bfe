import { sql, type Kysely } from 'kysely';
import type { Database, Tx } from './db.js';
import { newId } from './ids.js';
import type { Clock } from './clock.js';
import type { Migration } from './migrator.js';
import { createPassLoop } from './loop.js';

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
  /**
   * Top-level keys of `data` that carry personal data: written to the outbox (and JetStream) as one
   * ciphertext under the tenant's key (`data.$sealed`) and opened again before any handler sees the
   * event. Appending with `sealed` fails when no sealer is registered: never PII in clear.
   *
   * Why sealed data and not only references: most events already carry ids only (individual,
   * household, complaint) and handlers read the record. Two cannot: a queued notification is the
   * only copy of what to send to whom (a bare mobile number has no record to read), and a received
   * exchange message is handed over as it was signed. Sealing keeps them self-contained, works the
   * same on JetStream (the stream holds ciphertext too), and handlers do not change.
   */
  sealed?: readonly string[];
};

/** Encrypts and decrypts sealed event data; the encryption module registers one per database. */
export type EventSealer = {
  /** `tx`: the transaction the event is appended in (keys may have to be read through it). */
  seal(tenantId: string, plaintext: string, tx: Tx): Promise<string>;
  open(tenantId: string, ciphertext: string): Promise<string>;
};

/** Where sealed event fields go inside `data`. */
export const SEALED_KEY = '$sealed';

const sealers = new WeakMap<Database, EventSealer>();

/** Installs the sealer of a database's outbox (the encryption module does, at create). */
export function registerEventSealer(database: Database, sealer: EventSealer): void {
  sealers.set(database, sealer);
}

async function sealData(database: Database, input: EventInput, tx: Tx): Promise<unknown> {
  const fields = input.sealed ?? [];
  const data = input.data;
  if (fields.length === 0 || data === null || typeof data !== 'object' || Array.isArray(data)) return data;
  const sealer = sealers.get(database);
  if (!sealer) throw new Error(`event ${input.type} carries personal data but no event sealer is registered`);
  const open: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    if (fields.includes(key)) open[key] = value;
    else rest[key] = value;
  }
  return { ...rest, [SEALED_KEY]: await sealer.seal(input.tenantId, JSON.stringify(open), tx) };
}

/** The event as its producer appended it: sealed fields decrypted and put back (other events as they are). */
export async function openEvent(database: Database, event: CloudEvent): Promise<CloudEvent> {
  const data = event.data as Record<string, unknown> | null;
  if (data === null || typeof data !== 'object' || typeof data[SEALED_KEY] !== 'string') return event;
  const sealer = sealers.get(database);
  if (!sealer) throw new Error(`event ${event.id} holds sealed data but no event sealer is registered`);
  const { [SEALED_KEY]: sealed, ...rest } = data;
  const opened = JSON.parse(await sealer.open(event.tenantid, sealed as string)) as Record<string, unknown>;
  return { ...event, data: { ...rest, ...opened } };
}

/**
 * An in-process consumer of events. Stable `name`: what it handled is recorded per subscriber, so
 * a redelivery never runs a handler twice for the same event.
 *
 * - Plain: `handle(event)` runs, then the event is recorded as handled (a crash between the two
 *   runs it again: the handler must itself be idempotent, e.g. move only what is left to move).
 * - `inTransaction: true`: the handler's writes and the handled record commit in one transaction
 *   (`tx`); the handler must write through `tx` only and must not open its own transaction.
 */
export type EventSubscriber =
  | {
      readonly name: string;
      readonly types: readonly string[] | '*';
      readonly inTransaction?: false;
      handle(event: CloudEvent): Promise<void>;
    }
  | {
      readonly name: string;
      readonly types: readonly string[] | '*';
      readonly inTransaction: true;
      handle(event: CloudEvent, tx: Tx): Promise<void>;
    };

export type OutboxStatus = 'pending' | 'delivered' | 'dead';

type OutboxTables = {
  plinth_outbox: {
    id: string;
    tenant_id: string;
    type: string;
    source: string;
    subject: string;
    data: unknown;
    created_time: number;
    /** pending: to deliver (or publish); delivered: done; dead: done, with a dead letter for some subscriber. */
    status: OutboxStatus;
    /** The most attempts any subscriber needed so far (per-subscriber counts are in plinth_event_retry). */
    attempts: number;
    next_attempt_time: number;
    last_error: string | null;
    delivered_time: number | null;
    /** Bumped by every retry and replay: JetStream's message id is `<id>.<generation>`, so a replay is not deduplicated away. */
    generation: number;
    /**
     * The subscribers a re-queued row is for (JSON list of names, see `targetsOf`); null: every
     * subscriber without a handled mark (a first delivery, an untargeted replay). Cleared once the
     * row is delivered.
     */
    targets: string | null;
  };
  plinth_event_handled: { subscriber: string; event_id: string; handled_time: number };
  /** A subscriber that is retrying an event (in-process bus): its own count and backoff. */
  plinth_event_retry: { subscriber: string; event_id: string; attempts: number; next_attempt_time: number; last_error: string | null };
  /** A subscriber that gave up on an event after maxAttempts; `plinth events retry` moves it back to delivery. */
  plinth_event_dead_letter: {
    subscriber: string;
    event_id: string;
    event_type: string;
    subject: string;
    attempts: number;
    last_error: string | null;
    dead_time: number;
  };
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
  {
    // Per-subscriber dead letters: one subscriber failing an event no longer holds up the others.
    name: '0002_event_dead_letters',
    async up(db, t) {
      await db.schema
        .alterTable('plinth_outbox')
        .addColumn('generation', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex('plinth_outbox_created_idx').on('plinth_outbox').columns(['created_time']).execute();
      await db.schema
        .createTable('plinth_event_retry')
        .addColumn('subscriber', 'text', (c) => c.notNull())
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_time', t.bigint, (c) => c.notNull())
        .addColumn('last_error', 'text')
        .addPrimaryKeyConstraint('plinth_event_retry_pk', ['subscriber', 'event_id'])
        .execute();
      await db.schema
        .createTable('plinth_event_dead_letter')
        .addColumn('subscriber', 'text', (c) => c.notNull())
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('event_type', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('last_error', 'text')
        .addColumn('dead_time', t.bigint, (c) => c.notNull())
        .addPrimaryKeyConstraint('plinth_event_dead_letter_pk', ['subscriber', 'event_id'])
        .execute();
      await db.schema.createIndex('plinth_event_dead_letter_event_idx').on('plinth_event_dead_letter').columns(['event_id']).execute();
    },
  },
  {
    // Targeted retries and replays: a row re-queued for some subscribers must not reach the others
    // (above all subscribers registered after its first delivery, which have no handled mark).
    name: '0003_outbox_targets',
    async up(db) {
      await db.schema.alterTable('plinth_outbox').addColumn('targets', 'text').execute();
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

export type DeadLetter = {
  subscriber: string;
  eventId: string;
  type: string;
  subject: string;
  attempts: number;
  lastError: string | null;
  deadTime: number;
};

export type OutboxEntry = {
  id: string;
  type: string;
  subject: string;
  tenantId: string;
  status: OutboxStatus;
  attempts: number;
  generation: number;
  createdTime: number;
  deliveredTime: number | null;
  lastError: string | null;
  /** A re-queued row waiting for these subscribers only; null: for every subscriber. */
  targets: string[] | null;
};

export type RetryCriteria = {
  /** Dead letters of these events; every dead letter when absent or empty. */
  eventIds?: readonly string[];
  /** Only this subscriber's dead letters. */
  subscriber?: string;
};

export type ReplayCriteria = {
  /** Events created at or after this time (epoch ms). */
  since: number;
  /**
   * Re-run only this subscriber: the others, even those registered since, do not see the events.
   * When absent, every subscriber interested in them runs them again.
   */
  subscriber?: string;
  type?: string;
};

export type Dispatcher = {
  /** Which bus delivers: in this process from the outbox, or through NATS JetStream. */
  readonly mode: 'in-process' | 'jetstream';
  subscribe(subscriber: EventSubscriber): void;
  /** Asks for a delivery pass soon (after a commit). */
  kick(): void;
  /**
   * One pass over the outbox; returns how many events it finished. In-process: delivered to the
   * subscribers (tests call it directly). JetStream: published to the stream (handlers run later).
   */
  deliverPending(): Promise<number>;
  /**
   * Puts dead-lettered events back to delivery, for the subscribers that dead-lettered them only;
   * all of them when no ids are given. Answers how many events.
   */
  replayDead(ids?: readonly string[]): Promise<number>;
  /** `replayDead` with a subscriber filter: only that subscriber's dead letters go back. */
  retryDead(criteria?: RetryCriteria): Promise<number>;
  /** Delivers again the events since a time, dropping the handled marks that would skip them. */
  replay(criteria: ReplayCriteria): Promise<number>;
  /**
   * Resolves once every committed event has been handled or dead-lettered by every subscriber
   * (tests, benchmarks); rejects after `timeoutMs` (default 30 s). Needs a clock that moves.
   */
  settle(options?: { timeoutMs?: number }): Promise<void>;
  start(): Promise<void>;
  /** Finishes the handler in progress, then stops; nothing is lost (undelivered events stay queued). */
  stop(): Promise<void>;
};

export type DispatcherOptions = {
  /** Attempts per subscriber and event before the pair goes to the dead-letter table (default 8). */
  maxAttempts?: number;
  pollIntervalMs?: number;
  /** Delay before retry number `attempt` (1-based). */
  backoffMs?: (attempt: number) => number;
  onError?: (error: unknown, event: CloudEvent, subscriber: string) => void;
  /** Called after a handler ran and its handled mark is written (benchmarks time delivery with it). */
  onHandled?: (subscriber: string, event: CloudEvent) => void;
  onDeadLetter?: (subscriber: string, event: CloudEvent, error: unknown) => void;
};

const DISPATCH_LOCK_KEY = 7_361_204_002;
const BATCH = 200;
/** Rows per outbox INSERT in appendMany: 12 parameters each, far below both engines' limits. */
const APPEND_CHUNK = 500;
/** Ids per `in (…)` list: far below SQLite's 32k parameters. */
const IN_CHUNK = 500;

export const defaultBackoffMs = (attempt: number): number => Math.min(600_000, 500 * 2 ** (attempt - 1));

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
    generation: 0,
    targets: null,
  });
  return {
    async append(tx, input) {
      const now = clock.now();
      const event = eventOf(input, now);
      const stored = await sealData(database, input, tx);
      await (tx.kysely as unknown as Kysely<OutboxTables>).insertInto('plinth_outbox').values(rowOf({ ...event, data: stored }, now)).execute();
      tx.afterCommit(onAppend);
      return event;
    },

    async appendMany(tx, inputs) {
      if (inputs.length === 0) return [];
      const now = clock.now();
      const events = inputs.map((input) => eventOf(input, now));
      const stored = await Promise.all(inputs.map((input) => sealData(database, input, tx)));
      const db = tx.kysely as unknown as Kysely<OutboxTables>;
      for (let i = 0; i < events.length; i += APPEND_CHUNK) {
        await db
          .insertInto('plinth_outbox')
          .values(events.slice(i, i + APPEND_CHUNK).map((event, j) => rowOf({ ...event, data: stored[i + j] }, now)))
          .execute();
      }
      tx.afterCommit(onAppend);
      return events;
    },
  };
}

export function errorText(error: unknown): string {
  return String((error as Error)?.message ?? error).slice(0, 2000);
}

export function interestedIn(subscriber: EventSubscriber, type: string): boolean {
  return subscriber.types === '*' || subscriber.types.includes(type);
}

/**
 * The subscribers a re-queued row (or its JetStream message) is for; null: everyone. Anything but a
 * JSON list of names reads as null: rows written before targets existed, and messages from an
 * older relay, were meant for everyone.
 */
export function targetsOf(raw: string | null | undefined): string[] | null {
  if (raw === null || raw === undefined || raw === '') return null;
  try {
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) && parsed.every((name) => typeof name === 'string') ? (parsed as string[]) : null;
  } catch {
    return null;
  }
}

/** Whether a row (or message) with these targets is for this subscriber. */
export function isTargeted(targets: readonly string[] | null, subscriber: string): boolean {
  return targets === null || targets.includes(subscriber);
}

export function eventOfRow(database: Database, row: OutboxTables['plinth_outbox']): CloudEvent {
  return {
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
}

function chunks<T>(items: readonly T[], size = IN_CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Runs one subscriber on one event unless it already handled it, and records that it did. Both
 * buses go through here. Answers whether the handler ran. `known` skips the lookup when the caller
 * has just read the marks.
 */
export async function handleOnce(
  database: Database,
  clock: Clock,
  subscriber: EventSubscriber,
  event: CloudEvent,
  known?: 'not-handled',
): Promise<boolean> {
  const db = outboxDb(database);
  // Opened here, outside any transaction (keys may have to be loaded): handlers of both buses see the data as appended.
  event = await openEvent(database, event);
  if (subscriber.inTransaction) {
    return database.transaction(async (tx) => {
      const trx = tx.kysely as unknown as Kysely<OutboxTables>;
      // The mark first: a second deliverer waits on it (PostgreSQL) or finds it, and skips.
      const inserted = await trx
        .insertInto('plinth_event_handled')
        .values({ subscriber: subscriber.name, event_id: event.id, handled_time: clock.now() })
        .onConflict((oc) => oc.columns(['subscriber', 'event_id']).doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) return false;
      await subscriber.handle(event, tx);
      return true;
    });
  }
  if (known !== 'not-handled') {
    const mark = await db
      .selectFrom('plinth_event_handled')
      .select('event_id')
      .where('subscriber', '=', subscriber.name)
      .where('event_id', '=', event.id)
      .executeTakeFirst();
    if (mark) return false;
  }
  await subscriber.handle(event);
  await db
    .insertInto('plinth_event_handled')
    .values({ subscriber: subscriber.name, event_id: event.id, handled_time: clock.now() })
    .onConflict((oc) => oc.columns(['subscriber', 'event_id']).doNothing())
    .execute();
  return true;
}

/** Records that `subscriber` gave up on `event`; the event is done for it until someone retries. */
export async function recordDeadLetter(
  database: Database,
  clock: Clock,
  subscriber: string,
  event: Pick<CloudEvent, 'id' | 'type' | 'subject'>,
  attempts: number,
  error: unknown,
): Promise<void> {
  const now = clock.now();
  const lastError = errorText(error);
  await database.transaction(async (tx) => {
    const trx = tx.kysely as unknown as Kysely<OutboxTables>;
    await trx
      .insertInto('plinth_event_dead_letter')
      .values({
        subscriber,
        event_id: event.id,
        event_type: event.type,
        subject: event.subject,
        attempts,
        last_error: lastError,
        dead_time: now,
      })
      .onConflict((oc) => oc.columns(['subscriber', 'event_id']).doUpdateSet({ attempts, last_error: lastError, dead_time: now }))
      .execute();
    await trx.deleteFrom('plinth_event_retry').where('subscriber', '=', subscriber).where('event_id', '=', event.id).execute();
  });
}

/**
 * The operator's view of the outbox and the dead letters, and the two ways back to delivery. Pure
 * database work, the same for both buses: a re-queued row is picked up by the running dispatcher
 * (in-process) or republished by its relay with the next generation (JetStream).
 */
export type EventAdmin = {
  list(criteria?: { status?: OutboxStatus; type?: string; limit?: number }): Promise<OutboxEntry[]>;
  deadLetters(criteria?: { subscriber?: string; eventIds?: readonly string[]; limit?: number }): Promise<DeadLetter[]>;
  retryDead(criteria?: RetryCriteria): Promise<number>;
  replay(criteria: ReplayCriteria): Promise<number>;
};

export function createEventAdmin(database: Database, clock: Clock): EventAdmin {
  const db = outboxDb(database);

  /**
   * Puts rows back to delivery with the next generation, each for `targetOf(id)`: a list of
   * subscribers, or null for everyone. A row still pending keeps its audience and gains the new
   * one (null stays null: it is already for everyone); a finished row gets exactly the new one.
   */
  async function requeue(
    trx: Kysely<OutboxTables>,
    ids: readonly string[],
    targetOf: (id: string) => readonly string[] | null,
  ): Promise<number> {
    let count = 0;
    for (const part of chunks(ids)) {
      // The generation first: it takes the rows' write locks (PostgreSQL) or the database's
      // (SQLite) before we read their targets, so two replays at once cannot drop each other's
      // subscribers, and a dispatcher finishing the old generation no longer matches them.
      const bumped = await trx
        .updateTable('plinth_outbox')
        .set((eb) => ({ generation: eb('generation', '+', 1) }))
        .where('id', 'in', part)
        .executeTakeFirst();
      count += Number(bumped.numUpdatedRows);
      const rows = await trx.selectFrom('plinth_outbox').select(['id', 'status', 'targets']).where('id', 'in', part).execute();
      const byTargets = new Map<string | null, string[]>();
      for (const row of rows) {
        const wanted = targetOf(row.id);
        const current = row.status === 'pending' ? targetsOf(row.targets) : [];
        const next =
          wanted === null || current === null ? null : JSON.stringify([...new Set([...current, ...wanted])].sort());
        byTargets.set(next, [...(byTargets.get(next) ?? []), row.id]);
      }
      for (const [targets, group] of byTargets) {
        await trx
          .updateTable('plinth_outbox')
          .set({
            status: 'pending',
            attempts: 0,
            next_attempt_time: clock.now(),
            last_error: null,
            delivered_time: null,
            targets,
          })
          .where('id', 'in', group)
          .execute();
      }
    }
    return count;
  }

  return {
    async list(criteria = {}) {
      let query = db.selectFrom('plinth_outbox').selectAll();
      if (criteria.status) query = query.where('status', '=', criteria.status);
      if (criteria.type) query = query.where('type', '=', criteria.type);
      const rows = await query
        .orderBy('id', 'desc')
        .limit(criteria.limit ?? 100)
        .execute();
      return rows.map((row) => ({
        id: row.id,
        type: row.type,
        subject: row.subject,
        tenantId: row.tenant_id,
        status: row.status,
        attempts: row.attempts,
        generation: row.generation,
        createdTime: row.created_time,
        deliveredTime: row.delivered_time,
        lastError: row.last_error,
        targets: targetsOf(row.targets),
      }));
    },

    async deadLetters(criteria = {}) {
      let query = db.selectFrom('plinth_event_dead_letter').selectAll();
      if (criteria.subscriber) query = query.where('subscriber', '=', criteria.subscriber);
      if (criteria.eventIds && criteria.eventIds.length > 0) query = query.where('event_id', 'in', criteria.eventIds);
      const rows = await query
        .orderBy('event_id')
        .orderBy('subscriber')
        .limit(criteria.limit ?? 1000)
        .execute();
      return rows.map((row) => ({
        subscriber: row.subscriber,
        eventId: row.event_id,
        type: row.event_type,
        subject: row.subject,
        attempts: row.attempts,
        lastError: row.last_error,
        deadTime: row.dead_time,
      }));
    },

    async retryDead(criteria = {}) {
      return database.transaction(async (tx) => {
        const trx = tx.kysely as unknown as Kysely<OutboxTables>;
        let query = trx.selectFrom('plinth_event_dead_letter').select(['subscriber', 'event_id']);
        if (criteria.subscriber) query = query.where('subscriber', '=', criteria.subscriber);
        if (criteria.eventIds && criteria.eventIds.length > 0) query = query.where('event_id', 'in', criteria.eventIds);
        const letters = await query.execute();
        for (const letter of letters) {
          await trx
            .deleteFrom('plinth_event_dead_letter')
            .where('subscriber', '=', letter.subscriber)
            .where('event_id', '=', letter.event_id)
            .execute();
        }
        // Each event goes back to the subscribers that dead-lettered it, and to no one else.
        const retrying = new Map<string, string[]>();
        for (const letter of letters) retrying.set(letter.event_id, [...(retrying.get(letter.event_id) ?? []), letter.subscriber]);
        // Rows dead before per-subscriber dead letters existed (migration 0001) have no letter, so
        // no one to aim at: requeue them for everyone without a handled mark, as then.
        let legacy = trx.selectFrom('plinth_outbox').select('id').where('status', '=', 'dead');
        if (criteria.eventIds && criteria.eventIds.length > 0) legacy = legacy.where('id', 'in', criteria.eventIds);
        const legacyIds = criteria.subscriber ? [] : (await legacy.execute()).map((r) => r.id).filter((id) => !retrying.has(id));
        return requeue(trx, [...retrying.keys(), ...legacyIds], (id) => retrying.get(id) ?? null);
      });
    },

    async replay(criteria) {
      return database.transaction(async (tx) => {
        const trx = tx.kysely as unknown as Kysely<OutboxTables>;
        let query = trx.selectFrom('plinth_outbox').select('id').where('created_time', '>=', criteria.since);
        if (criteria.type) query = query.where('type', '=', criteria.type);
        const ids = (await query.orderBy('id').execute()).map((r) => r.id);
        for (const part of chunks(ids)) {
          for (const table of ['plinth_event_handled', 'plinth_event_dead_letter', 'plinth_event_retry'] as const) {
            let remove = trx.deleteFrom(table).where('event_id', 'in', part);
            if (criteria.subscriber) remove = remove.where('subscriber', '=', criteria.subscriber);
            await remove.execute();
          }
        }
        const targets = criteria.subscriber ? [criteria.subscriber] : null;
        return requeue(trx, ids, () => targets);
      });
    },
  };
}

/** Waits, polling, until `done` answers true; throws after `timeoutMs`. */
export async function waitUntil(done: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await done()) return;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export async function pendingCount(database: Database): Promise<number> {
  const row = await outboxDb(database)
    .selectFrom('plinth_outbox')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', '=', 'pending')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Runs `work` while holding the dispatch lock (PostgreSQL: one dispatcher or relay at a time); 0 if another holds it. */
export async function withDispatchLock(database: Database, work: () => Promise<number>): Promise<number> {
  if (database.dialect !== 'postgres') return work();
  return outboxDb(database)
    .connection()
    .execute(async (connection) => {
      const got = await sql<{ locked: boolean }>`select pg_try_advisory_lock(${DISPATCH_LOCK_KEY}) as locked`.execute(connection);
      if (!got.rows[0]?.locked) return 0;
      try {
        return await work();
      } finally {
        await sql`select pg_advisory_unlock(${DISPATCH_LOCK_KEY})`.execute(connection);
      }
    });
}

/** Reads pending outbox rows in id order, page by page (keyset), until `visit` has seen them all. */
export async function forEachPendingBatch(
  database: Database,
  visit: (rows: Array<OutboxTables['plinth_outbox']>) => Promise<void>,
): Promise<void> {
  const db = outboxDb(database);
  let after: string | undefined;
  for (;;) {
    let query = db.selectFrom('plinth_outbox').selectAll().where('status', '=', 'pending');
    if (after !== undefined) query = query.where('id', '>', after);
    const rows = await query.orderBy('id').limit(BATCH).execute();
    if (rows.length === 0) return;
    await visit(rows);
    if (rows.length < BATCH) return;
    after = rows[rows.length - 1]!.id;
  }
}

export type OutboxRow = OutboxTables['plinth_outbox'];

/** Marks rows finished: `delivered`, or `dead` when some subscriber dead-lettered them; only the generation that was worked on. */
export async function markFinished(
  database: Database,
  clock: Clock,
  rows: ReadonlyArray<Pick<OutboxRow, 'id' | 'generation'>>,
  status: 'delivered' | 'dead',
): Promise<void> {
  const db = outboxDb(database);
  const byGeneration = new Map<number, string[]>();
  for (const row of rows) byGeneration.set(row.generation, [...(byGeneration.get(row.generation) ?? []), row.id]);
  for (const [generation, ids] of byGeneration) {
    for (const part of chunks(ids)) {
      await db
        .updateTable('plinth_outbox')
        .set({ status, delivered_time: clock.now(), targets: null })
        .where('id', 'in', part)
        .where('generation', '=', generation)
        .where('status', '=', 'pending')
        .execute();
    }
  }
}

/** What both buses do the same way: register subscribers by unique name, and re-queue through the admin, then kick. */
export function dispatcherBasics(
  subscribers: EventSubscriber[],
  admin: EventAdmin,
  kick: () => void,
): Pick<Dispatcher, 'replayDead' | 'retryDead' | 'replay'> & { register(subscriber: EventSubscriber): void } {
  const requeued = async (work: Promise<number>) => {
    const n = await work;
    kick();
    return n;
  };
  return {
    register(subscriber) {
      if (subscribers.some((s) => s.name === subscriber.name)) {
        throw new Error(`event subscriber "${subscriber.name}" is already registered`);
      }
      subscribers.push(subscriber);
    },
    replayDead: (ids) => requeued(admin.retryDead(ids ? { eventIds: ids } : {})),
    retryDead: (criteria) => requeued(admin.retryDead(criteria)),
    replay: (criteria) => requeued(admin.replay(criteria)),
  };
}

/**
 * Delivers outbox events to in-process subscribers: oldest first, in order per subject and
 * subscriber. A failing subscriber retries with backoff (its own count, in plinth_event_retry) and
 * holds only its own later events of that subject; after `maxAttempts` the (subscriber, event) pair
 * goes to plinth_event_dead_letter and stops blocking. With PostgreSQL, an advisory lock keeps a
 * single dispatcher active across processes.
 */
export function createDispatcher(database: Database, clock: Clock, options: DispatcherOptions = {}): Dispatcher {
  const maxAttempts = options.maxAttempts ?? 8;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const backoffMs = options.backoffMs ?? defaultBackoffMs;
  const subscribers: EventSubscriber[] = [];
  const db = outboxDb(database);
  const admin = createEventAdmin(database, clock);

  async function marksOf(table: 'plinth_event_handled' | 'plinth_event_dead_letter', ids: readonly string[]): Promise<Set<string>> {
    const keys = new Set<string>();
    for (const part of chunks(ids)) {
      const rows = await db.selectFrom(table).select(['subscriber', 'event_id']).where('event_id', 'in', part).execute();
      for (const row of rows) keys.add(`${row.subscriber}\u0000${row.event_id}`);
    }
    return keys;
  }

  async function retriesOf(ids: readonly string[]): Promise<Map<string, OutboxTables['plinth_event_retry']>> {
    const found = new Map<string, OutboxTables['plinth_event_retry']>();
    for (const part of chunks(ids)) {
      const rows = await db.selectFrom('plinth_event_retry').selectAll().where('event_id', 'in', part).execute();
      for (const row of rows) found.set(`${row.subscriber}\u0000${row.event_id}`, row);
    }
    return found;
  }

  async function pass(): Promise<number> {
    let finished = 0;
    // Per subscriber and subject: an earlier event still retrying holds the later ones.
    const blocked = new Set<string>();
    await forEachPendingBatch(database, async (rows) => {
      const ids = rows.map((r) => r.id);
      const [handled, dead, retries] = await Promise.all([
        marksOf('plinth_event_handled', ids),
        marksOf('plinth_event_dead_letter', ids),
        retriesOf(ids),
      ]);
      const delivered: OutboxRow[] = [];
      const withDead: OutboxRow[] = [];
      for (const row of rows) {
        const event = eventOfRow(database, row);
        const targets = targetsOf(row.targets);
        let complete = true;
        let anyDead = false;
        for (const subscriber of subscribers) {
          if (!interestedIn(subscriber, row.type)) continue;
          const key = `${subscriber.name}\u0000${row.id}`;
          if (handled.has(key)) continue;
          if (dead.has(key)) {
            anyDead = true;
            continue;
          }
          // Re-queued for other subscribers: this one has no mark (say it came after the first
          // delivery), but it was not asked for and must not see the event.
          if (!isTargeted(targets, subscriber.name)) continue;
          const lane = `${subscriber.name}\u0000${row.subject}`;
          const retry = retries.get(key);
          if (blocked.has(lane) || (retry && retry.next_attempt_time > clock.now())) {
            blocked.add(lane);
            complete = false;
            continue;
          }
          try {
            const ran = await handleOnce(database, clock, subscriber, event, 'not-handled');
            if (retry)
              await db.deleteFrom('plinth_event_retry').where('subscriber', '=', subscriber.name).where('event_id', '=', row.id).execute();
            if (ran) options.onHandled?.(subscriber.name, event);
          } catch (error) {
            options.onError?.(error, event, subscriber.name);
            const attempts = (retry?.attempts ?? 0) + 1;
            await db
              .updateTable('plinth_outbox')
              .set({ attempts: Math.max(row.attempts, attempts), last_error: errorText(error) })
              .where('id', '=', row.id)
              .execute();
            if (attempts >= maxAttempts) {
              await recordDeadLetter(database, clock, subscriber.name, event, attempts, error);
              options.onDeadLetter?.(subscriber.name, event, error);
              anyDead = true;
            } else {
              const next = { attempts, next_attempt_time: clock.now() + backoffMs(attempts), last_error: errorText(error) };
              await db
                .insertInto('plinth_event_retry')
                .values({ subscriber: subscriber.name, event_id: row.id, ...next })
                .onConflict((oc) => oc.columns(['subscriber', 'event_id']).doUpdateSet(next))
                .execute();
              blocked.add(lane);
              complete = false;
            }
          }
        }
        if (complete) (anyDead ? withDead : delivered).push(row);
      }
      await markFinished(database, clock, delivered, 'delivered');
      await markFinished(database, clock, withDead, 'dead');
      finished += delivered.length + withDead.length;
    });
    return finished;
  }

  const loop = createPassLoop(() => withDispatchLock(database, pass), { pollIntervalMs });
  const deliverPending = loop.run;
  const basics = dispatcherBasics(subscribers, admin, loop.kick);

  return {
    mode: 'in-process',
    subscribe: basics.register,
    kick: loop.kick,
    deliverPending,
    replayDead: basics.replayDead,
    retryDead: basics.retryDead,
    replay: basics.replay,
    async settle({ timeoutMs = 30_000 } = {}) {
      await waitUntil(
        async () => {
          await deliverPending();
          return (await pendingCount(database)) === 0;
        },
        timeoutMs,
        'event delivery (settle)',
      );
    },
    async start() {
      loop.start();
    },
    stop: loop.stop,
  };
}
