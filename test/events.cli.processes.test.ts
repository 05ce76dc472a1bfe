import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase, type Database } from '../src/kernel/db.js';
import { createDispatcher, createEventAdmin, createOutbox, eventMigrations } from '../src/kernel/events.js';
import { migrate } from '../src/kernel/migrator.js';
import { testDatabase, type TestDatabase } from './helpers.js';
import { runPlinth } from './process.js';

/** Runs the compiled `plinth events …` on the test's database. */
async function plinth(db: TestDatabase, args: string[]): Promise<{ code: number | null; output: string }> {
  const run = runPlinth(args, {
    LOG_LEVEL: 'silent',
    DATA_DIR: db.config.dataDir,
    ...(db.config.databaseUrl ? { DATABASE_URL: db.config.databaseUrl } : {}),
  });
  const code = await run.exited;
  return { code, output: run.output() };
}

let db: TestDatabase;
let database: Database;
const clock = { now: () => Date.now() };

beforeAll(async () => {
  db = await testDatabase();
  database = await connectDatabase(db.config);
  await migrate(database, [{ module: 'kernel', migrations: eventMigrations }]);
});
afterAll(async () => {
  await database.close();
  await db.drop();
});

describe('plinth events', () => {
  it(
    'lists events and dead letters, retries dead letters, replays from a time, and refuses bad arguments',
    { timeout: 60_000 },
    async () => {
      const type = 'plinth.test.cli.v1';
      const dispatcher = createDispatcher(database, clock, { maxAttempts: 1 });
      dispatcher.subscribe({
        name: 'cli-broken',
        types: [type],
        handle: async (e) => {
          if ((e.data as { n: number }).n === 1) throw new Error('cannot handle n=1');
        },
      });
      dispatcher.subscribe({ name: 'cli-ok', types: [type], handle: async () => undefined });
      const outbox = createOutbox(database, clock, () => undefined);
      const [bad, good] = await database.transaction((tx) =>
        outbox.appendMany(tx, [
          { type, source: '/plinth/test', subject: 'c1', tenantId: 'pb', data: { n: 1 } },
          { type, source: '/plinth/test', subject: 'c2', tenantId: 'pb', data: { n: 2 } },
        ]),
      );
      await dispatcher.deliverPending();

      const listed = await plinth(db, ['events', 'list', '--status', 'dead']);
      expect(listed.code).toBe(0);
      expect(listed.output).toContain(`${bad!.id}  dead`);
      expect(listed.output).not.toContain(`${good!.id}  delivered`);
      expect(listed.output).toMatch(new RegExp(`${bad!.id}  subscriber=cli-broken  ${type}  attempts=1 .*cannot handle n=1`));

      const retried = await plinth(db, ['events', 'retry', bad!.id]);
      expect(retried.code).toBe(0);
      expect(retried.output).toContain('sent 1 dead-lettered event(s) back to delivery');
      const admin = createEventAdmin(database, clock);
      expect(await admin.deadLetters()).toEqual([]);
      expect((await admin.list({ status: 'pending' })).map((e) => [e.id, e.generation])).toEqual([[bad!.id, 1]]);

      const marks = async (subscriber: string) =>
        (
          await sql<{ event_id: string }>`select event_id from plinth_event_handled where subscriber = ${subscriber}`.execute(
            database.kysely,
          )
        ).rows
          .map((r) => r.event_id)
          .sort();
      expect(await marks('cli-ok')).toEqual([bad!.id, good!.id].sort());
      const replayed = await plinth(db, [
        'events',
        'replay',
        '--since',
        new Date(clock.now() - 60_000).toISOString(),
        '--subscriber',
        'cli-ok',
      ]);
      expect(replayed.code).toBe(0);
      expect(replayed.output).toContain('queued 2 event(s)');
      expect(replayed.output).toContain('to cli-ok only');
      expect(await marks('cli-ok')).toEqual([]);
      expect((await admin.list({ status: 'pending' })).length).toBe(2);
      // The retry was for cli-broken (it dead-lettered the event), the replay for cli-ok: no one else.
      const pending = await plinth(db, ['events', 'list', '--status', 'pending']);
      expect(pending.output).toContain(`${bad!.id}  pending`);
      expect(pending.output).toMatch(new RegExp(`${bad!.id}  pending .* for=cli-broken,cli-ok`));
      expect(pending.output).toMatch(new RegExp(`${good!.id}  pending .* for=cli-ok(\\s|$)`));

      for (const args of [
        ['events', 'replay'],
        ['events', 'replay', '--since', 'yesterday'],
        ['events', 'list', '--status', 'lost'],
        ['events', 'retry'],
        ['events', 'frobnicate'],
      ]) {
        const refused = await plinth(db, args);
        expect(refused.code, args.join(' ')).toBe(2);
        expect(refused.output).toContain('plinth events');
      }
    },
  );
});
