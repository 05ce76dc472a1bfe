import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase, type Database } from '../src/kernel/db.js';
import { createOutbox, eventMigrations, waitUntil } from '../src/kernel/events.js';
import { deleteJetStream } from '../src/kernel/events.nats.js';
import { migrate } from '../src/kernel/migrator.js';
import { testDatabase, type TestDatabase } from './helpers.js';

/**
 * Event delivery across real processes (test/fixtures/events-worker.mjs, on the compiled dist/):
 * a worker killed with SIGKILL in the middle of dispatching loses nothing and repeats nothing, and
 * two JetStream workers bound to the same durable consumers split the work, each event once.
 */
const NATS_URL = process.env['TEST_NATS_URL'] ?? 'nats://127.0.0.1:4222';
type Bus = 'in-process' | 'jetstream';

let db: TestDatabase;
let database: Database;
const clock = { now: () => Date.now() };
const streams: string[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  db = await testDatabase();
  database = await connectDatabase(db.config);
  await migrate(database, [{ module: 'kernel', migrations: eventMigrations }]);
  await database.kysely.schema
    .createTable('fixture_handled')
    .addColumn('seq', database.types.serial, (c) => c.primaryKey())
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('n', 'integer', (c) => c.notNull())
    .addColumn('pid', 'integer', (c) => c.notNull())
    .execute();
});
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});
afterAll(async () => {
  for (const stream of streams) await deleteJetStream(NATS_URL, stream);
  await database.close();
  await db.drop();
});

type Worker = { child: ChildProcess; ready: Promise<void>; exited: Promise<number | null>; output: () => string };

function worker(env: Record<string, string>): Worker {
  const child = spawn(process.execPath, ['test/fixtures/events-worker.mjs'], {
    env: {
      PATH: process.env['PATH'] ?? '',
      ...(db.config.databaseUrl ? { DATABASE_URL: db.config.databaseUrl } : { DATA_DIR: db.config.dataDir }),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  let markReady: () => void = () => undefined;
  let failReady: (error: Error) => void = () => undefined;
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    failReady = reject;
  });
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    if (output.includes('ready ')) markReady();
  });
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      failReady(new Error(`worker exited (${code}) before it was ready:\n${output}`));
      resolve(code);
    }),
  );
  return { child, ready, exited, output: () => output };
}

function busEnv(bus: Bus, type: string): Record<string, string> {
  if (bus === 'in-process') return { BUS: bus, TYPE: type };
  const id = randomBytes(5).toString('hex');
  const stream = `PLINTH_PROC_${id}`;
  streams.push(stream);
  return { BUS: bus, TYPE: type, NATS_URL, STREAM: stream, PREFIX: `plinth.proc.${id}`, ACK_WAIT_MS: '2000' };
}

async function commitEvents(type: string, count: number, subjects: number): Promise<string[]> {
  const outbox = createOutbox(database, clock, () => undefined);
  const ids: string[] = [];
  for (let start = 0; start < count; start += 500) {
    const inputs = Array.from({ length: Math.min(500, count - start) }, (_, i) => ({
      type,
      source: '/plinth/test',
      subject: `rec-${(start + i) % subjects}`,
      tenantId: 'pb',
      data: { n: start + i },
    }));
    const events = await database.transaction((tx) => outbox.appendMany(tx, inputs));
    ids.push(...events.map((e) => e.id));
  }
  return ids;
}

type Handled = { seq: number; event_id: string; subject: string; n: number; pid: number };
const handledRows = async () =>
  (await sql<Handled>`select seq, event_id, subject, n, pid from fixture_handled order by seq`.execute(database.kysely)).rows;
const handledCount = async () =>
  Number((await sql<{ c: number | string }>`select count(*) as c from fixture_handled`.execute(database.kysely)).rows[0]!.c);

/** Every committed event handled exactly once, each record's events in commit order. */
function expectExactlyOnceInOrder(rows: readonly Handled[], ids: readonly string[]) {
  expect(rows.length).toBe(ids.length);
  expect(new Set(rows.map((r) => r.event_id))).toEqual(new Set(ids));
  const bySubject = new Map<string, number[]>();
  for (const row of rows) bySubject.set(row.subject, [...(bySubject.get(row.subject) ?? []), row.n]);
  for (const ns of bySubject.values()) expect(ns).toEqual([...ns].sort((a, b) => a - b));
}

async function stopGracefully(w: Worker) {
  w.child.kill('SIGTERM');
  expect(await w.exited).toBe(0);
}

describe.each<Bus>(['in-process', 'jetstream'])('a %s worker killed with SIGKILL mid-dispatch', (bus) => {
  it('after a restart, every committed event is handled, none twice, in order per record', { timeout: 180_000 }, async () => {
    await sql`delete from fixture_handled`.execute(database.kysely);
    const type = `plinth.test.crash.${randomBytes(4).toString('hex')}.v1`;
    const ids = await commitEvents(type, 2000, 40);
    const env = { ...busEnv(bus, type), HANDLER_DELAY_MS: '2' };

    const first = worker(env);
    await first.ready;
    await waitUntil(async () => (await handledCount()) >= 150, 60_000, 'the first worker handling events');
    first.child.kill('SIGKILL');
    await first.exited;
    const atKill = await handledCount();
    expect(atKill).toBeLessThan(ids.length); // killed in the middle, not after

    const second = worker(env);
    await second.ready;
    await waitUntil(async () => (await handledCount()) >= ids.length, 150_000, 'the restarted worker catching up');
    await stopGracefully(second);
    expectExactlyOnceInOrder(await handledRows(), ids);
  });
});

describe('two JetStream workers sharing durable consumers', () => {
  it('split the work and handle each event exactly once, in order per record', { timeout: 180_000 }, async () => {
    await sql`delete from fixture_handled`.execute(database.kysely);
    const type = `plinth.test.shared.${randomBytes(4).toString('hex')}.v1`;
    const env = { ...busEnv('jetstream', type), HANDLER_DELAY_MS: '5' };
    const a = worker(env);
    const b = worker(env);
    await Promise.all([a.ready, b.ready]);

    const ids = await commitEvents(type, 400, 40);
    await waitUntil(async () => (await handledCount()) >= ids.length, 150_000, 'the two workers handling every event');
    await Promise.all([stopGracefully(a), stopGracefully(b)]);

    const rows = await handledRows();
    expectExactlyOnceInOrder(rows, ids);
    const byWorker = new Map<number, number>();
    for (const row of rows) byWorker.set(row.pid, (byWorker.get(row.pid) ?? 0) + 1);
    expect([...byWorker.keys()].sort()).toEqual([a.child.pid, b.child.pid].sort());
    for (const count of byWorker.values()) expect(count).toBeGreaterThan(0);
  });
});
