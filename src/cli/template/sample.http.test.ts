import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuth, employeeAuth, isDigitError, post, requestInfo, testPlatform, type TestPlatform } from '../../../test/helpers.js';
import { scopeFor } from '../../kernel/scope.js';
import { MODULES } from '../../modules.js';
import { sampleModule } from './index.js';

// The registry over HTTP, as a device and an office use it, on the platform `npm start` runs.

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let platform: TestPlatform;
const as: Record<string, Record<string, string>> = {};

beforeAll(async () => {
  platform = await testPlatform();
  const admin = await adminAuth(platform);
  as['registrar'] = await employeeAuth(platform, admin, 'sample.registrar', ['SAMPLE_REGISTRAR']);
  as['clerk'] = await employeeAuth(platform, admin, 'sample.clerk', ['EMPLOYEE']);
  as['elsewhere'] = await employeeAuth(platform, admin, 'sample.elsewhere', ['SAMPLE_REGISTRAR'], 'pb.jalandhar');
  as['state'] = await employeeAuth(platform, admin, 'sample.state', ['SAMPLE_REGISTRAR'], 'pb');
});
afterAll(() => platform.drop());

let serial = 0;
const ref = () => `ref-${++serial}-${Math.random().toString(36).slice(2, 8)}`;
const record = (fields: Json = {}): Json => ({
  tenantId: 'pb.amritsar',
  clientReferenceId: ref(),
  name: `Record ${serial}`,
  category: 'GENERAL',
  validFrom: 1_760_000_000_000,
  validTo: 1_790_000_000_000,
  clientAuditDetails: { createdBy: 'device-1', createdTime: 1_760_000_000_000 },
  ...fields,
});

const one = (op: string, body: Json, auth = as['registrar']) =>
  post(platform, `/sample/v1/${op}`, { RequestInfo: requestInfo, Sample: body }, auth);
const bulk = (op: string, records: unknown[], auth = as['registrar']) =>
  post(platform, `/sample/v1/bulk/${op}`, { RequestInfo: requestInfo, Samples: records }, auth);
const search = (criteria: Json | null, params: Json = {}, auth = as['registrar']) => {
  const query = new URLSearchParams(
    Object.entries({ tenantId: 'pb.amritsar', limit: 100, ...params }).map(([k, v]): [string, string] => [k, String(v)]),
  );
  return post(platform, `/sample/v1/_search?${query}`, { RequestInfo: requestInfo, Sample: criteria }, auth);
};

/** The events announced for a record, oldest first. */
async function events(subject: string) {
  const rows = await platform.database.kysely
    .withTables<{ plinth_outbox: { id: string; type: string; subject: string } }>()
    .selectFrom('plinth_outbox')
    .select(['type'])
    .where('subject', '=', subject)
    .orderBy('id')
    .execute();
  return rows.map((r) => r.type);
}

describe('the sample registry', () => {
  it('is in the module list of the platform `npm start` runs', () => {
    expect(MODULES).toContain(sampleModule);
    expect(platform.module(sampleModule)).toBeDefined();
  });

  it('creates a record numbered by idgen, stamped with who did it, announced once; a resend answers the same record', async () => {
    const sent = record();
    const first = await one('_create', sent);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const created = first.body['Sample'] as Json;
    expect(created['id']).toMatch(/^SAMPLE-\d{4}-\d{2}-\d{2}-\d+$/);
    expect(created).toMatchObject({
      tenantId: 'pb.amritsar',
      clientReferenceId: sent['clientReferenceId'],
      status: 'ACTIVE',
      rowVersion: 1,
      isDeleted: false,
    });
    expect(created['auditDetails']['createdBy']).toEqual(expect.any(String));
    expect(created['clientAuditDetails']).toEqual(sent['clientAuditDetails']);

    const again = await one('_create', { ...sent, name: 'changed on resend' });
    expect(again.status).toBe(200);
    expect(again.body['Sample']).toEqual(created);
    expect(await events(created['id'])).toEqual(['plinth.sample.created.v1']);
  });

  it('answers a bulk create per record: the good ones stored, each bad one named with its reason', async () => {
    const good = record();
    const answer = await bulk('_create', [
      good,
      record({ name: undefined }),
      { ...record(), clientReferenceId: good['clientReferenceId'] },
      record({ clientReferenceId: undefined }),
      record({ validFrom: 2_000, validTo: 1_000 }),
      record({ category: '' }),
    ]);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect((answer.body['Samples'] as Json[]).map((s) => s['clientReferenceId'])).toEqual([good['clientReferenceId']]);
    expect((answer.body['Errors'] as Json[]).map((e) => [e['index'], e['errorCode']])).toEqual([
      [1, 'INVALID_REQUEST'],
      [2, 'DUPLICATE_ENTITY'],
      [3, 'MISSING_CLIENT_REFERENCE_ID'],
      [4, 'INVALID_DATE_RANGE'],
      [5, 'INVALID_REQUEST'],
    ]);
  });

  it('updates with the rowVersion the device last saw; a stale one answers 409 with the current record and changes nothing', async () => {
    const created = (await one('_create', record())).body['Sample'] as Json;
    const updated = await one('_update', { ...created, status: 'SUSPENDED', rowVersion: 1 });
    expect(updated.status, JSON.stringify(updated.body)).toBe(200);
    expect(updated.body['Sample']).toMatchObject({ id: created['id'], status: 'SUSPENDED', rowVersion: 2 });
    expect((updated.body['Sample'] as Json)['auditDetails']['createdTime']).toBe(created['auditDetails']['createdTime']);

    const stale = await one('_update', { ...created, status: 'EXPIRED', rowVersion: 1 });
    expect(stale.status).toBe(409);
    expect((stale.body['Errors'] as Json[])[0]!['code']).toBe('ROW_VERSION_MISMATCH');
    expect(stale.body['Sample']).toMatchObject({ status: 'SUSPENDED', rowVersion: 2 });
    expect(await events(created['id'])).toEqual(['plinth.sample.created.v1', 'plinth.sample.updated.v1']);
  });

  it('refuses an update of a record that is not stored', async () => {
    const answer = await one('_update', record({ id: 'SAMPLE-NOT-THERE', rowVersion: 1 }));
    expect(answer.status).toBe(400);
    expect(isDigitError(answer.body)).toBe(true);
    expect((answer.body['Errors'] as Json[])[0]!['code']).toBe('NON_EXISTENT_ENTITY');
  });

  it('refuses a request that is not a record in DIGIT`s error shape, storing nothing', async () => {
    const before = (await search(null, { limit: 0 })).body['TotalCount'] as number;
    const answer = await post(
      platform,
      '/sample/v1/_create',
      { RequestInfo: requestInfo, Sample: { tenantId: 'pb.amritsar' } },
      as['registrar'],
    );
    expect(answer.status).toBe(400);
    expect(isDigitError(answer.body)).toBe(true);
    expect((await search(null, { limit: 0 })).body['TotalCount']).toBe(before);
  });

  it('searches by filters and by last change, for an incremental pull', async () => {
    const category = `CAT${serial}`;
    const a = (await one('_create', record({ category }))).body['Sample'] as Json;
    const b = (await one('_create', record({ category }))).body['Sample'] as Json;
    const found = await search({ category });
    expect(found.status).toBe(200);
    expect(found.body['TotalCount']).toBe(2);
    expect((found.body['Samples'] as Json[]).map((s) => s['id']).sort()).toEqual([a['id'], b['id']].sort());
    const byRef = await search({ clientReferenceId: [a['clientReferenceId']] });
    expect((byRef.body['Samples'] as Json[]).map((s) => s['id'])).toEqual([a['id']]);
    const since = await search({ category }, { lastChangedSince: b['auditDetails']['lastModifiedTime'] });
    expect((since.body['Samples'] as Json[]).map((s) => s['id'])).toContain(b['id']);
  });

  it('lets each caller do only what the role-actions allow, where their roles are held', async () => {
    expect((await search(null, {}, as['clerk'])).status).toBe(200);
    expect((await one('_create', record(), as['clerk'])).status).toBe(403);
    expect((await one('_create', record(), as['elsewhere'])).status).toBe(403);
    expect((await search(null, {}, as['elsewhere'])).status).toBe(403);
    const made = await one('_create', record(), as['state']);
    expect(made.status).toBe(200);
    expect((await search({ id: [(made.body['Sample'] as Json)['id']] }, {}, as['state'])).body['TotalCount']).toBe(1);
    expect((await post(platform, '/sample/v1/_search?tenantId=pb.amritsar', { Sample: null })).status).toBe(401);
  });

  it('reads only what the caller`s scope covers, whatever tenant is asked for', async () => {
    const api = platform.module(sampleModule);
    const created = (await one('_create', record())).body['Sample'] as Json;
    const criteria = { id: [created['id']] };
    const inside = await api.search(criteria, { tenantId: 'pb.amritsar' }, scopeFor(null, ['pb']));
    const outside = await api.search(criteria, { tenantId: 'pb.amritsar' }, scopeFor(null, ['pb.jalandhar']));
    expect(inside.totalCount).toBe(1);
    expect(outside).toEqual({ totalCount: 0, records: [] });
  });
});
