import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabase, type TestDatabase } from '../../test/helpers.js';
import { connectDatabase, type Database } from './db.js';
import { createDispatcher, createEventAdmin, createOutbox, eventMigrations, type CloudEvent } from './events.js';
import { migrate } from './migrator.js';

let db: TestDatabase;
let database: Database;
let now = 1_700_000_000_000;
const clock = { now: () => now };

beforeAll(async () => {
  db = await testDatabase();
  database = await connectDatabase(db.config);
  await migrate(database, [{ module: 'kernel', migrations: eventMigrations }]);
});
afterAll(async () => {
  await database.close();
  await db.drop();
});

async function publish(subject: string, data: unknown, type = 'plinth.test.happened.v1') {
  const outbox = createOutbox(database, clock, () => undefined);
  return database.transaction((tx) => outbox.append(tx, { type, source: '/plinth/test', subject, tenantId: 'pb', data }));
}

describe('outbox and dispatcher', () => {
  it('delivers committed events in order, once per subscriber, as CloudEvents', async () => {
    const dispatcher = createDispatcher(database, clock);
    const seen: CloudEvent[] = [];
    dispatcher.subscribe({ name: 'a', types: '*', handle: async (e) => void seen.push(e) });
    await publish('s1', { n: 1 });
    await publish('s1', { n: 2 });
    await publish('s2', { n: 3 }, 'plinth.test.other.v1');
    expect(await dispatcher.deliverPending()).toBe(3);
    expect(seen.map((e) => (e.data as { n: number }).n)).toEqual([1, 2, 3]);
    expect(seen[0]).toMatchObject({
      specversion: '1.0',
      source: '/plinth/test',
      subject: 's1',
      tenantid: 'pb',
      datacontenttype: 'application/json',
    });
    expect(await dispatcher.deliverPending()).toBe(0);
    expect(seen).toHaveLength(3);
  });

  it('writes nothing when the transaction rolls back', async () => {
    const dispatcher = createDispatcher(database, clock);
    const seen: CloudEvent[] = [];
    dispatcher.subscribe({ name: 'rollback', types: '*', handle: async (e) => void seen.push(e) });
    const outbox = createOutbox(database, clock, () => undefined);
    await expect(
      database.transaction(async (tx) => {
        await outbox.append(tx, { type: 't', source: '/x', subject: 'r', tenantId: 'pb', data: {} });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    await dispatcher.deliverPending();
    expect(seen).toHaveLength(0);
  });

  it('retries a failing subscriber with backoff, holds its later events of the same subject but not the other subscribers, never re-runs a handler that succeeded', async () => {
    const dispatcher = createDispatcher(database, clock, { backoffMs: () => 1000, maxAttempts: 5 });
    const good: number[] = [];
    let failuresLeft = 2;
    const flaky: number[] = [];
    dispatcher.subscribe({ name: 'good', types: '*', handle: async (e) => void good.push((e.data as { n: number }).n) });
    dispatcher.subscribe({
      name: 'flaky',
      types: '*',
      handle: async (e) => {
        if (failuresLeft-- > 0) throw new Error('downstream unavailable');
        flaky.push((e.data as { n: number }).n);
      },
    });
    await publish('order-1', { n: 10 });
    await publish('order-1', { n: 11 });
    await publish('order-2', { n: 20 });

    await dispatcher.deliverPending(); // n=10 fails for flaky; its order-1 is held; order-2 fails too (flaky's 2nd failure)
    expect(good).toEqual([10, 11, 20]); // 'good' is not held by flaky's failures
    expect(flaky).toEqual([]);
    await dispatcher.deliverPending(); // still backing off
    expect(flaky).toEqual([]);

    now += 1000;
    await dispatcher.deliverPending();
    expect(flaky).toEqual([10, 11, 20]);
    expect(good).toEqual([10, 11, 20]); // 'good' ran once per event, not again on retries
  });

  it('backs off exponentially per subscriber and event, then dead-letters only that subscriber', async () => {
    const type = 'plinth.test.backoff.v1';
    const delays: number[] = [];
    const dispatcher = createDispatcher(database, clock, {
      maxAttempts: 4,
      backoffMs: (attempt) => {
        delays.push(attempt);
        return 100 * 2 ** (attempt - 1);
      },
    });
    let calls = 0;
    let healthy = false;
    const fine: string[] = [];
    dispatcher.subscribe({
      name: 'backoff-bad',
      types: [type],
      handle: async () => {
        calls++;
        if (!healthy) throw new Error('still no');
      },
    });
    dispatcher.subscribe({ name: 'backoff-fine', types: [type], handle: async (e) => void fine.push(e.id) });
    const event = await publish('b1', {}, type);
    const runs: number[] = [];
    for (const step of [0, 50, 50, 100, 200, 400]) {
      now += step;
      await dispatcher.deliverPending();
      runs.push(calls);
    }
    // Fails at +0, +100, +400 (after 100, 200 ms), then at +800 (after 400 ms) for the 4th and last time.
    expect(runs).toEqual([1, 1, 2, 2, 3, 4]);
    expect(delays).toEqual([1, 2, 3]);
    expect(fine).toEqual([event.id]);
    const letters = await database.kysely
      .withTables<{ plinth_event_dead_letter: { subscriber: string; event_id: string; attempts: number; last_error: string } }>()
      .selectFrom('plinth_event_dead_letter')
      .select(['subscriber', 'attempts', 'last_error'])
      .where('event_id', '=', event.id)
      .execute();
    expect(letters).toEqual([{ subscriber: 'backoff-bad', attempts: 4, last_error: 'still no' }]);
    now += 10_000;
    await dispatcher.deliverPending();
    expect(calls).toBe(4); // dead: not tried again

    expect(await dispatcher.retryDead({ subscriber: 'backoff-fine' })).toBe(0);
    healthy = true;
    expect(await dispatcher.retryDead({ subscriber: 'backoff-bad' })).toBe(1);
    await dispatcher.deliverPending();
    expect(calls).toBe(5);
    expect(fine).toEqual([event.id]);
  });

  it('dead-letters after maxAttempts, and replays on request', async () => {
    const dispatcher = createDispatcher(database, clock, { backoffMs: () => 0, maxAttempts: 2 });
    let healthy = false;
    const delivered: string[] = [];
    dispatcher.subscribe({
      name: 'fragile',
      types: ['plinth.test.dead.v1'],
      handle: async (e) => {
        if (!healthy) throw new Error('broken');
        delivered.push(e.subject);
      },
    });
    await publish('d1', {}, 'plinth.test.dead.v1');
    await dispatcher.deliverPending();
    await dispatcher.deliverPending();
    await dispatcher.deliverPending();
    expect(delivered).toEqual([]);
    const rows = await database.kysely
      .withTables<{ plinth_outbox: { subject: string; status: string; attempts: number; last_error: string } }>()
      .selectFrom('plinth_outbox')
      .select(['status', 'attempts', 'last_error'])
      .where('subject', '=', 'd1')
      .execute();
    expect(rows).toEqual([{ status: 'dead', attempts: 2, last_error: 'broken' }]);
    const letters = await database.kysely
      .withTables<{ plinth_event_dead_letter: { subscriber: string; subject: string; attempts: number } }>()
      .selectFrom('plinth_event_dead_letter')
      .select(['subscriber', 'attempts'])
      .where('subject', '=', 'd1')
      .execute();
    expect(letters).toEqual([{ subscriber: 'fragile', attempts: 2 }]);

    healthy = true;
    expect(await dispatcher.replayDead()).toBe(1);
    await dispatcher.deliverPending();
    expect(delivered).toEqual(['d1']);
  });

  it('appendMany writes events in input order: delivered per subject as sequential appends would be, across chunks', async () => {
    const type = 'plinth.test.many.v1';
    const dispatcher = createDispatcher(database, clock);
    const seen: Array<{ subject: string; n: number }> = [];
    dispatcher.subscribe({
      name: 'many',
      types: [type],
      handle: async (e) => void seen.push({ subject: e.subject, n: (e.data as { n: number }).n }),
    });
    const outbox = createOutbox(database, clock, () => undefined);
    // More than one INSERT chunk, three subjects interleaved, a single append before and after.
    const inputs = Array.from({ length: 1203 }, (_, n) => ({
      type,
      source: '/plinth/test',
      subject: `m${n % 3}`,
      tenantId: 'pb',
      data: { n },
    }));
    await publish('m0', { n: -1 }, type);
    const events = await database.transaction((tx) => outbox.appendMany(tx, inputs));
    await publish('m0', { n: 9999 }, type);
    expect(events.map((e) => (e.data as { n: number }).n)).toEqual(inputs.map((i) => i.data.n));
    expect(events[0]).toMatchObject({ specversion: '1.0', type, source: '/plinth/test', subject: 'm0', tenantid: 'pb' });
    expect(new Set(events.map((e) => e.id)).size).toBe(inputs.length);
    expect([...events.map((e) => e.id)].sort()).toEqual(events.map((e) => e.id));

    expect(await dispatcher.deliverPending()).toBe(inputs.length + 2);
    expect(seen.map((e) => e.n)).toEqual([-1, ...inputs.map((i) => i.data.n), 9999]);
    for (const subject of ['m0', 'm1', 'm2']) {
      const ns = seen.filter((e) => e.subject === subject).map((e) => e.n);
      expect(ns).toEqual([...ns].sort((a, b) => a - b));
    }
    expect(await database.transaction((tx) => outbox.appendMany(tx, []))).toEqual([]);
  });

  it('appendMany writes nothing when the transaction rolls back', async () => {
    const type = 'plinth.test.many.rollback.v1';
    const outbox = createOutbox(database, clock, () => undefined);
    let kicked = 0;
    const counting = createOutbox(database, clock, () => void (kicked += 1));
    await expect(
      database.transaction(async (tx) => {
        await outbox.appendMany(tx, [{ type, source: '/x', subject: 'r', tenantId: 'pb', data: {} }]);
        await counting.appendMany(tx, [{ type, source: '/x', subject: 'r', tenantId: 'pb', data: {} }]);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    const rows = await database.kysely
      .withTables<{ plinth_outbox: { type: string } }>()
      .selectFrom('plinth_outbox')
      .select('type')
      .where('type', '=', type)
      .execute();
    expect(rows).toEqual([]);
    expect(kicked).toBe(0);
    await database.transaction((tx) => counting.appendMany(tx, [{ type, source: '/x', subject: 'r', tenantId: 'pb', data: {} }]));
    expect(kicked).toBe(1);
  });

  it('re-queued rows carry their targets: targeted replays add up until delivery, a first delivery or an untargeted replay stays for everyone', async () => {
    const type = 'plinth.test.targets.v1';
    const dispatcher = createDispatcher(database, clock);
    const admin = createEventAdmin(database, clock);
    const ran: string[] = [];
    const subscriber = (name: string) => ({ name, types: [type], handle: async (e: CloudEvent) => void ran.push(`${name} ${e.subject}`) });
    dispatcher.subscribe(subscriber('t-a'));
    dispatcher.subscribe(subscriber('t-b'));
    const since = now;
    const first = await publish('x1', {}, type);
    await dispatcher.deliverPending();
    expect(ran.splice(0).sort()).toEqual(['t-a x1', 't-b x1']);
    dispatcher.subscribe(subscriber('t-late'));
    const targets = async () => (await admin.list({ type })).map((e) => [e.subject, e.status, e.targets]);

    // Two targeted replays before the row is delivered: both subscribers, still not the late one.
    expect(await admin.replay({ since, type, subscriber: 't-a' })).toBe(1);
    expect(await admin.replay({ since, type, subscriber: 't-b' })).toBe(1);
    expect(await targets()).toEqual([['x1', 'pending', ['t-a', 't-b']]]);
    await dispatcher.deliverPending();
    expect(ran.splice(0).sort()).toEqual(['t-a x1', 't-b x1']);
    expect(await targets()).toEqual([['x1', 'delivered', null]]);

    // A row not yet delivered the first time is for everyone: a targeted replay does not narrow it.
    await publish('x2', {}, type);
    expect(await admin.replay({ since, type, subscriber: 't-a' })).toBe(2);
    expect(await targets()).toEqual([
      ['x2', 'pending', null],
      ['x1', 'pending', ['t-a']],
    ]);
    await dispatcher.deliverPending();
    expect(ran.splice(0).sort()).toEqual(['t-a x1', 't-a x2', 't-b x2', 't-late x2']);

    // An untargeted replay widens a pending targeted row to everyone.
    expect(await admin.replay({ since, type, subscriber: 't-b' })).toBe(2);
    expect(await admin.replay({ since, type })).toBe(2);
    expect(await targets()).toEqual([
      ['x2', 'pending', null],
      ['x1', 'pending', null],
    ]);
    await dispatcher.deliverPending();
    expect(ran.splice(0).sort()).toEqual(['t-a x1', 't-a x2', 't-b x1', 't-b x2', 't-late x1', 't-late x2']);
    // Every re-queue is a new generation (JetStream would drop a republished id.generation as a duplicate).
    expect((await admin.list({ type })).map((e) => [e.id === first.id, e.generation])).toEqual([
      [false, 3],
      [true, 5],
    ]);
  });

  it('refuses two subscribers with the same name', () => {
    const dispatcher = createDispatcher(database, clock);
    dispatcher.subscribe({ name: 'dup', types: '*', handle: async () => undefined });
    expect(() => dispatcher.subscribe({ name: 'dup', types: '*', handle: async () => undefined })).toThrow(/already registered/);
  });
});
