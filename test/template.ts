// The demo state built once per engine for the whole test run, and copied for each test file.
//
// A first start (all migrations, the whole seed/, the administrator, and delivering the ~1,250
// events the seed appends) costs every test file seconds of CPU on each engine. global-setup.ts
// does it once per project; testPlatform() then gives each file its own copy: the SQLite file
// (with master.key and the rest of DATA_DIR, so the sealed keys open) copied into the file's
// DATA_DIR, or a PostgreSQL database made with CREATE DATABASE … TEMPLATE (a file copy).
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { loadConfig, type Config } from '../src/kernel/config.js';
import type { SeededLogin } from '../src/kernel/module.js';
import { createPlatform } from '../src/platform.js';

export const SEED_DIR = path.resolve('seed');
export const ADMIN_PASSWORD = 'Admin@2026x';

/** What global-setup.ts hands the test files (through vitest's provide/inject). */
export type DemoTemplate = {
  /** A DATA_DIR holding the migrated and seeded SQLite database, master.key and the rest. */
  readonly dataDir: string;
  /** PostgreSQL: the database to copy with CREATE DATABASE … TEMPLATE. */
  readonly postgresDatabase: string | undefined;
  /** The demo employees' one-time passwords, as the first start answered them. */
  readonly seededLogins: readonly SeededLogin[];
};

declare module 'vitest' {
  interface ProvidedContext {
    plinthDemoTemplate: DemoTemplate | undefined;
  }
}

/** The configuration every test platform starts from (before a test's overrides). */
export function baseConfig(dataDir: string): Config {
  return loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', PLINTH_SEED_DIR: SEED_DIR, PLINTH_ADMIN_PASSWORD: ADMIN_PASSWORD });
}

/** `serverUrl` with another database name. */
export function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function adminQuery(serverUrl: string, query: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(query);
  } finally {
    await client.end();
  }
}

/**
 * The first start, exactly as `plinth start` does it (createPlatform with seedOnFirstStart, then
 * bootstrapAdmin), and the seed's events delivered; nothing is started, so no background work
 * (signing keys, sweeps) leaves traces a test's own start would not.
 */
export async function buildDemoTemplate(engine: 'sqlite' | 'postgres', serverUrl: string | undefined): Promise<DemoTemplate> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), `plinth-template-${engine}-`));
  let postgresDatabase: string | undefined;
  let config = baseConfig(dataDir);
  if (engine === 'postgres') {
    if (!serverUrl) throw new Error('the postgres project needs TEST_DATABASE_URL');
    postgresDatabase = `plinth_tpl_${randomBytes(6).toString('hex')}`;
    await adminQuery(serverUrl, `CREATE DATABASE ${postgresDatabase}`);
    config = { ...config, databaseUrl: databaseUrl(serverUrl, postgresDatabase) };
  }
  const platform = await createPlatform(config, { seedOnFirstStart: true });
  let seededLogins: SeededLogin[];
  try {
    await platform.bootstrapAdmin();
    seededLogins = platform.takeSeededLogins();
    await platform.dispatcher.settle({ timeoutMs: 300_000 });
    // Everything in the main database file, so copying plinth.db alone is the whole state.
    if (engine === 'sqlite') await sql`pragma wal_checkpoint(truncate)`.execute(platform.database.kysely);
  } finally {
    await platform.stop();
  }
  return { dataDir, postgresDatabase, seededLogins };
}

export async function dropDemoTemplate(template: DemoTemplate, serverUrl: string | undefined): Promise<void> {
  if (template.postgresDatabase && serverUrl) await adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${template.postgresDatabase} WITH (FORCE)`);
  await fs.rm(template.dataDir, { recursive: true, force: true });
}

/** Copies the template into `dataDir` (SQLite, and the keys for both engines), or into database `name`. */
export async function copyDemoTemplate(template: DemoTemplate, dataDir: string, postgres?: { serverUrl: string; name: string }) {
  await fs.cp(template.dataDir, dataDir, { recursive: true, force: true });
  if (postgres) {
    if (!template.postgresDatabase) throw new Error('the demo template has no PostgreSQL database');
    await fs.rm(path.join(dataDir, 'plinth.db'), { force: true });
    await adminQuery(postgres.serverUrl, `CREATE DATABASE ${postgres.name} TEMPLATE ${template.postgresDatabase}`);
  }
}
