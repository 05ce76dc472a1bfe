import { sql } from 'kysely';
import type pg from 'pg';
import { postgresDriver, type Database, type Tx } from './db.js';

/**
 * Tells every process sharing the database that some data changed, so in-memory caches can drop
 * what they hold. PostgreSQL: NOTIFY inside the writing transaction (delivered on commit) and a
 * LISTEN connection. SQLite: after-commit callbacks in this process, and `data_version` polling to
 * notice writes by another process (e.g. `plinth seed` run beside a live server).
 */
export type ChangeFeed = {
  /** Announces, once `tx` commits, that data under `topic` changed. */
  publish(tx: Tx, topic: string): Promise<void>;
  /** `callback` gets the topic; `'*'` means "anything may have changed". */
  subscribe(topic: string, callback: (topic: string) => void): () => void;
  start(): Promise<void>;
  stop(): Promise<void>;
};

const CHANNEL = 'plinth_changes';

export function createChangeFeed(database: Database, options: { pollIntervalMs?: number | undefined } = {}): ChangeFeed {
  const listeners = new Map<string, Set<(topic: string) => void>>();
  let pollTimer: NodeJS.Timeout | undefined;
  let listenClient: pg.Client | undefined;
  let stopped = false;
  let retryTimer: NodeJS.Timeout | undefined;

  function emit(topic: string) {
    const targets = topic === '*' ? [...listeners.values()] : [listeners.get(topic)];
    for (const set of targets) for (const callback of set ?? []) callback(topic);
  }

  async function listen(): Promise<void> {
    if (stopped) return;
    const client = new (postgresDriver().Client)({ connectionString: database.url });
    client.on('notification', (message) => emit(message.payload ?? '*'));
    client.on('error', () => {
      // Lost the connection: notifications may have been missed, so drop every cache, then listen again.
      if (listenClient !== client) return;
      listenClient = undefined;
      client.end().catch(() => undefined);
      emit('*');
      relisten();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    if (stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    listenClient = client;
  }

  /** Tries again every second until the database is back (it may be away for long). */
  function relisten(): void {
    if (stopped) return;
    retryTimer = setTimeout(() => {
      listen()
        .then(() => emit('*'))
        .catch(() => relisten());
    }, 1000);
    retryTimer.unref();
  }

  return {
    async publish(tx, topic) {
      if (database.dialect === 'postgres') {
        await sql`select pg_notify(${CHANNEL}, ${topic})`.execute(tx.kysely);
      }
      tx.afterCommit(() => emit(topic));
    },
    subscribe(topic, callback) {
      let set = listeners.get(topic);
      if (!set) listeners.set(topic, (set = new Set()));
      set.add(callback);
      return () => set.delete(callback);
    },
    async start() {
      stopped = false;
      if (database.dialect === 'postgres') {
        await listen();
        return;
      }
      let version = database.sqliteDataVersion();
      pollTimer = setInterval(() => {
        let current: number | undefined;
        try {
          current = database.sqliteDataVersion();
        } catch {
          // The file cannot be read just now (an I/O error): a timer that throws would end the
          // process; the next tick asks again.
          return;
        }
        if (current !== version) {
          version = current;
          emit('*');
        }
      }, options.pollIntervalMs ?? 1000);
      pollTimer.unref();
    },
    async stop() {
      stopped = true;
      clearInterval(pollTimer);
      clearTimeout(retryTimer);
      await listenClient?.end().catch(() => undefined);
      listenClient = undefined;
    },
  };
}
