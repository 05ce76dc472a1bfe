import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabase, type TestDatabase } from '../../../test/helpers.js';
import { createChangeFeed, type ChangeFeed } from '../../kernel/changes.js';
import { systemClock } from '../../kernel/clock.js';
import { ConfigError, type Config } from '../../kernel/config.js';
import { connectDatabase, type Database } from '../../kernel/db.js';
import { DomainError } from '../../kernel/errors.js';
import { createDispatcher, createOutbox, eventMigrations, type Dispatcher } from '../../kernel/events.js';
import { migrate } from '../../kernel/migrator.js';
import type { AuditApi } from '../audit/index.js';
import { keyIdOf } from './encryption.keys.js';
import type { CryptoService } from './encryption.service.js';
import type { EncryptionTables } from './encryption.store.js';
import { encryptionModule, KEY_ROTATED, type ReencryptionJob } from './index.js';

/** One "process": its own connection, change feed, dispatcher and module instance, on a shared database. */
type Process = {
  service: CryptoService;
  database: Database;
  dispatcher: Dispatcher;
  changes: ChangeFeed;
  logs: string[];
  close(): Promise<void>;
};

const processes: Process[] = [];

async function startProcess(config: Config, shared?: Database): Promise<Process> {
  const database = shared ?? (await connectDatabase(config));
  await migrate(database, [
    { module: 'kernel', migrations: eventMigrations },
    { module: encryptionModule.name, migrations: encryptionModule.migrations },
  ]);
  const changes = createChangeFeed(database, { pollIntervalMs: 20 });
  await changes.start();
  const dispatcher = createDispatcher(database, systemClock, { backoffMs: () => 0 });
  const outbox = createOutbox(database, systemClock, () => undefined);
  const logs: string[] = [];
  const record = (...args: unknown[]) => void logs.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
  const logger = {
    info: record,
    warn: record,
    error: record,
    debug: () => undefined,
    trace: () => undefined,
    fatal: record,
    level: 'info',
  };
  const instance = encryptionModule.create(
    {
      config,
      database,
      clock: systemClock,
      outbox,
      dispatcher,
      changes,
      logger: { ...logger, child: () => logger } as unknown as FastifyBaseLogger,
    },
    { audit: { log: { appendInTx: async () => ({}) } } as unknown as AuditApi },
  );
  const service = instance.api.service as CryptoService;
  const started = {
    service,
    database,
    dispatcher,
    changes,
    logs,
    async close() {
      await instance.stop?.();
      await dispatcher.stop();
      await changes.stop();
      if (!shared) await database.close();
    },
  };
  processes.push(started);
  return started;
}

function codeOf(work: () => unknown): string | undefined {
  try {
    work();
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
  return undefined;
}

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('the condition did not become true within 10 s');
}

let db: TestDatabase;
let a: Process;
let b: Process;
const keyRows = (database: Database) =>
  (database.kysely.withTables<EncryptionTables>() as unknown as Kysely<EncryptionTables>).selectFrom('encryption_key');

beforeAll(async () => {
  db = await testDatabase();
  a = await startProcess(db.config);
  b = await startProcess(db.config);
  await a.service.ready();
  await b.service.ready();
});
afterAll(async () => {
  for (const p of processes) await p.close().catch(() => undefined);
  await db.drop();
});

describe('the master key', () => {
  it('is created in the data directory on first use, readable by its owner only, and reused by the next process', async () => {
    const file = path.join(db.config.dataDir, 'master.key');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64')).toHaveLength(32);
    expect(
      a.logs.some((line) => line.includes('generated a new master key')) !==
        b.logs.some((line) => line.includes('generated a new master key')),
    ).toBe(true);
    const sealed = (await a.service.forTenant('pb')).encrypt('reused');
    const later = await startProcess(db.config);
    expect((await later.service.forTenant('pb')).decrypt(sealed)).toBe('reused');
    expect(later.logs.some((line) => line.includes('generated'))).toBe(false);
  });

  it('refuses to start with another key than the one the database was set up with, naming the variable', async () => {
    const other = await startProcess({ ...db.config, masterKey: randomBytes(32).toString('base64') });
    const refusal = await other.service.ready().catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ConfigError);
    expect((refusal as ConfigError).variable).toBe('PLINTH_MASTER_KEY');
    expect(String((refusal as Error).message)).toMatch(/PLINTH_MASTER_KEY_FILE/);
    await expect(other.service.forTenant('pb')).rejects.toBeInstanceOf(ConfigError);

    const wrongFile = path.join(db.config.dataDir, 'other.key');
    fs.writeFileSync(wrongFile, randomBytes(32).toString('base64'), { mode: 0o600 });
    const fromFile = await startProcess({ ...db.config, masterKeyFile: wrongFile });
    await expect(fromFile.service.ready()).rejects.toMatchObject({ variable: 'PLINTH_MASTER_KEY_FILE' });

    const missing = await startProcess({ ...db.config, masterKeyFile: path.join(db.config.dataDir, 'missing.key') });
    await expect(missing.service.ready()).rejects.toMatchObject({ variable: 'PLINTH_MASTER_KEY_FILE', message: /cannot read/ });
    expect(fs.existsSync(path.join(db.config.dataDir, 'missing.key'))).toBe(false);

    // The right key given through the environment is accepted.
    const same = await startProcess({
      ...db.config,
      masterKey: fs.readFileSync(path.join(db.config.dataDir, 'master.key'), 'utf8').trim(),
    });
    await expect(same.service.ready()).resolves.toBeUndefined();
  });

  it('refuses a key file that does not hold 32 bytes in base64', async () => {
    const bad = path.join(db.config.dataDir, 'short.key');
    fs.writeFileSync(bad, 'c2hvcnQ=', { mode: 0o600 });
    const p = await startProcess({ ...db.config, masterKeyFile: bad });
    await expect(p.service.ready()).rejects.toMatchObject({ variable: 'PLINTH_MASTER_KEY_FILE', message: /32 random bytes/ });
  });
});

describe('tenant keys', () => {
  it('belong to the state: a city uses its state’s keys, other states have their own', async () => {
    const city = await a.service.forTenant('pb.amritsar');
    const state = await b.service.forTenant('pb');
    expect(city.tenantId).toBe('pb');
    expect(state.decrypt(city.encrypt('Amritsar resident'))).toBe('Amritsar resident');
    const mz = await a.service.forTenant('mz.chimoio');
    expect(mz.tenantId).toBe('mz');
    expect(codeOf(() => mz.decrypt(city.encrypt('x')))).toBe('UNKNOWN_KEY');
    expect(mz.blindIndex('mobileNumber', '9876543210')).not.toBe(city.blindIndex('mobileNumber', '9876543210'));
    expect(Buffer.from(mz.derivedKey('dedup'))).not.toEqual(Buffer.from(city.derivedKey('dedup')));
  });

  it('refuses a tenant id that is not one', async () => {
    await expect(a.service.forTenant('PB!')).rejects.toMatchObject({ kind: 'invalid', code: 'INVALID_TENANT_ID' });
  });

  it('are created once when two processes ask for a new state at the same moment', async () => {
    // PostgreSQL: two connection pools. SQLite: two service instances on one connection, because two
    // connections in one thread would block each other's synchronous lock wait (processes do not).
    const racer = process.env['PLINTH_TEST_DB'] === 'postgres' ? b : await startProcess(db.config, a.database);
    for (const tenant of ['r1', 'r2', 'r3', 'r4', 'r5']) {
      const [x, y] = await Promise.all([a.service.forTenant(tenant), racer.service.forTenant(`${tenant}.city`)]);
      const rows = await keyRows(a.database).select(['key_id', 'kind']).where('tenant_id', '=', tenant).execute();
      expect(rows.map((r) => r.kind).sort()).toEqual(['data', 'index', 'signing']);
      expect(y.decrypt(x.encrypt('same keys'))).toBe('same keys');
      expect(x.blindIndex('p', 'v')).toBe(y.blindIndex('p', 'v'));
    }
  });

  it('store no key material in the clear', async () => {
    const keys = await a.service.forTenant('pb');
    const rows = await keyRows(a.database).selectAll().where('tenant_id', '=', 'pb').execute();
    const index = Buffer.from(keys.derivedKey('x')).toString('base64');
    for (const row of rows) {
      expect(row.wrapped_key).not.toContain(index);
      // 12 IV + 32 or 48 (PKCS#8 Ed25519) + 16 tag.
      expect([60, 76]).toContain(Buffer.from(row.wrapped_key, 'base64').length);
    }
  });
});

describe('rotation', () => {
  it('makes a new key current; old ciphertexts and signatures still open; blind indexes and derived keys stay', async () => {
    const before = await a.service.forTenant('pb');
    const old = before.encrypt('Gurpreet Kaur');
    const oldSignature = (await a.service.sign('pb', 'payload')).signature;
    const { keyId } = await a.service.rotateKey('pb.amritsar');
    expect(keyId).not.toBe(keyIdOf(old));
    const after = await a.service.forTenant('pb');
    expect(after.isCurrent(old)).toBe(false);
    expect(keyIdOf(after.encrypt('x'))).toBe(keyId);
    expect(after.isCurrent(after.encrypt('x'))).toBe(true);
    expect(after.decrypt(old)).toBe('Gurpreet Kaur');
    expect(after.blindIndex('mobileNumber', '9876543210')).toBe(before.blindIndex('mobileNumber', '9876543210'));
    expect(Buffer.from(after.derivedKey('dedup:p1'))).toEqual(Buffer.from(before.derivedKey('dedup:p1')));
    const newSignature = (await a.service.sign('pb', 'payload')).signature;
    expect(keyIdOf(newSignature)).not.toBe(keyIdOf(oldSignature));
    expect(await b.service.verify('payload', oldSignature)).toBe(true);
    expect(await b.service.verify('payload', newSignature)).toBe(true);
    expect(await b.service.verify('payload!', newSignature)).toBe(false);
    expect(await b.service.verify('payload', 'nobody:sign:1|' + newSignature.split('|')[1])).toBe(false);
    await expect(b.service.verify('payload', 'garbage')).rejects.toMatchObject({ code: 'MALFORMED_SIGNATURE' });

    const ids = (await keyRows(a.database).select('key_id').execute()).map((r) => r.key_id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).not.toContain('|');
  });

  it('reaches another process through the change feed', async () => {
    const seen = await b.service.forTenant('pb');
    const sealed = seen.encrypt('before');
    const { keyId } = await a.service.rotateKey('pb');
    const fresh = await eventually(
      () => b.service.forTenant('pb'),
      (keys) => keyIdOf(keys.encrypt('x')) === keyId,
    );
    expect(fresh.decrypt(sealed)).toBe('before');
    // A ciphertext under the new key decrypts in b even before it notices (the lookup by key id reloads).
    expect((await b.service.keysOfKeyId(keyId))?.decrypt((await a.service.forTenant('pb')).encrypt('new'))).toBe('new');
  });

  it('announces itself with an outbox event that carries key ids only', async () => {
    const { keyId } = await a.service.rotateKey('pb');
    type Outbox = { plinth_outbox: { type: string; subject: string; data: unknown } };
    const events = await (a.database.kysely.withTables<Outbox>() as unknown as Kysely<Outbox>)
      .selectFrom('plinth_outbox')
      .select(['subject', 'data'])
      .where('type', '=', KEY_ROTATED)
      .execute();
    const data = events.map((e) => a.database.fromJson<Record<string, string>>(e.data));
    const mine = data.find((d) => d['keyId'] === keyId)!;
    expect(Object.keys(mine).sort()).toEqual(['keyId', 'previousKeyId', 'signingKeyId', 'tenantId']);
    expect(mine['tenantId']).toBe('pb');
  });
});

describe('re-encryption', () => {
  type Records = { enc_test_record: { id: string; tenant_id: string; value: string } };
  let records: () => Kysely<Records>;
  const calls = new Map<string, number>();
  let failOnCall: number | undefined;

  /** A registry's job as the brief has it: a batch of rows not under the current key, rewritten in the caller's transaction. */
  const job: ReencryptionJob = async (keys, tx) => {
    const call = (calls.get(keys.tenantId) ?? 0) + 1;
    calls.set(keys.tenantId, call);
    if (call === failOnCall) throw new Error('the process died here');
    const current = keyIdOf(keys.encrypt('probe'))!;
    const db = tx.kysely.withTables<Records>() as unknown as Kysely<Records>;
    const rows = await db
      .selectFrom('enc_test_record')
      .selectAll()
      .where('tenant_id', '=', keys.tenantId)
      .where('value', 'not like', `${current}|%`)
      .orderBy('id')
      .limit(3)
      .execute();
    for (const row of rows)
      await db
        .updateTable('enc_test_record')
        .set({ value: keys.encrypt(keys.decrypt(row.value)) })
        .where('id', '=', row.id)
        .execute();
    return rows.length;
  };

  beforeAll(async () => {
    records = () => a.database.kysely.withTables<Records>() as unknown as Kysely<Records>;
    await records()
      .schema.createTable('enc_test_record')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .execute();
    a.service.registerReencryption('test-records', job);
    expect(() => a.service.registerReencryption('test-records', job)).toThrow(/already registered/);
  });

  async function fill(tenantId: string, n: number) {
    const keys = await a.service.forTenant(tenantId);
    const rows = Array.from({ length: n }, (_, i) => ({
      id: `${tenantId}-${String(i).padStart(3, '0')}`,
      tenant_id: tenantId,
      value: keys.encrypt(`person ${i}`),
    }));
    await records().insertInto('enc_test_record').values(rows).execute();
  }

  async function stateOf(tenantId: string) {
    const keys = await a.service.forTenant(tenantId);
    const rows = await records().selectFrom('enc_test_record').selectAll().where('tenant_id', '=', tenantId).orderBy('id').execute();
    return { current: rows.filter((r) => keys.isCurrent(r.value)).length, plain: rows.map((r) => keys.decrypt(r.value)) };
  }

  it('runs from the rotation event and moves every record, batch by batch, to the new key', async () => {
    await fill('rx', 7);
    await a.service.rotateKey('rx');
    expect((await stateOf('rx')).current).toBe(0);
    await a.dispatcher.deliverPending();
    const after = await stateOf('rx');
    expect(after.current).toBe(7);
    expect(after.plain).toEqual(Array.from({ length: 7 }, (_, i) => `person ${i}`));
    expect(calls.get('rx')).toBe(4); // 3 + 3 + 1, then the call that finds nothing
    expect(await a.service.reencrypt('rx')).toEqual({ 'test-records': 0, outbox: 0 });
    expect(a.logs.some((line) => line.includes('re-encryption done'))).toBe(true);
  });

  it('resumes after a crash in the middle: the event is delivered again and what was committed stays', async () => {
    await fill('ry', 8);
    failOnCall = 2;
    await a.service.rotateKey('ry');
    await a.dispatcher.deliverPending();
    expect((await stateOf('ry')).current).toBe(3); // the first batch committed, then the job died
    failOnCall = undefined;
    await a.dispatcher.deliverPending();
    const after = await stateOf('ry');
    expect(after.current).toBe(8);
    expect(after.plain).toEqual(Array.from({ length: 8 }, (_, i) => `person ${i}`));
  });
});
