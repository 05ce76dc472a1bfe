import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createPlatform, type Platform } from '../src/platform.js';
import { adminAuth, post, testDatabase, type TestDatabase } from './helpers.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Two platforms on one database, as two API processes behind a load balancer would be. */
describe('MDMS read cache across processes', () => {
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

  const designations = async (platform: Platform) =>
    ((await post(platform, '/mdms-v2/v2/_search', { MdmsCriteria: { tenantId: 'pb', schemaCode: 'common-masters.Designation', limit: 500 } })).body['mdms'] as Json[]).map(
      (m) => m['data'].code,
    );

  it('drops cached answers in the other process when data changes', async () => {
    const before = await designations(reader); // now cached in the reader
    expect(before).not.toContain('DESIG_CACHE');
    const created = await post(writer, '/mdms-v2/v2/_create/common-masters.Designation', {
      Mdms: { tenantId: 'pb', data: { code: 'DESIG_CACHE', name: 'Cache tester', active: true } },
    }, await adminAuth(writer));
    expect(created.status).toBe(202);
    await vi.waitFor(async () => expect(await designations(reader)).toContain('DESIG_CACHE'), { timeout: 5000, interval: 50 });
  });
});
