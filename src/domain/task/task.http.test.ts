import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuth, employeeAuth, isDigitError, post, requestInfo, testPlatform, type TestPlatform } from '../../../test/helpers.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let platform: TestPlatform;
let admin: Record<string, string>;
const as: Record<string, Record<string, string>> = {};

const user = (userName: string, roles: string[]) => employeeAuth(platform, admin, userName, roles);

beforeAll(async () => {
  platform = await testPlatform();
  admin = await adminAuth(platform);
  as['distributor'] = await user('task.distributor', ['DISTRIBUTOR']);
  as['employee'] = await user('task.clerk', ['EMPLOYEE']);
});
afterAll(() => platform.drop());

let serial = 0;
const ref = (prefix: string) => `${prefix}-${++serial}-${Math.random().toString(36).slice(2, 8)}`;
const DAY = 86_400_000;

function task(fields: Json = {}): Json {
  return {
    tenantId: 'pb.amritsar',
    clientReferenceId: ref('task'),
    projectId: 'PJT-TEST',
    projectBeneficiaryClientReferenceId: ref('pb'),
    resources: [{ productVariantId: 'PVAR-SPAQ', quantity: 1, isDelivered: false }],
    plannedStartDate: 1_760_000_000_000,
    plannedEndDate: 1_760_000_000_000 + 7 * DAY,
    status: 'NOT_ADMINISTERED',
    clientAuditDetails: { createdBy: 'device-1', createdTime: 1_760_000_000_000 },
    ...fields,
  };
}

const bulk = (op: string, records: unknown[], auth = admin) =>
  post(platform, `/project/task/v1/bulk/${op}`, { RequestInfo: requestInfo, Tasks: records }, auth);
const one = (op: string, record: unknown, auth = admin) =>
  post(platform, `/project/task/v1/${op}`, { RequestInfo: requestInfo, Task: record }, auth);
const query = (params: Json) =>
  new URLSearchParams(
    Object.entries({ tenantId: 'pb.amritsar', limit: 100, offset: 0, ...params }).map(([k, v]): [string, string] => [k, String(v)]),
  ).toString();
const search = (criteria: Json | null, params: Json = {}, auth = admin) =>
  post(platform, `/project/task/v1/_search?${query(params)}`, { RequestInfo: requestInfo, Task: criteria }, auth);
const codes = (body: Json) => (body['Errors'] as Json[]).map((e) => [e['index'], e['errorCode']]);

async function outbox(subject: string) {
  const rows = await platform.database.kysely
    .withTables<{ plinth_outbox: { id: string; type: string; subject: string; data: unknown } }>()
    .selectFrom('plinth_outbox')
    .selectAll()
    .where('subject', '=', subject)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ type: r.type, data: platform.database.fromJson<Json>(r.data) }));
}

describe('task registry', () => {
  it('creates a task with an idgen number, its resources and a created event; a resend answers the same task', async () => {
    const record = task();
    const first = await one('_create', record);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const created = first.body['Task'] as Json;
    expect(created['id']).toMatch(/^PT-\d{4}-\d{2}-\d{2}-\d+$/);
    expect(created).toMatchObject({
      tenantId: 'pb.amritsar',
      clientReferenceId: record['clientReferenceId'],
      projectId: 'PJT-TEST',
      status: 'NOT_ADMINISTERED',
      plannedStartDate: record['plannedStartDate'],
      plannedEndDate: record['plannedEndDate'],
      rowVersion: 1,
      isDeleted: false,
    });
    expect(created['resources']).toHaveLength(1);
    expect(created['resources'][0]).toMatchObject({
      productVariantId: 'PVAR-SPAQ',
      quantity: 1,
      isDelivered: false,
      taskId: created['id'],
    });
    expect(created['auditDetails']['createdBy']).toEqual(expect.any(String));

    const again = await one('_create', { ...record, status: 'DELIVERED' });
    expect(again.status).toBe(200);
    expect(again.body['Task']).toMatchObject({ id: created['id'], status: 'NOT_ADMINISTERED', rowVersion: 1 });

    const events = await outbox(created['id']);
    expect(events.map((e) => e.type)).toEqual(['plinth.task.created.v1']);
    expect(events[0]!.data).toMatchObject({ clientReferenceId: record['clientReferenceId'], status: 'NOT_ADMINISTERED' });
  });

  it('answers a bulk create per record: good ones land, bad and duplicate ones are refused with a code', async () => {
    const good = task();
    const { status, body } = await bulk('_create', [
      good,
      task({ clientReferenceId: good['clientReferenceId'] }),
      task({ clientReferenceId: undefined }),
      task({ projectBeneficiaryClientReferenceId: undefined }),
      task({ status: 'WHATEVER' }),
      task({ plannedEndDate: 1 }),
      task({ tenantId: 'pb.nowhere' }),
    ]);
    expect(status, JSON.stringify(body)).toBe(200);
    expect((body['Tasks'] as Json[]).map((t) => t['clientReferenceId'])).toEqual([good['clientReferenceId']]);
    expect(codes(body)).toEqual([
      [1, 'DUPLICATE_ENTITY'],
      [2, 'MISSING_CLIENT_REFERENCE_ID'],
      [3, 'REQUIRED_LINK_MISSING'],
      [4, 'INVALID_REQUEST'],
      [5, 'INVALID_DATE_RANGE'],
      [6, 'INVALID_TENANT_ID'],
    ]);
  });

  it('updates with the current rowVersion and refuses a stale one with the current record (409 single, per record in bulk)', async () => {
    const created = (await one('_create', task())).body['Task'] as Json;
    const delivered = {
      ...created,
      status: 'ADMINISTRATION_SUCCESS',
      actualStartDate: 1_760_100_000_000,
      resources: [{ ...created['resources'][0], isDelivered: true }],
    };
    const updated = await one('_update', delivered, as['distributor']);
    expect(updated.status, JSON.stringify(updated.body)).toBe(200);
    expect(updated.body['Task']).toMatchObject({
      id: created['id'],
      status: 'ADMINISTRATION_SUCCESS',
      rowVersion: 2,
      actualStartDate: 1_760_100_000_000,
    });
    // The resource keeps its server id across the update.
    expect((updated.body['Task'] as Json)['resources'][0]).toMatchObject({ id: created['resources'][0]['id'], isDelivered: true });

    const stale = await one('_update', { ...delivered, status: 'VISITED' });
    expect(stale.status).toBe(409);
    expect(isDigitError(stale.body)).toBe(true);
    expect((stale.body['Errors'] as Json[])[0]!['code']).toBe('ROW_VERSION_MISMATCH');
    expect(stale.body['Task']).toMatchObject({ status: 'ADMINISTRATION_SUCCESS', rowVersion: 2 });

    const other = (await one('_create', task())).body['Task'] as Json;
    const mixed = await bulk('_update', [
      { ...other, rowVersion: 5 },
      { ...(updated.body['Task'] as Json), status: 'VISITED' },
      { ...task(), id: 'PT-none' },
      { ...(updated.body['Task'] as Json), id: undefined, clientReferenceId: undefined },
      { ...(updated.body['Task'] as Json), isDeleted: true },
    ]);
    expect(mixed.status).toBe(200);
    expect(codes(mixed.body)).toEqual([
      [0, 'ROW_VERSION_MISMATCH'],
      [2, 'NON_EXISTENT_ENTITY'],
      [3, 'NULL_ID'],
      [4, 'IS_DELETED_TRUE'],
    ]);
    expect((mixed.body['Errors'] as Json[])[0]!['current']).toMatchObject({ id: other['id'], rowVersion: 1 });
    expect(mixed.body['Tasks']).toEqual([expect.objectContaining({ id: created['id'], status: 'VISITED', rowVersion: 3 })]);
    expect((await outbox(created['id'])).map((e) => e.type)).toEqual([
      'plinth.task.created.v1',
      'plinth.task.updated.v1',
      'plinth.task.updated.v1',
    ]);
  });

  it('soft-deletes: a tombstone hidden from search unless includeDeleted, a resent delete is harmless, an update after it is refused', async () => {
    const created = (await one('_create', task())).body['Task'] as Json;
    const stale = await one('_delete', { tenantId: 'pb.amritsar', id: created['id'], rowVersion: 7 });
    expect(stale.status).toBe(409);
    const deleted = await one('_delete', { tenantId: 'pb.amritsar', id: created['id'], rowVersion: 1 });
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(200);
    expect(deleted.body['Task']).toMatchObject({ isDeleted: true, rowVersion: 2 });
    const resent = await bulk('_delete', [{ tenantId: 'pb.amritsar', clientReferenceId: created['clientReferenceId'], rowVersion: 1 }]);
    expect(resent.body['Tasks']).toEqual([expect.objectContaining({ id: created['id'], isDeleted: true, rowVersion: 2 })]);
    expect(resent.body['Errors']).toEqual([]);

    expect((await search({ id: [created['id']] })).body['Tasks']).toEqual([]);
    expect((await search({ id: [created['id']] }, { includeDeleted: true })).body['Tasks']).toHaveLength(1);
    const after = await one('_update', { ...created, rowVersion: 2 });
    expect(after.status).toBe(400);
    expect((after.body['Errors'] as Json[])[0]!['code']).toBe('NON_EXISTENT_ENTITY');
    // Resending the create of a deleted task answers its tombstone, never a second task.
    const recreate = await one('_create', task({ clientReferenceId: created['clientReferenceId'] }));
    expect(recreate.body['Task']).toMatchObject({ id: created['id'], isDeleted: true });
    expect((await outbox(created['id'])).map((e) => e.type)).toEqual(['plinth.task.created.v1', 'plinth.task.deleted.v1']);
  });

  it('searches by ids, beneficiary, status and planned start range, paged', async () => {
    const beneficiary = ref('child');
    const base = 1_800_000_000_000;
    const records = [0, 42, 70, 98].map((days, i) =>
      task({
        projectBeneficiaryClientReferenceId: beneficiary,
        plannedStartDate: base + days * DAY,
        plannedEndDate: base + (days + 28) * DAY,
        status: i === 0 ? 'ADMINISTRATION_SUCCESS' : 'NOT_ADMINISTERED',
      }),
    );
    const { body } = await bulk('_create', records);
    expect(body['Errors']).toEqual([]);

    const all = await search({ projectBeneficiaryClientReferenceId: [beneficiary] });
    expect(all.status).toBe(200);
    expect(all.body['TotalCount']).toBe(4);
    expect((all.body['Tasks'] as Json[]).map((t) => t['plannedStartDate']).sort()).toEqual(records.map((r) => r['plannedStartDate']));

    const pending = await search({ projectBeneficiaryClientReferenceId: [beneficiary], status: 'NOT_ADMINISTERED' });
    expect(pending.body['TotalCount']).toBe(3);
    const range = await search({
      projectBeneficiaryClientReferenceId: [beneficiary],
      plannedStartDateFrom: base + 40 * DAY,
      plannedStartDateTo: base + 80 * DAY,
    });
    expect((range.body['Tasks'] as Json[]).map((t) => t['plannedStartDate']).sort()).toEqual([base + 42 * DAY, base + 70 * DAY]);
    const digitRange = await search({
      projectBeneficiaryClientReferenceId: [beneficiary],
      plannedStartDate: base + 1,
      plannedEndDate: base + 100 * DAY,
    });
    expect(digitRange.body['TotalCount']).toBe(2);

    const page = await search({ projectBeneficiaryClientReferenceId: [beneficiary] }, { limit: 3, offset: 2 });
    expect(page.body['TotalCount']).toBe(4);
    expect(page.body['Tasks']).toHaveLength(2);
    const countOnly = await search({ projectBeneficiaryClientReferenceId: [beneficiary] }, { limit: 0 });
    expect(countOnly.body).toMatchObject({ TotalCount: 4, Tasks: [] });

    const byRef = await search({ clientReferenceId: [records[1]!['clientReferenceId']], projectId: 'PJT-TEST' }, {}, as['distributor']);
    expect(byRef.body['Tasks']).toEqual([expect.objectContaining({ clientReferenceId: records[1]!['clientReferenceId'] })]);
  });

  it('refuses bad input with 400 in DIGIT shape and changes nothing', async () => {
    const missingProject = await one('_create', { ...task(), projectId: undefined });
    expect(missingProject.status).toBe(400);
    expect(isDigitError(missingProject.body)).toBe(true);
    const badStatus = await one('_create', task({ status: 'DONE' }));
    expect(badStatus.status).toBe(400);
    const emptyBulk = await bulk('_create', []);
    expect(emptyBulk.status).toBe(400);
    expect(isDigitError(emptyBulk.body)).toBe(true);
    const noTenant = await post(platform, '/project/task/v1/_search', { RequestInfo: requestInfo, Task: {} }, admin);
    expect(noTenant.status).toBe(400);
    const otherTenant = await search({ tenantId: 'pb.jalandhar' });
    expect(otherTenant.status).toBe(400);
    expect((otherTenant.body['Errors'] as Json[])[0]!['code']).toBe('INVALID_TENANT_ID');
    const unknown = await search({}, { tenantId: 'pb.nowhere' });
    expect(unknown.status).toBe(400);
  });

  it('lets only its roles in: a clerk is refused (403), a distributor creates and searches but may not delete', async () => {
    const refused = await one('_create', task(), as['employee']);
    expect(refused.status).toBe(403);
    expect(isDigitError(refused.body)).toBe(true);
    expect((await search({}, {}, as['employee'])).status).toBe(403);
    const anonymous = await one('_create', task(), {});
    expect(anonymous.status).toBe(401);

    const created = await one('_create', task(), as['distributor']);
    expect(created.status).toBe(200);
    const deleted = await one(
      '_delete',
      { tenantId: 'pb.amritsar', id: (created.body['Task'] as Json)['id'], rowVersion: 1 },
      as['distributor'],
    );
    expect(deleted.status).toBe(403);
    expect((await search({ id: [(created.body['Task'] as Json)['id']] })).body['Tasks']).toHaveLength(1);
  });
});
