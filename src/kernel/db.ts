import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql, type CompiledQuery, type DatabaseConnection, type Dialect, type Transaction } from 'kysely';
import { createRequire } from 'node:module';
import type Pg from 'pg';
import { DomainError } from './errors.js';

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

/** A unit of work: the Kysely transaction plus callbacks that run just before and once it has committed. */
export type Tx = {
  readonly kysely: Transaction<unknown>;
  afterCommit(callback: () => void): void;
  /**
   * Runs `callback` inside the transaction after its work, just before the commit (in the order
   * registered; a callback may register another). A failure rolls the transaction back.
   */
  beforeCommit(callback: () => Promise<void>): void;
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
   * Readiness: DOWN while the database does not answer, and after a write failed for a full disk
   * until a write succeeds again; with the cause, for /health/ready.
   */
  health(): Promise<DatabaseHealth>;
  /**
   * Changes made by other processes since the last call (SQLite's `data_version`); undefined for
   * PostgreSQL, where the change feed listens instead.
   */
  sqliteDataVersion(): number | undefined;
  readonly url: string;
  close(): Promise<void>;
};

export class DatabaseOpenError extends Error {}

export type OutageCode = 'DB_UNAVAILABLE' | 'DISK_FULL';
export type DatabaseHealth = { status: 'UP' } | { status: 'DOWN'; code: OutageCode; message: string; since: number };

const OUTAGE_MESSAGES: Record<OutageCode, string> = {
  DB_UNAVAILABLE: 'The database is not answering; the request changed nothing. Retry shortly',
  DISK_FULL: "The server's storage is full; the request changed nothing. Retry later",
};

/**
 * The database is away or cannot store more: a 503 (kind `unavailable`) in DIGIT's shape, never a
 * misleading 500. The driver's error stays as `cause`, so the log names the real reason.
 */
export class DatabaseOutageError extends DomainError {
  constructor(
    readonly outage: OutageCode,
    cause: unknown,
  ) {
    super('unavailable', { code: outage, message: OUTAGE_MESSAGES[outage] });
    this.name = 'DatabaseOutageError';
    this.cause = cause;
  }
}

// Connection-level SQLSTATEs: class 08 (connection exception), the server shutting down or
// starting (57P01-57P03), out of connection slots (53300).
const PG_UNAVAILABLE = /^(08...|57P0[123]|53300)$/;
const SOCKET_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
// node-postgres reports a dead socket by message only.
const PG_CONNECTION_LOST =
  /^(Connection terminated|Client has encountered a connection error|Client was closed and is not queryable|timeout exceeded when trying to connect|Connection terminated unexpectedly)/;

/** Whether `error` says the database is away or full (rather than the query being wrong). */
export function outageOf(error: unknown): OutageCode | undefined {
  if (error instanceof DatabaseOutageError) return error.outage;
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === '53100' || code === 'SQLITE_IOERR_WRITE') return 'DISK_FULL';
    if (PG_UNAVAILABLE.test(code) || SOCKET_ERRORS.has(code)) return 'DB_UNAVAILABLE';
    // The file cannot be read or written (I/O error, removed, made read-only, locked past busy_timeout).
    if (/^SQLITE_(IOERR|CANTOPEN|READONLY|BUSY)/.test(code)) return 'DB_UNAVAILABLE';
  }
  if (PG_CONNECTION_LOST.test(error.message)) return 'DB_UNAVAILABLE';
  return error.cause === undefined ? undefined : outageOf(error.cause);
}

const WRITE_KINDS = new Set(['InsertQueryNode', 'UpdateQueryNode', 'DeleteQueryNode', 'MergeQueryNode']);

/** What the guard tells its database: an outage seen, or a write that went through. */
type OutageWatch = { outage(code: OutageCode): void; wrote(): void };

/**
 * Wraps a dialect so that every failure of the database itself (connecting, a dropped connection,
 * a full disk) surfaces as a DatabaseOutageError, whatever module ran the query, and the
 * database's health follows what queries see. Driver and connection objects keep their identity
 * (their private fields): their methods are replaced on the instance.
 */
function guarded(dialect: Dialect, watch: OutageWatch, inTransaction?: () => boolean): Dialect {
  const fail = (error: unknown): never => {
    const code = outageOf(error);
    if (code === undefined) throw error;
    watch.outage(code);
    throw error instanceof DatabaseOutageError ? error : new DatabaseOutageError(code, error);
  };
  const patched = new WeakSet<DatabaseConnection>();
  const transactions = new WeakMap<DatabaseConnection, { wrote: boolean }>();
  const patch = (connection: DatabaseConnection): DatabaseConnection => {
    if (patched.has(connection)) return connection;
    patched.add(connection);
    const execute = connection.executeQuery.bind(connection);
    connection.executeQuery = async <R>(query: CompiledQuery) => {
      try {
        const result = await execute<R>(query);
        if (WRITE_KINDS.has(query.query.kind)) {
          // In a transaction the write counts once it commits.
          const open = transactions.get(connection);
          if (open) open.wrote = true;
          else watch.wrote();
        }
        return result;
      } catch (error) {
        return fail(error);
      }
    };
    return connection;
  };
  return {
    createAdapter: () => dialect.createAdapter(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createDriver() {
      const driver = dialect.createDriver();
      const acquire = driver.acquireConnection.bind(driver);
      // Not being able to connect at all is an outage, whatever the server said (e.g. a database
      // not accepting connections, SQLSTATE 55000).
      driver.acquireConnection = async () => patch(await acquire().catch((error: unknown) => fail(new DatabaseOutageError('DB_UNAVAILABLE', error))));
      const begin = driver.beginTransaction.bind(driver);
      driver.beginTransaction = async (connection, settings) => {
        await begin(connection, settings);
        transactions.set(connection, { wrote: false });
      };
      // SQLite rolls a transaction back itself on SQLITE_FULL (and other I/O errors); Kysely's
      // ROLLBACK would then fail with "no transaction is active" and hide the real cause.
      const rollback = driver.rollbackTransaction.bind(driver);
      driver.rollbackTransaction = async (connection) => {
        transactions.delete(connection);
        if (inTransaction && !inTransaction()) return;
        await rollback(connection);
      };
      const commit = driver.commitTransaction.bind(driver);
      driver.commitTransaction = async (connection) => {
        const open = transactions.get(connection);
        transactions.delete(connection);
        await commit(connection);
        if (open?.wrote) watch.wrote();
      };
      return driver;
    },
  };
}

/** Health as the queries see it; a ping settles whether the database answers. */
function outageWatch(ping: () => Promise<void>): OutageWatch & { health(): Promise<DatabaseHealth> } {
  let diskFull: { since: number; cause: OutageCode } | undefined;
  let unavailableSince: number | undefined;
  return {
    outage(code) {
      if (code === 'DISK_FULL') diskFull ??= { since: Date.now(), cause: code };
    },
    wrote() {
      diskFull = undefined;
    },
    async health() {
      try {
        await ping();
        unavailableSince = undefined;
      } catch (error) {
        const code = outageOf(error) ?? 'DB_UNAVAILABLE';
        unavailableSince ??= Date.now();
        return { status: 'DOWN', code, message: OUTAGE_MESSAGES[code], since: unavailableSince };
      }
      if (diskFull) return { status: 'DOWN', code: 'DISK_FULL', message: OUTAGE_MESSAGES.DISK_FULL, since: diskFull.since };
      return { status: 'UP' };
    },
  };
}

let pgDriver: typeof Pg | undefined;

/**
 * The PostgreSQL driver, loaded on first use: a SQLite process never needs it, and it costs memory.
 * PostgreSQL returns bigint (int8) as a string so as not to lose precision; our int8 columns hold
 * epoch milliseconds and counters, all far below 2^53.
 */
export function postgresDriver(): typeof Pg {
  if (!pgDriver) {
    pgDriver = createRequire(import.meta.url)('pg') as typeof Pg;
    pgDriver.types.setTypeParser(20, (value) => Number(value));
  }
  return pgDriver;
}

function wrapTransaction(kysely: Kysely<unknown>) {
  return async <T>(work: (tx: Tx) => Promise<T>): Promise<T> => {
    const callbacks: Array<() => void> = [];
    const result = await kysely.transaction().execute(async (trx) => {
      const before: Array<() => Promise<void>> = [];
      const value = await work({
        kysely: trx,
        afterCommit: (callback) => callbacks.push(callback),
        beforeCommit: (callback) => before.push(callback),
      });
      for (let i = 0; i < before.length; i++) await before[i]!();
      return value;
    });
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
  const ping = async () => {
    await sql`select 1`.execute(kysely);
  };
  const watch = outageWatch(ping);
  const kysely = new Kysely<unknown>({ dialect: guarded(new SqliteDialect({ database: handle }), watch, () => handle.inTransaction) });
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
    ping,
    health: watch.health,
    sqliteDataVersion: () => handle.pragma('data_version', { simple: true }) as number,
    close: () => kysely.destroy(),
  };
}

export function openPostgres(url: string, poolSize = 10): Database {
  const pool = new (postgresDriver().Pool)({ connectionString: url, max: poolSize, connectionTimeoutMillis: 10_000 });
  // A client that loses its connection (the server restarted, a failover, pg_terminate_backend, an
  // idle timeout) emits 'error'. Idle in the pool, the pool hears it and drops the client; checked
  // out (in a transaction, holding the dispatch lock), the pool has removed its own listener, and
  // an 'error' without a listener would end the process. Every client gets one for its whole life:
  // the query in flight fails on its own (a DatabaseOutageError, 503), and the pool discards the
  // broken client when it is released.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  const ping = async () => {
    await sql`select 1`.execute(kysely);
  };
  const watch = outageWatch(ping);
  const kysely = new Kysely<unknown>({ dialect: guarded(new PostgresDialect({ pool }), watch) });
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
    ping,
    health: watch.health,
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
