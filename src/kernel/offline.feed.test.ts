import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabase, type TestDatabase } from '../../test/helpers.js';
import { connectDatabase, type Database, type Tx } from './db.js';
import { migrate } from './migrator.js';
import { changeClockMigrations, feedMarker } from './offline.feed.js';

// Two connections to one database, as two processes (or two requests on PostgreSQL's pool) have.
let db: TestDatabase;
let one: Database;
let two: Database;
let time = 1_000;
const clock = { now: () => time };

beforeAll(async () => {
  db = await testDatabase();
  one = await connectDatabase(db.config);
  two = await connectDatabase(db.config);
  await migrate(one, [{ module: 'kernel', migrations: changeClockMigrations }]);
  for (const table of ['feed_probe', 'feed_other']) {
    await one.kysely.schema
      .createTable(table)
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('change_time', one.types.bigint, (c) => c.notNull())
      .addColumn('sync_time', one.types.bigint, (c) => c.notNull())
      .addPrimaryKeyConstraint(`${table}_pk`, ['tenant_id', 'id'])
      .execute();
  }
});
afterAll(async () => {
  await two.close();
  await one.close();
  await db.drop();
});

const markProbe = feedMarker(clock, 'feed_probe');
const markOther = feedMarker(clock, 'feed_other', ['change_time', 'sync_time']);

/** Writes a row stamped with the time its transaction started, as every registry writes one, and marks it. */
async function write(tx: Tx, id: string, table: 'feed_probe' | 'feed_other' = 'feed_probe', now = clock.now()) {
  await sql`insert into ${sql.table(table)} (tenant_id, id, change_time, sync_time) values ('pb', ${id}, ${now}, ${now})`.execute(
    tx.kysely,
  );
  (table === 'feed_probe' ? markProbe : markOther)(tx, 'pb', [id]);
}

/** The feed as a device reads it: what changed at or after `since`, oldest first. */
async function feed(since: number): Promise<Array<{ id: string; change_time: number }>> {
  const { rows } = await sql<{ id: string; change_time: number | string }>`
    select id, change_time from feed_probe where change_time >= ${since} order by change_time, id`.execute(one.kysely);
  return rows.map((r) => ({ id: r.id, change_time: Number(r.change_time) }));
}

describe('the offline change feed', () => {
  it('does not let a cursor read between two commits skip the transaction that started first and committed last', async () => {
    let started!: () => void;
    const begun = new Promise<void>((resolve) => (started = resolve));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    time = 10_000;
    const first = two.transaction(async (tx) => {
      // Its rows are written with the time it started, as a registry writes them.
      const startedAt = clock.now();
      started();
      await gate;
      await write(tx, 'a-started-first', 'feed_probe', startedAt);
    });
    await begun;
    time = 10_050;
    await one.transaction((tx) => write(tx, 'b-started-second'));

    const between = await feed(0);
    expect(between.map((r) => r.id)).toEqual(['b-started-second']);
    const cursor = between.at(-1)!.change_time;

    release();
    await first;
    const after = await feed(cursor);
    expect(after.map((r) => r.id)).toContain('a-started-first');
    expect(after.find((r) => r.id === 'a-started-first')!.change_time).toBeGreaterThan(cursor);
  });

  it('rises strictly with every commit, never falls behind the clock, and gives a transaction one time across tables', async () => {
    time = 20_000;
    await one.transaction((tx) => write(tx, 's1'));
    await one.transaction((tx) => write(tx, 's2'));
    await one.transaction(async (tx) => {
      await write(tx, 's3');
      await write(tx, 'o3', 'feed_other');
    });
    time = 30_000;
    await one.transaction((tx) => write(tx, 's4'));
    const times = new Map((await feed(20_000)).map((r) => [r.id, r.change_time]));
    expect([times.get('s1'), times.get('s2'), times.get('s3'), times.get('s4')]).toEqual([20_000, 20_001, 20_002, 30_000]);
    const { rows } = await sql<{ change_time: number | string; sync_time: number | string }>`
      select change_time, sync_time from feed_other where id = 'o3'`.execute(one.kysely);
    expect(rows.map((r) => [Number(r.change_time), Number(r.sync_time)])).toEqual([[20_002, 20_002]]);
  });

  it('takes no time for a transaction that rolls back', async () => {
    time = 40_000;
    await expect(
      one.transaction(async (tx) => {
        await write(tx, 'r1');
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    await one.transaction((tx) => write(tx, 'r2'));
    expect((await feed(40_000)).map((r) => [r.id, r.change_time])).toEqual([['r2', 40_000]]);
  });
});
