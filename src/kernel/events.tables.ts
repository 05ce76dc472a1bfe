import type { Kysely } from 'kysely';
import type { Database } from './db.js';
import type { Migration } from './migrator.js';
import type { CloudEvent, OutboxStatus } from './events.types.js';

// The outbox's tables, their migrations, and the reading helpers every part of the bus shares.

export type OutboxTables = {
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

export type OutboxRow = OutboxTables['plinth_outbox'];

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

/** Ids per `in (…)` list: far below SQLite's 32k parameters. */
const IN_CHUNK = 500;

export function outboxDb(database: Database): Kysely<OutboxTables> {
  return database.kysely.withTables<OutboxTables>();
}

export function chunks<T>(items: readonly T[], size = IN_CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
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
