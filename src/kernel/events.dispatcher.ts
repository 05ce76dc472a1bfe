import type { Clock } from './clock.js';
import type { Database } from './db.js';
import { createEventAdmin, dispatcherBasics } from './events.admin.js';
import {
  defaultBackoffMs,
  errorText,
  forEachPendingBatch,
  handleOnce,
  interestedIn,
  isTargeted,
  markFinished,
  pendingCount,
  recordDeadLetter,
  targetsOf,
  waitUntil,
  withDispatchLock,
} from './events.delivery.js';
import { chunks, eventOfRow, outboxDb, type OutboxRow, type OutboxTables } from './events.tables.js';
import type { Dispatcher, DispatcherOptions, EventSubscriber } from './events.types.js';
import { createPassLoop } from './loop.js';

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
