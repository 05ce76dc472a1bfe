import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase, type Database } from '../src/kernel/db.js';
import {
  createDispatcher,
  createEventAdmin,
  createOutbox,
  eventMigrations,
  type CloudEvent,
  type Dispatcher,
  type DispatcherOptions,
} from '../src/kernel/events.js';
import { createJetStreamDispatcher, deleteJetStream } from '../src/kernel/events.nats.js';
import { migrate } from '../src/kernel/migrator.js';
import { testDatabase, type TestDatabase } from './helpers.js';

/**
 * One suite, two buses (a file for each, so the fast tier runs the in-process one without NATS): what a module relies on (order per record, at least once with idempotent
 * redelivery, retry then dead letter, retry and replay, handlers in the delivery transaction) must
 * hold in-process and through NATS JetStream alike.
 */
export const NATS_URL = process.env['TEST_NATS_URL'] ?? 'nats://127.0.0.1:4222';
export type Bus = 'in-process' | 'jetstream';

let db: TestDatabase;
let database: Database;
// Real time, movable forward: replays select by creation time.
let offset = 0;
const clock = { now: () => Date.now() + offset };
const streams: string[] = [];

const fast: DispatcherOptions = { backoffMs: () => 20, maxAttempts: 3, pollIntervalMs: 50 };

function dispatcherFor(bus: Bus, options: DispatcherOptions = {}): Dispatcher {
  if (bus === 'in-process') return createDispatcher(database, clock, { ...fast, ...options });
  const id = randomBytes(5).toString('hex');
  const stream = `PLINTH_TEST_${id}`;
  streams.push(stream);
  return createJetStreamDispatcher(database, clock, {
    ...fast,
    ...options,
    url: NATS_URL,
    stream,
    subjectPrefix: `plinth.test.${id}`,
    partitions: 4,
    ackWaitMs: 5000,
  });
}

const outbox = () => createOutbox(database, clock, () => undefined);
const uniqueType = (name: string) => `plinth.test.${name}.${randomBytes(4).toString('hex')}.v1`;

async function publish(type: string, subject: string, data: unknown): Promise<CloudEvent> {
  return database.transaction((tx) => outbox().append(tx, { type, source: '/plinth/test', subject, tenantId: 'pb', data }));
}

const numbers = (events: readonly CloudEvent[]) => events.map((e) => (e.data as { n: number }).n);

async function writesOf(subscriber: string): Promise<string[]> {
  const rows = await database.kysely
    .withTables<{ events_test_writes: { event_id: string; subscriber: string } }>()
    .selectFrom('events_test_writes')
    .select('event_id')
    .where('subscriber', '=', subscriber)
    .execute();
  return rows.map((r) => r.event_id);
}

async function handledMarks(subscriber: string): Promise<string[]> {
  const rows = await database.kysely
    .withTables<{ plinth_event_handled: { subscriber: string; event_id: string } }>()
    .selectFrom('plinth_event_handled')
    .select('event_id')
    .where('subscriber', '=', subscriber)
    .execute();
  return rows.map((r) => r.event_id);
}

/** The suite on one bus: events.bus.test.ts runs it in-process, events.bus.nats.test.ts through JetStream. */
export function describeBus(bus: Bus): void {
  describe(`events through the ${bus} bus`, () => {
    beforeAll(async () => {
      db = await testDatabase();
      database = await connectDatabase(db.config);
      await migrate(database, [{ module: 'kernel', migrations: eventMigrations }]);
      await database.kysely.schema
        .createTable('events_test_writes')
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('subscriber', 'text', (c) => c.notNull())
        .execute();
    });
    afterAll(async () => {
      for (const stream of streams) await deleteJetStream(NATS_URL, stream);
      await database.close();
      await db.drop();
    });

    const running: Dispatcher[] = [];
    async function started(dispatcher: Dispatcher): Promise<Dispatcher> {
      running.push(dispatcher);
      await dispatcher.start();
      return dispatcher;
    }
    // One dispatcher at a time, as in a process: another one would deliver (or relay) the next test's events.
    afterEach(async () => {
      for (const dispatcher of running.splice(0)) await dispatcher.stop();
    });

    it('delivers every record`s events in commit order, each once per subscriber, as CloudEvents', async () => {
      const type = uniqueType('order');
      const dispatcher = dispatcherFor(bus);
      const seen: CloudEvent[] = [];
      const other: CloudEvent[] = [];
      dispatcher.subscribe({ name: `order-a-${bus}`, types: [type], handle: async (e) => void seen.push(e) });
      dispatcher.subscribe({ name: `order-b-${bus}`, types: '*', handle: async (e) => void (e.type === type && other.push(e)) });
      await started(dispatcher);
      for (let n = 0; n < 60; n++) await publish(type, `rec-${n % 5}`, { n });
      dispatcher.kick();
      await dispatcher.settle();

      expect(seen).toHaveLength(60);
      expect(new Set(seen.map((e) => e.id)).size).toBe(60);
      for (let r = 0; r < 5; r++) {
        const ns = numbers(seen.filter((e) => e.subject === `rec-${r}`));
        expect(ns).toEqual(Array.from({ length: 12 }, (_, i) => i * 5 + r));
      }
      expect(numbers(other).sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i));
      expect(seen[0]).toMatchObject({
        specversion: '1.0',
        type,
        source: '/plinth/test',
        tenantid: 'pb',
        datacontenttype: 'application/json',
      });
      const admin = createEventAdmin(database, clock);
      expect((await admin.list({ type, status: 'pending' })).length).toBe(0);
      expect((await admin.list({ type, status: 'delivered', limit: 100 })).length).toBe(60);
    });

    it('a redelivered event (the dispatcher died before marking it delivered) does not run a handler twice', async () => {
      const type = uniqueType('redeliver');
      const dispatcher = dispatcherFor(bus);
      const seen: CloudEvent[] = [];
      dispatcher.subscribe({ name: `redeliver-${bus}`, types: [type], handle: async (e) => void seen.push(e) });
      await started(dispatcher);
      const events = [await publish(type, 'r1', { n: 1 }), await publish(type, 'r1', { n: 2 })];
      dispatcher.kick();
      await dispatcher.settle();
      expect(numbers(seen)).toEqual([1, 2]);

      // As after a crash between delivering and marking: the rows are pending again (a new generation,
      // so JetStream does not drop the republished message as a duplicate).
      await sql`update plinth_outbox set status = 'pending', generation = generation + 1 where type = ${type}`.execute(database.kysely);
      dispatcher.kick();
      await dispatcher.settle();
      expect(numbers(seen)).toEqual([1, 2]);
      expect((await handledMarks(`redeliver-${bus}`)).sort()).toEqual(events.map((e) => e.id).sort());
    });

    it('retries a failing subscriber, dead-letters it after maxAttempts without holding the others, and retries the dead letter on request', async () => {
      const type = uniqueType('dead');
      const errors: string[] = [];
      const dispatcher = dispatcherFor(bus, {
        onError: (error, _e, subscriber) => void errors.push(`${subscriber}: ${(error as Error).message}`),
      });
      const fragile: number[] = [];
      const steady: number[] = [];
      let healthy = false;
      let tries = 0;
      const calls: number[] = [];
      dispatcher.subscribe({
        name: `fragile-${bus}`,
        types: [type],
        handle: async (e) => {
          const { n } = e.data as { n: number };
          calls.push(n);
          if (n === 1 && !healthy) {
            tries++;
            throw new Error('downstream refuses n=1');
          }
          fragile.push(n);
        },
      });
      dispatcher.subscribe({ name: `steady-${bus}`, types: [type], handle: async (e) => void steady.push((e.data as { n: number }).n) });
      await started(dispatcher);
      const first = await publish(type, 'd1', { n: 1 });
      await publish(type, 'd1', { n: 2 });
      dispatcher.kick();
      await dispatcher.settle();

      expect(tries).toBe(3);
      expect(errors.filter((e) => e.startsWith(`fragile-${bus}`))).toHaveLength(3);
      expect(steady).toEqual([1, 2]);
      // n=2 waited while n=1 was retried, and came once n=1 was dead-lettered.
      expect(calls).toEqual([1, 1, 1, 2]);
      expect(fragile).toEqual([2]);
      const admin = createEventAdmin(database, clock);
      expect(await admin.deadLetters({ subscriber: `fragile-${bus}` })).toEqual([
        expect.objectContaining({ eventId: first.id, type, subject: 'd1', attempts: 3, lastError: 'downstream refuses n=1' }),
      ]);
      expect(await admin.deadLetters({ subscriber: `steady-${bus}` })).toEqual([]);
      expect((await admin.list({ type, status: 'dead' })).map((e) => e.id)).toEqual([first.id]);

      healthy = true;
      expect(await dispatcher.retryDead({ eventIds: [first.id] })).toBe(1);
      await dispatcher.settle();
      expect(fragile).toEqual([2, 1]);
      expect(steady).toEqual([1, 2]); // already handled: not run again
      expect(await admin.deadLetters({ subscriber: `fragile-${bus}` })).toEqual([]);
      expect((await admin.list({ type, status: 'dead' })).length).toBe(0);
      expect(await dispatcher.retryDead({ eventIds: [first.id] })).toBe(0);
    });

    it('replays from a time: only that subscriber (or all), only events since then, only the type asked', async () => {
      const type = uniqueType('replay');
      const otherType = uniqueType('replay-other');
      const dispatcher = dispatcherFor(bus);
      const a: number[] = [];
      const b: number[] = [];
      dispatcher.subscribe({
        name: `replay-a-${bus}`,
        types: [type, otherType],
        handle: async (e) => void a.push((e.data as { n: number }).n),
      });
      dispatcher.subscribe({ name: `replay-b-${bus}`, types: [type], handle: async (e) => void b.push((e.data as { n: number }).n) });
      await started(dispatcher);
      await publish(type, 'p1', { n: 1 });
      offset += 60_000;
      const since = clock.now();
      await publish(type, 'p1', { n: 2 });
      await publish(otherType, 'p2', { n: 3 });
      dispatcher.kick();
      await dispatcher.settle();
      expect(a.sort()).toEqual([1, 2, 3]);
      expect(b).toEqual([1, 2]);

      expect(await dispatcher.replay({ since, subscriber: `replay-a-${bus}`, type })).toBe(1);
      await dispatcher.settle();
      expect(a.sort()).toEqual([1, 2, 2, 3]);
      expect(b).toEqual([1, 2]);

      expect(await dispatcher.replay({ since: new Date(since).getTime() })).toBeGreaterThanOrEqual(2);
      await dispatcher.settle();
      expect(a.sort()).toEqual([1, 2, 2, 2, 3, 3]);
      expect(b).toEqual([1, 2, 2]);
    });

    it('a retry or replay aimed at a subscriber runs only it, not a subscriber registered since; an untargeted replay runs everyone', async () => {
      const type = uniqueType('targets');
      const dispatcher = dispatcherFor(bus);
      const a: number[] = [];
      const b: number[] = [];
      const late: number[] = [];
      let healthy = false;
      const n = (e: CloudEvent) => (e.data as { n: number }).n;
      dispatcher.subscribe({
        name: `targets-a-${bus}`,
        types: [type],
        handle: async (e) => {
          if (!healthy && n(e) !== 2) throw new Error('a refuses n=1 and n=3');
          a.push(n(e));
        },
      });
      dispatcher.subscribe({ name: `targets-b-${bus}`, types: [type], handle: async (e) => void b.push(n(e)) });
      await started(dispatcher);
      offset += 60_000;
      const since = clock.now();
      const [e1, , e3] = [await publish(type, 'g1', { n: 1 }), await publish(type, 'g2', { n: 2 }), await publish(type, 'g3', { n: 3 })];
      dispatcher.kick();
      await dispatcher.settle();
      expect(a).toEqual([2]);
      expect(b.sort()).toEqual([1, 2, 3]);

      // As after an upgrade: a fan-out over every type, with no handled marks for the old events.
      const lateName = `targets-late-${bus}`;
      dispatcher.subscribe({ name: lateName, types: '*', handle: async (e) => void (e.type === type && late.push(n(e))) });
      await dispatcher.settle();

      healthy = true;
      expect(await dispatcher.retryDead({ eventIds: [e1!.id], subscriber: `targets-a-${bus}` })).toBe(1);
      await dispatcher.settle();
      // Without a subscriber, a retry is still aimed at the subscribers that dead-lettered the event.
      expect(await dispatcher.retryDead({ eventIds: [e3!.id] })).toBe(1);
      await dispatcher.settle();
      expect(a.sort()).toEqual([1, 2, 3]);
      expect(b.sort()).toEqual([1, 2, 3]);
      expect(late).toEqual([]);
      expect(await handledMarks(lateName)).toEqual([]);

      expect(await dispatcher.replay({ since, subscriber: `targets-b-${bus}`, type })).toBe(3);
      await dispatcher.settle();
      expect(b.sort()).toEqual([1, 1, 2, 2, 3, 3]);
      expect(a.sort()).toEqual([1, 2, 3]);
      expect(late).toEqual([]);
      expect(await handledMarks(lateName)).toEqual([]);
      const admin = createEventAdmin(database, clock);
      expect((await admin.list({ type })).map((e) => [e.status, e.targets])).toEqual(Array(3).fill(['delivered', null]));

      // Untargeted: everyone interested runs them again, the late subscriber included.
      expect(await dispatcher.replay({ since, type })).toBe(3);
      await dispatcher.settle();
      expect(a.sort()).toEqual([1, 1, 2, 2, 3, 3]);
      expect(b.sort()).toEqual([1, 1, 1, 2, 2, 2, 3, 3, 3]);
      expect(late.sort()).toEqual([1, 2, 3]);
      expect((await handledMarks(lateName)).length).toBe(3);
    });

    it('inTransaction: the handler`s writes and the handled mark commit together, or neither does', async () => {
      const type = uniqueType('tx');
      const dispatcher = dispatcherFor(bus);
      const name = `tx-${bus}`;
      const hopeless = `tx-hopeless-${bus}`;
      let failuresLeft = 1;
      const write = (tx: { kysely: Kysely<unknown> }, eventId: string, subscriber: string) =>
        sql`insert into events_test_writes (event_id, subscriber) values (${eventId}, ${subscriber})`.execute(tx.kysely);
      dispatcher.subscribe({
        name,
        types: [type],
        inTransaction: true,
        handle: async (e, tx) => {
          await write(tx, e.id, name);
          if (failuresLeft-- > 0) throw new Error('fails after writing');
        },
      });
      dispatcher.subscribe({
        name: hopeless,
        types: [type],
        inTransaction: true,
        handle: async (e, tx) => {
          await write(tx, e.id, hopeless);
          throw new Error('always fails after writing');
        },
      });
      await started(dispatcher);
      const event = await publish(type, 't1', { n: 1 });
      dispatcher.kick();
      await dispatcher.settle();

      // The first attempt's write was rolled back with it: one row, one mark.
      expect(await writesOf(name)).toEqual([event.id]);
      expect(await handledMarks(name)).toEqual([event.id]);
      // Dead after its attempts: none of its writes, no mark.
      expect(await writesOf(hopeless)).toEqual([]);
      expect(await handledMarks(hopeless)).toEqual([]);
      expect((await createEventAdmin(database, clock).deadLetters({ subscriber: hopeless })).map((d) => d.eventId)).toEqual([event.id]);
    });
  });
}
