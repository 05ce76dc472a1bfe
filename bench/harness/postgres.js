// PostgreSQL: the server is probed once; every suite that runs on it gets a fresh database
// `plinth_bench_<timestamp>_<pid>`, dropped afterwards (also on error and on SIGINT/SIGTERM/SIGHUP,
// see run.js). When the server does not answer, a note says so and those runs are skipped.

import pg from 'pg';
import { CONFIG, notes, say } from './config.js';

/** The database this run created, while it exists: { adminUrl, name }. */
let benchDatabase;
let probed;

export const redact = (url) => {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
};

export async function withPostgres(url, work) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Connects to the server; answers its version and durability settings, or throws. */
async function probePostgres(url) {
  return withPostgres(url, async (client) => {
    const setting = async (name) => (await client.query(`select current_setting('${name}') as v`)).rows[0].v;
    return {
      version: await setting('server_version'),
      fsync: await setting('fsync'),
      synchronousCommit: await setting('synchronous_commit'),
      walSyncMethod: await setting('wal_sync_method'),
    };
  });
}

/**
 * The PostgreSQL server (version and durability settings), probed on first call; undefined, with a
 * note, when it is not among BENCH_DATABASES or does not answer.
 */
export async function postgresServer() {
  if (!CONFIG.databases.includes('postgres')) return undefined;
  probed ??= probePostgres(CONFIG.databaseUrl).catch((error) => {
    const line = `PostgreSQL SKIPPED: ${redact(CONFIG.databaseUrl)} is not reachable (${error.message}); set BENCH_DATABASE_URL to a server the bench may create databases on`;
    say(`bench: ${line}`);
    notes.push(line);
    return undefined;
  });
  return probed;
}

async function createBenchDatabase(adminUrl) {
  const name = `plinth_bench_${Date.now()}_${process.pid}`;
  await withPostgres(adminUrl, (client) => client.query(`CREATE DATABASE "${name}"`));
  benchDatabase = { adminUrl, name };
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { name, url: url.toString() };
}

let dropping;
/** Drops the bench's database if it exists (WITH (FORCE): a killed Plinth may leave backends behind); one drop at a time. */
export function dropBenchDatabase() {
  dropping ??= dropNow().finally(() => {
    dropping = undefined;
  });
  return dropping;
}

async function dropNow() {
  if (!benchDatabase) return;
  const { adminUrl, name } = benchDatabase;
  await withPostgres(adminUrl, async (client) => {
    try {
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    } catch (error) {
      if (error.code !== '42601') throw error; // before PostgreSQL 13: no FORCE
      await client.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [name]);
      await client.query(`DROP DATABASE IF EXISTS "${name}"`);
    }
  });
  benchDatabase = undefined;
  say(`bench: dropped the PostgreSQL database ${name}`);
}

/**
 * Runs `work({ db, label, databaseUrl, isPostgres })` once per database of BENCH_DATABASES, in that
 * order: SQLite with `databaseUrl` undefined, PostgreSQL (when it answers) on a fresh database
 * dropped afterwards. Answers the results in the same order.
 */
export async function forEachDatabase(work) {
  const results = [];
  for (const db of CONFIG.databases) {
    if (db === 'sqlite') {
      results.push(await work({ db, label: 'SQLite', databaseUrl: undefined, isPostgres: false }));
      continue;
    }
    const server = await postgresServer();
    if (!server) continue;
    const created = await createBenchDatabase(CONFIG.databaseUrl);
    say(
      `bench: PostgreSQL ${server.version} at ${redact(CONFIG.databaseUrl)} (fsync ${server.fsync}, synchronous_commit ` +
        `${server.synchronousCommit}, wal_sync_method ${server.walSyncMethod}): created database ${created.name}`,
    );
    try {
      results.push(await work({ db, label: `PostgreSQL ${server.version.split(' ')[0]}`, databaseUrl: created.url, isPostgres: true }));
    } finally {
      await dropBenchDatabase();
    }
  }
  return results;
}
