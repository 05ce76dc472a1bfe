import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, testDatabase, type TestDatabase } from '../../test/helpers.js';
import { createChangeFeed, type ChangeFeed } from './changes.js';
import { connectDatabase, type Database } from './db.js';

/**
 * Issue #14, finding 6: the change feed's LISTEN connection, lost while the database is away for
 * longer than one retry, listens again once it is back (it used to try once and give up, leaving
 * every cache of the process stale for good). PostgreSQL only.
 */
describe.skipIf(process.env['PLINTH_TEST_DB'] !== 'postgres')('the change feed when PostgreSQL goes away', () => {
  let db: TestDatabase;
  let listener: Database;
  let writer: Database;
  let feed: ChangeFeed;
  let admin: pg.Client;
  let name = '';

  beforeAll(async () => {
    db = await testDatabase();
    name = new URL(db.config.databaseUrl!).pathname.slice(1);
    listener = await connectDatabase(db.config);
    writer = await connectDatabase(db.config);
    feed = createChangeFeed(listener);
    await feed.start();
    const server = new URL(db.config.databaseUrl!);
    server.pathname = '/postgres';
    admin = new pg.Client({ connectionString: server.toString() });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`).catch(() => undefined);
    await feed?.stop();
    await admin?.end();
    await listener?.close();
    await writer?.close();
    await db?.drop();
  });

  it('drops every cache when the connection is lost, and hears changes again once the database is back', async () => {
    const heard: string[] = [];
    feed.subscribe('topic-a', (topic) => heard.push(topic));
    const publish = () => writer.transaction((tx) => feed.publish(tx, 'topic-a'));

    await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
    // Lost: '*' (anything may have changed) reaches every subscriber.
    await eventually(async () => heard.length > 0, 5_000, "the '*' of a lost connection");
    expect(heard[0]).toBe('*');
    // Away for several retries.
    await new Promise((r) => setTimeout(r, 3_500));
    await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);

    await eventually(
      async () => {
        heard.length = 0;
        await publish();
        await new Promise((r) => setTimeout(r, 200));
        // Heard over LISTEN from the other connection's NOTIFY (the after-commit callback is this feed's too).
        return heard.filter((topic) => topic === 'topic-a').length >= 2;
      },
      15_000,
      'a NOTIFY heard after the database came back',
    );
  });
});
