// Plinth's outbox, read directly: a target that leaves events behind is followed by a wait for
// them, and the complaints are counted in the outbox as well as through the API.

import path from 'node:path';
import pg from 'pg';
import { sleep } from './config.js';

/**
 * A read-only view of Plinth's database: on SQLite the file itself (WAL lets a reader in beside
 * Plinth's writer), on PostgreSQL the bench's database. `count(sql, params)` answers `n`.
 */
export async function openOutboxProbe({ databaseUrl, dataDir }) {
  if (databaseUrl) {
    const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 3_000 });
    client.on('error', () => undefined);
    await client.connect();
    return {
      count: async (text, params = []) => Number((await client.query(text, params)).rows[0].n),
      close: () => client.end().catch(() => undefined),
    };
  }
  const { default: Sqlite } = await import('better-sqlite3');
  const db = new Sqlite(path.join(dataDir, 'plinth.db'), { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  return {
    count: async (text, params = []) => Number(db.prepare(text.replace(/\$\d+/g, '?')).get(...params).n),
    close: async () => db.close(),
  };
}

const PENDING_EVENTS = "select count(*) as n from plinth_outbox where status = 'pending'";
/** How long the bench waits for the outbox to drain after a run before it gives up (the run is then invalid). */
const DRAIN_TIMEOUT_MS = 300_000;

/** Waits until no event is pending; answers the backlog when the run stopped and the seconds it took to drain. */
export async function drainOutbox(probe) {
  const t0 = Date.now();
  const backlog = await probe.count(PENDING_EVENTS);
  let pending = backlog;
  while (pending > 0) {
    if (Date.now() - t0 > DRAIN_TIMEOUT_MS) {
      throw new Error(
        `the outbox still has ${pending} pending events ${DRAIN_TIMEOUT_MS / 1000} s after the run (${backlog} when it stopped)`,
      );
    }
    await sleep(200);
    pending = await probe.count(PENDING_EVENTS);
  }
  return { backlog, drainSeconds: (Date.now() - t0) / 1000 };
}
