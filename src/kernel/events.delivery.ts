import { sql, type Kysely } from 'kysely';
import type { Clock } from './clock.js';
import type { Database } from './db.js';
import { openEvent } from './events.sealing.js';
import { chunks, outboxDb, type OutboxRow, type OutboxTables } from './events.tables.js';
import type { CloudEvent, EventSubscriber } from './events.types.js';

// What both buses do the same way with one event and one subscriber, and with pending rows.

const DISPATCH_LOCK_KEY = 7_361_204_002;
const BATCH = 200;

export const defaultBackoffMs = (attempt: number): number => Math.min(600_000, 500 * 2 ** (attempt - 1));

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
