import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabase, type TestDatabase } from '../../../test/helpers.js';
import { loadConfig } from '../../kernel/config.js';
import { connectDatabase, type Database } from '../../kernel/db.js';
import { createHttpApp, type HttpApp } from '../../kernel/http.js';
import { createMetrics } from '../../kernel/metrics.js';
import { migrate } from '../../kernel/migrator.js';
import type { AuditTables } from './audit.store.js';
import { auditRoutes } from './audit.routes.js';
import { auditModule, createAuditLog, type AuditApi } from './index.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let db: TestDatabase;
let database: Database;
let app: HttpApp;
let audit: AuditApi;
let now = 1_700_000_000_000;
const clock = { now: () => (now += 1000) };
const requestInfo = { apiId: 'Rainmaker', ver: '.01', msgId: 'audit-test' };

beforeAll(async () => {
  db = await testDatabase();
  database = await connectDatabase(db.config);
  await migrate(database, [{ module: auditModule.name, migrations: auditModule.migrations }]);
  const config = loadConfig({ LOG_LEVEL: 'silent' });
  app = await createHttpApp({ config, metrics: createMetrics({ defaultMetrics: false }), version: 'test' });
  audit = { log: createAuditLog({ database, clock, headKey: randomBytes(32) }) };
  auditRoutes(audit.log)(app);
  await app.ready();
});
afterAll(async () => {
  await app.close();
  await database.close();
  await db.drop();
});

async function post(url: string, body: unknown) {
  const response = await app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify(body),
  });
  return { status: response.statusCode, body: response.json() as Json };
}

describe('POST /audit/v1/_search', () => {
  it("answers DIGIT-style with the tenant's entries, newest first, filtered", async () => {
    await audit.log.append({ tenantId: 'pb', action: 'user.login', subject: 'u1', outcome: 'success', actorUuid: 'u1', ip: '10.1.1.1' });
    await audit.log.append({ tenantId: 'pb', action: 'user.login.failed', subject: 'u2', outcome: 'failure', details: { attempts: 3 } });
    await audit.log.append({
      tenantId: 'pb.amritsar',
      action: 'pii.decrypted',
      subject: 'u3',
      outcome: 'success',
      details: { fields: ['name'] },
    });

    const all = await post('/audit/v1/_search', { RequestInfo: requestInfo, AuditCriteria: { tenantId: 'pb' } });
    expect(all.status).toBe(200);
    expect(all.body['ResponseInfo']).toMatchObject({ apiId: 'Rainmaker', msgId: 'audit-test', status: 'successful' });
    expect(all.body['AuditEntries'].map((e: Json) => e['seq'])).toEqual([2, 1]);
    expect(all.body['AuditEntries'][0]).toMatchObject({
      tenantId: 'pb',
      action: 'user.login.failed',
      subject: 'u2',
      outcome: 'failure',
      actorUuid: null,
      details: { attempts: 3 },
      ip: null,
      correlationId: null,
    });
    expect(all.body['AuditEntries'][0]['prevHash']).toBe(all.body['AuditEntries'][1]['hash']);

    const filtered = await post('/audit/v1/_search', {
      requestInfo,
      auditCriteria: { tenantId: 'pb', actions: ['user.login'], limit: 1, offset: 0 },
    });
    expect(filtered.body['AuditEntries'].map((e: Json) => e['subject'])).toEqual(['u1']);
  });

  it('refuses criteria without a tenant or with an out-of-range limit', async () => {
    const noTenant = await post('/audit/v1/_search', { RequestInfo: requestInfo, AuditCriteria: {} });
    expect(noTenant.status).toBe(400);
    expect(noTenant.body['Errors'][0]['message']).toContain('AuditCriteria.tenantId is required');
    const tooMany = await post('/audit/v1/_search', { AuditCriteria: { tenantId: 'pb', limit: 5000 } });
    expect(tooMany.status).toBe(400);
  });
});

describe('POST /audit/v1/_verify', () => {
  it('reports intact chains, then names the altered row', async () => {
    const intact = await post('/audit/v1/_verify', { RequestInfo: requestInfo });
    expect(intact.status).toBe(200);
    expect(intact.body).toMatchObject({ ok: true, tenants: 2, entries: 3, firstBroken: null });
    expect((await post('/audit/v1/_verify', { tenantId: 'pb.amritsar' })).body).toMatchObject({ ok: true, tenants: 1, entries: 1 });

    const [victim] = await audit.log.search({ tenantId: 'pb', actions: ['user.login'], offset: 0, limit: 1 });
    await (database.kysely.withTables<AuditTables>() as unknown as Kysely<AuditTables>)
      .updateTable('audit_log')
      .set({ subject: 'someone-else' })
      .where('id', '=', victim!.id)
      .execute();
    const broken = await post('/audit/v1/_verify', { RequestInfo: requestInfo });
    expect(broken.status).toBe(200);
    expect(broken.body['ResponseInfo']['status']).toBe('failed');
    expect(broken.body).toMatchObject({ ok: false, firstBroken: { tenantId: 'pb', seq: 1, id: victim!.id, reason: 'hash-mismatch' } });
    expect(broken.body['firstBroken']['message']).toContain('entry 1 was altered');
  });
});
