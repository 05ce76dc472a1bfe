import type { Kysely } from 'kysely';
import type { Clock } from './clock.js';
import type { Database } from './db.js';
import { newId } from './ids.js';
import { sealData } from './events.sealing.js';
import type { OutboxTables } from './events.tables.js';
import type { CloudEvent, EventInput, Outbox } from './events.types.js';

/** Rows per outbox INSERT in appendMany: 12 parameters each, far below both engines' limits. */
const APPEND_CHUNK = 500;

/** Appends events in the caller's transaction; `onAppend` runs after the commit (the dispatcher's kick). */
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
      await (tx.kysely as unknown as Kysely<OutboxTables>)
        .insertInto('plinth_outbox')
        .values(rowOf({ ...event, data: stored }, now))
        .execute();
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
