import type { Kysely } from 'kysely';
import type { Clock } from './clock.js';
import type { Database } from './db.js';
import { targetsOf } from './events.delivery.js';
import { chunks, outboxDb, type OutboxTables } from './events.tables.js';
import type { Dispatcher, EventAdmin, EventSubscriber } from './events.types.js';

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
        const next = wanted === null || current === null ? null : JSON.stringify([...new Set([...current, ...wanted])].sort());
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
