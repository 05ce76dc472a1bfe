import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql, type Transaction } from 'kysely';
import pg from 'pg';

export type DialectName = 'sqlite' | 'postgres';

/** Column types that differ between the two engines; migrations use these instead of raw names. */
export type ColumnTypes = {
  /** jsonb in PostgreSQL, text in SQLite. */
  readonly json: 'jsonb' | 'text';
  /** boolean in PostgreSQL, integer 0/1 in SQLite. */
  readonly bool: 'boolean' | 'integer';
  /** Epoch milliseconds and other 64-bit integers. */
  readonly bigint: 'bigint' | 'integer';
  /** An auto-incrementing 64-bit primary key (DIGIT's numeric user ids). */
  readonly serial: 'bigserial' | 'integer';
};

/** A unit of work: the Kysely transaction plus callbacks that run only once it has committed. */
export type Tx = {
  readonly kysely: Transaction<unknown>;
  afterCommit(callback: () => void): void;
};

export type Database = {
  readonly dialect: DialectName;
  readonly kysely: Kysely<unknown>;
  readonly types: ColumnTypes;
  /** Runs `work` in one transaction; commit-time callbacks fire after a successful commit. */
  transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T>;
  /** Encodes a value for a json column. */
  toJson(value: unknown): unknown;
  /** Decodes a json column (PostgreSQL hands back objects, SQLite hands back text). */
  fromJson<T>(value: unknown): T;
  toBool(value: boolean): boolean | number;
  fromBool(value: unknown): boolean;
  /** Cheap round trip for readiness checks. */
  ping(): Promise<void>;
  /**
   * Changes made by other processes since the last call (SQLite's `data_version`); undefined for
   * PostgreSQL, where the change feed listens instead.
   */
  sqliteDataVersion(): number | undefined;
  readonly url: string;
  close(): Promise<void>;
};

export class DatabaseOpenError extends Error {}

// PostgreSQL returns bigint (int8) as a string so as not to lose precision; our int8 columns hold
// epoch milliseconds and counters, all far below 2^53.
pg.types.setTypeParser(20, (value) => Number(value));

function wrapTransaction(kysely: Kysely<unknown>) {
  return async <T>(work: (tx: Tx) => Promise<T>): Promise<T> => {
    const callbacks: Array<() => void> = [];
    const result = await kysely.transaction().execute((trx) =>
      work({ kysely: trx, afterCommit: (callback) => callbacks.push(callback) }),
    );
    for (const callback of callbacks) callback();
    return result;
  };
}

export function openSqlite(file: string): Database {
  let handle: SqliteDatabase.Database;
  try {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
    handle = new SqliteDatabase(file);
    handle.pragma('journal_mode = WAL');
    // FULL: a commit is on disk before we answer 2xx, even if the machine loses power.
    handle.pragma('synchronous = FULL');
    handle.pragma('busy_timeout = 5000');
    handle.pragma('foreign_keys = ON');
  } catch (error) {
    throw new DatabaseOpenError(`cannot open the SQLite database at ${file}: ${(error as Error).message}`);
  }
  const kysely = new Kysely<unknown>({ dialect: new SqliteDialect({ database: handle }) });
  return {
    dialect: 'sqlite',
    kysely,
    url: `sqlite:${file}`,
    types: { json: 'text', bool: 'integer', bigint: 'integer', serial: 'integer' },
    transaction: wrapTransaction(kysely),
    toJson: (value) => JSON.stringify(value),
    fromJson: <T>(value: unknown) => (typeof value === 'string' ? (JSON.parse(value) as T) : (value as T)),
    toBool: (value) => (value ? 1 : 0),
    fromBool: (value) => value === 1 || value === true,
    ping: async () => {
      await sql`select 1`.execute(kysely);
    },
    sqliteDataVersion: () => handle.pragma('data_version', { simple: true }) as number,
    close: () => kysely.destroy(),
  };
}

export function openPostgres(url: string, poolSize = 10): Database {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: 10_000 });
  // An idle client that loses its connection must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  const kysely = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  return {
    dialect: 'postgres',
    kysely,
    url,
    types: { json: 'jsonb', bool: 'boolean', bigint: 'bigint', serial: 'bigserial' },
    transaction: wrapTransaction(kysely),
    toJson: (value) => JSON.stringify(value),
    fromJson: <T>(value: unknown) => value as T,
    toBool: (value) => value,
    fromBool: (value) => value === true,
    ping: async () => {
      await sql`select 1`.execute(kysely);
    },
    sqliteDataVersion: () => undefined,
    close: () => kysely.destroy(),
  };
}

/** `DATABASE_URL` if set, else SQLite at `<dataDir>/plinth.db`. */
export function openDatabase(options: { databaseUrl: string | undefined; dataDir: string }): Database {
  return options.databaseUrl ? openPostgres(options.databaseUrl) : openSqlite(path.join(options.dataDir, 'plinth.db'));
}

/** Opens and checks the connection, so a start fails with a clear message instead of on the first request. */
export async function connectDatabase(options: { databaseUrl: string | undefined; dataDir: string }): Promise<Database> {
  const database = openDatabase(options);
  try {
    await database.ping();
  } catch (error) {
    await database.close().catch(() => undefined);
    const where = options.databaseUrl ? redactUrl(options.databaseUrl) : path.join(options.dataDir, 'plinth.db');
    throw new DatabaseOpenError(`cannot connect to the database at ${where}: ${(error as Error).message}`);
  }
  return database;
}

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable url)';
  }
}
