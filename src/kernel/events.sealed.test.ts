import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabase, type TestDatabase } from '../../test/helpers.js';
import { connectDatabase, type Database } from './db.js';
import { createDispatcher, createOutbox, eventMigrations, registerEventSealer, SEALED_KEY, type CloudEvent } from './events.js';
import { migrate } from './migrator.js';

/** Events with personal fields: stored sealed, handed to handlers opened, refused without a sealer. */

let db: TestDatabase;
let database: Database;
let now = 1_700_000_000_000;
const clock = { now: () => now };

beforeAll(async () => {
  db = await testDatabase();
  database = await connectDatabase(db.config);
  await migrate(database, [{ module: 'kernel', migrations: eventMigrations }]);
});
afterAll(async () => {
  await database.close();
  await db.drop();
});

const input = { type: 'plinth.test.person.v1', source: '/plinth/test', subject: 's1', tenantId: 'pb', data: { id: 'p-1', person: { name: 'Asha Rani', mobile: '9812345678' } }, sealed: ['person'] };

describe('sealed event fields', () => {
  it('refuses to append personal fields when no sealer is registered, writing nothing', async () => {
    const outbox = createOutbox(database, clock, () => undefined);
    await expect(database.transaction((tx) => outbox.append(tx, input))).rejects.toThrow(/no event sealer/);
    const rows = await database.kysely.withTables<{ plinth_outbox: { id: string } }>().selectFrom('plinth_outbox').select('id').execute();
    expect(rows).toEqual([]);
  });

  it('stores them sealed and hands them to handlers as appended', async () => {
    // A reversible stand-in for the encryption module's sealer (which encrypts under the tenant's key).
    registerEventSealer(database, {
      seal: async (tenantId, plaintext) => `sealed:${tenantId}:${Buffer.from(plaintext).toString('base64')}`,
      open: async (tenantId, ciphertext) => Buffer.from(ciphertext.slice(`sealed:${tenantId}:`.length), 'base64').toString(),
    });
    const outbox = createOutbox(database, clock, () => undefined);
    await database.transaction((tx) => outbox.appendMany(tx, [input, { ...input, subject: 's2' }]));
    const stored = await database.kysely.withTables<{ plinth_outbox: { data: unknown } }>().selectFrom('plinth_outbox').select('data').execute();
    expect(stored).toHaveLength(2);
    for (const row of stored) {
      const data = database.fromJson<Record<string, unknown>>(row.data);
      expect(data['id']).toBe('p-1');
      expect(data['person']).toBeUndefined();
      expect(String(data[SEALED_KEY])).toMatch(/^sealed:pb:/);
      expect(JSON.stringify(data)).not.toContain('Asha');
    }
    const seen: CloudEvent[] = [];
    const dispatcher = createDispatcher(database, clock);
    dispatcher.subscribe({ name: 'sealed.test', types: ['plinth.test.person.v1'], handle: async (event) => void seen.push(event) });
    now += 1000;
    await dispatcher.deliverPending();
    expect(seen.map((e) => e.data)).toEqual([input.data, input.data]);
  });
});
