import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabase, type TestDatabase } from '../../../test/helpers.js';
import { createChangeFeed, type ChangeFeed } from '../../kernel/changes.js';
import { systemClock } from '../../kernel/clock.js';
import { connectDatabase, type Database } from '../../kernel/db.js';
import { createDispatcher, createOutbox, eventMigrations, type Dispatcher } from '../../kernel/events.js';
import { migrate } from '../../kernel/migrator.js';
import type { AuditApi } from '../audit/index.js';
import { keyIdOf } from './encryption.keys.js';
import { resealBatch } from './encryption.reseal.js';
import type { CryptoService } from './encryption.service.js';
import { encryptionModule } from './index.js';

/**
 * The shared re-sealing of registered tables after a rotation (#14 Build 4): a table with a text
 * and a JSON column, rows of two states, values in clear, damaged and nested.
 */

type Row = { id: string; tenant_id: string; secret: string | null; doc: unknown };
type Tables = { reseal_test: Row };

let db: TestDatabase;
let database: Database;
let changes: ChangeFeed;
let dispatcher: Dispatcher;
let service: CryptoService;
const warnings: string[] = [];
const table = () => database.kysely.withTables<Tables>() as unknown as Kysely<Tables>;

beforeAll(async () => {
  db = await testDatabase();
  database = await connectDatabase(db.config);
  await migrate(database, [
    { module: 'kernel', migrations: eventMigrations },
    { module: encryptionModule.name, migrations: encryptionModule.migrations },
  ]);
  changes = createChangeFeed(database, { pollIntervalMs: 20 });
  dispatcher = createDispatcher(database, systemClock, { backoffMs: () => 0 });
  const quiet = () => undefined;
  const logger = {
    info: quiet,
    debug: quiet,
    trace: quiet,
    error: quiet,
    fatal: quiet,
    warn: (...args: unknown[]) => void warnings.push(JSON.stringify(args)),
    level: 'info',
  };
  const instance = encryptionModule.create(
    {
      config: db.config,
      database,
      clock: systemClock,
      outbox: createOutbox(database, systemClock, quiet),
      dispatcher,
      changes,
      logger: { ...logger, child: () => logger } as unknown as FastifyBaseLogger,
    },
    { audit: { log: { appendInTx: async () => ({}) } } as unknown as AuditApi },
  );
  service = instance.api.service as CryptoService;
  await table()
    .schema.createTable('reseal_test')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('secret', 'text')
    .addColumn('doc', database.types.json)
    .execute();
  service.registerSealedTable({ name: 'reseal', table: 'reseal_test', id: 'id', text: ['secret'], json: ['doc'] });
});
afterAll(async () => {
  await dispatcher.stop();
  await changes.stop();
  await database.close();
  await db.drop();
});

/** 250 rows of `pb` (more than one batch) and 3 of `rz`, each with a text and a nested JSON ciphertext. */
async function fill(): Promise<void> {
  const pb = await service.forTenant('pb.amritsar');
  const rz = await service.forTenant('rz');
  const rows: Row[] = Array.from({ length: 250 }, (_, i) => {
    const id = `r${String(i).padStart(4, '0')}`;
    return {
      id,
      tenant_id: 'pb.amritsar',
      secret: pb.encrypt(`name ${i}`),
      doc: database.toJson({ kept: 'plain', $sealed: pb.encrypt(`{"mobile":"98${i}"}`), list: [pb.encrypt(`line ${i}`), 7] }),
    };
  });
  rows.push({ id: 's0000', tenant_id: 'pb', secret: null, doc: database.toJson(pb.encrypt('whole value')) });
  rows.push({ id: 's0001', tenant_id: 'pb', secret: 'written before sealing', doc: null });
  // Damaged: an old key's ciphertext with one character changed (it does not authenticate).
  const good = pb.encrypt('damaged');
  const damaged = `${good.slice(0, -6)}${good.slice(-6, -5) === 'A' ? 'B' : 'A'}${good.slice(-5)}`;
  rows.push({ id: 's0002', tenant_id: 'pb', secret: damaged, doc: null });
  for (let i = 0; i < 3; i++)
    rows.push({ id: `z${i}`, tenant_id: 'rz', secret: rz.encrypt(`other state ${i}`), doc: database.toJson({ $sealed: rz.encrypt('x') }) });
  await table().insertInto('reseal_test').values(rows).execute();
}

/** Every row as its owner reads it: ciphertexts opened with whatever key they are under. */
async function readAll(): Promise<Array<{ id: string; secret: string | null; doc: unknown }>> {
  const rows = await table().selectFrom('reseal_test').selectAll().orderBy('id').execute();
  return Promise.all(
    rows.map(async (row) => {
      const keys = await service.forTenant(row.tenant_id);
      const open = (value: unknown): unknown =>
        typeof value === 'string'
          ? keyIdOf(value) !== undefined && row.id !== 's0002'
            ? keys.decrypt(value)
            : value
          : Array.isArray(value)
            ? value.map(open)
            : value !== null && typeof value === 'object'
              ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, open(v)]))
              : value;
      return { id: row.id, secret: open(row.secret) as string | null, doc: open(database.fromJson(row.doc)) };
    }),
  );
}

const rawText = async () => JSON.stringify(await table().selectFrom('reseal_test').selectAll().orderBy('id').execute());

describe('sealed tables after a rotation', () => {
  it('move every ciphertext under an old key of the state, reads working throughout', async () => {
    await fill();
    const plain = await readAll();
    const rzBefore = await table().selectFrom('reseal_test').selectAll().where('tenant_id', '=', 'rz').orderBy('id').execute();
    const { keyId: second } = await service.rotateKey('pb');
    const first = `pb:data:${Number(second.split(':')[2]) - 1}`;
    expect(await rawText()).toContain(`${first}|`);

    // Part of the job done (one batch of 100): old and new keys side by side, every read answers the same.
    const keys = await service.forTenant('pb');
    const partial = await database.transaction((tx) =>
      resealBatch(
        database,
        tx,
        keys,
        [first],
        { name: 'reseal', table: 'reseal_test', id: 'id', text: ['secret'], json: ['doc'] },
        '',
        100,
      ),
    );
    expect(partial).toMatchObject({ last: 'r0099', moved: 100, raced: 0, unreadable: 0 });
    const text = await rawText();
    expect(text).toContain(`${first}|`);
    expect(text).toContain(`${second}|`);
    expect(await readAll()).toEqual(plain);

    // The rest, from the top (resumable: rows already moved are not selected again), reads running alongside.
    const [moved, during] = await Promise.all([service.reencrypt('pb'), readAll()]);
    expect(during).toEqual(plain);
    expect(moved).toEqual({ outbox: 0, reseal: 151 });
    expect(await readAll()).toEqual(plain);

    const after = await table().selectFrom('reseal_test').selectAll().orderBy('id').execute();
    const left = after.filter((r) => JSON.stringify(r).includes(`${first}|`)).map((r) => r.id);
    // Only the damaged value stays (reported in the log); the clear value is not the job's.
    expect(left).toEqual(['s0002']);
    expect(warnings.some((w) => w.includes('do not decrypt') && w.includes('"unreadable":1'))).toBe(true);
    expect(after.find((r) => r.id === 's0001')!.secret).toBe('written before sealing');
    expect(JSON.stringify(after.filter((r) => r.tenant_id === 'rz'))).toBe(JSON.stringify(rzBefore));
    // A second run finds nothing to do.
    expect(await service.reencrypt('pb')).toEqual({ outbox: 0, reseal: 0 });
  });

  it('moves values left under any older key after several rotations, and names taken are refused', async () => {
    const before = await service.forTenant('pb');
    await table()
      .insertInto('reseal_test')
      .values({ id: 't0', tenant_id: 'pb', secret: before.encrypt('two rotations ago'), doc: null })
      .execute();
    await service.rotateKey('pb');
    const middle = await service.forTenant('pb');
    await table()
      .insertInto('reseal_test')
      .values({ id: 't1', tenant_id: 'pb', secret: middle.encrypt('one rotation ago'), doc: null })
      .execute();
    const { keyId } = await service.rotateKey('pb');
    // Both new rows, and the 251 readable ones of the test before (under the middle key now).
    expect(await service.reencrypt('pb')).toEqual({ outbox: 0, reseal: 253 });
    const rows = await table().selectFrom('reseal_test').selectAll().where('id', 'in', ['t0', 't1']).orderBy('id').execute();
    expect(rows.map((r) => keyIdOf(r.secret!))).toEqual([keyId, keyId]);
    const keys = await service.forTenant('pb');
    expect(rows.map((r) => keys.decrypt(r.secret!))).toEqual(['two rotations ago', 'one rotation ago']);
    expect(() => service.registerSealedTable({ name: 'reseal', table: 'x', id: 'id' })).toThrow(/already registered/);
    expect(() => service.registerReencryption('outbox', async () => 0)).toThrow(/already registered/);
  });
});
