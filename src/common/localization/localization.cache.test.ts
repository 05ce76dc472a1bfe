import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createPlatform, type Platform } from '../../platform.js';
import { adminAuth, post, testDatabase, type TestDatabase } from '../../../test/helpers.js';
import type { LocalizationTables } from './localization.store.js';

/** Two platforms on one database, as two API processes behind a load balancer would be. */
describe('the localization read cache across processes', () => {
  let db: TestDatabase;
  let writer: Platform;
  let reader: Platform;
  beforeAll(async () => {
    db = await testDatabase();
    writer = await createPlatform(db.config, { seedOnFirstStart: true });
    await writer.bootstrapAdmin();
    reader = await createPlatform(db.config, { changePollMs: 50 });
    await writer.start();
    await reader.start();
  });
  afterAll(async () => {
    await reader.stop();
    await writer.stop();
    await db.drop();
  });

  const textIn = async (platform: Platform, code: string) => {
    const response = await platform.app.inject({
      method: 'GET',
      url: `/localization/messages?tenantId=pb.amritsar&locale=hi_IN&module=test-cache&codes=${code}`,
    });
    return (response.json() as { messages: Array<{ message: string }> }).messages[0]?.message;
  };

  it('drops cached lists in the other process when a message is written', async () => {
    expect(await textIn(reader, 'X_1')).toBeUndefined(); // now cached in the reader
    const written = await post(
      writer,
      '/localization/messages/v1/_upsert',
      { RequestInfo: {}, tenantId: 'pb', messages: [{ code: 'X_1', message: 'दूसरी प्रक्रिया', module: 'test-cache', locale: 'hi_IN' }] },
      await adminAuth(writer),
    );
    expect(written.status).toBe(200);
    await vi.waitFor(async () => expect(await textIn(reader, 'X_1')).toBe('दूसरी प्रक्रिया'), { timeout: 5000, interval: 50 });
  });

  // On SQLite a change made beside the service is seen by every process (data_version); on
  // PostgreSQL only a cache-bust tells the others.
  it.runIf(process.env['PLINTH_TEST_DB'] === 'postgres')('cache-bust in one process clears the others (PostgreSQL)', async () => {
    const kysely = writer.database.kysely.withTables<LocalizationTables>() as unknown as Kysely<LocalizationTables>;
    await kysely.updateTable('localization_message').set({ message: 'सीधे बदला गया' }).where('code', '=', 'X_1').execute();
    expect(await textIn(reader, 'X_1')).toBe('दूसरी प्रक्रिया');
    expect((await post(writer, '/localization/messages/cache-bust', { RequestInfo: {} }, await adminAuth(writer))).status).toBe(200);
    await vi.waitFor(async () => expect(await textIn(reader, 'X_1')).toBe('सीधे बदला गया'), { timeout: 5000, interval: 50 });
  });
});
