import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuth, employeeAuth, isDigitError, post, requestInfo, testPlatform, type TestPlatform } from '../../../test/helpers.js';
import { expectOutOfScope, expectRefusal } from '../../../test/scope.helpers.js';
import { scopeFor, SYSTEM_SCOPE } from '../../kernel/scope.js';
import type { Mdms } from './mdms.schema.js';
import { readableFrom } from './mdms.service.js';

// Issue #14 Build 1: MDMS reads take a Scope and reach only rows inside it; a write checks the
// STORED record's tenant. The kernel refuses requests naming tenants outside the caller's scope;
// these tests call the service directly, so the store must hold on its own.

const DEPARTMENT = 'common-masters.Department';
const AMRITSAR = scopeFor(null, ['pb.amritsar']);
const JALANDHAR = scopeFor(null, ['pb.jalandhar']);

let platform: TestPlatform;
let amritsarRecord: Mdms;
let jalandharRecord: Mdms;

const department = (code: string, name: string) => ({ code, name, active: true });

beforeAll(async () => {
  platform = await testPlatform();
  const { service } = platform.mdms;
  amritsarRecord = await service.createData(
    DEPARTMENT,
    { tenantId: 'pb.amritsar', data: department('SCOPE_AMR', 'Amritsar only') },
    { uuid: null },
    SYSTEM_SCOPE,
  );
  jalandharRecord = await service.createData(
    DEPARTMENT,
    { tenantId: 'pb.jalandhar', data: department('SCOPE_JAL', 'Jalandhar only') },
    { uuid: null },
    SYSTEM_SCOPE,
  );
});
afterAll(() => platform.drop());

const codesOf = (records: readonly Mdms[]) => records.map((r) => (r.data as { code: string }).code).sort();

describe('MDMS searches read only rows inside the scope', () => {
  it('v2 search and count: another city, and the state fallback, are out of a city scope', async () => {
    const { service } = platform.mdms;
    const jalandhar = { tenantId: 'pb.jalandhar', schemaCode: DEPARTMENT, limit: 100 };
    expect(codesOf(await service.searchData(jalandhar, JALANDHAR))).toEqual(['SCOPE_JAL']);
    expect(await service.countData(jalandhar, JALANDHAR)).toBe(1);
    // Amritsar's scope reaches neither Jalandhar's record nor the state's (the fallback tenant).
    expect(await service.searchData(jalandhar, AMRITSAR)).toEqual([]);
    expect(await service.countData(jalandhar, AMRITSAR)).toBe(0);
    expect(await service.searchData({ ...jalandhar, ids: [jalandharRecord.id] }, scopeFor(null, []))).toEqual([]);
    // The state's records are the fallback for a city without its own: inside a state scope only.
    const state = { tenantId: 'pb.jalandhar', schemaCode: DEPARTMENT, uniqueIdentifiers: ['DEPT_1'] };
    expect(codesOf(await service.searchData(state, scopeFor(null, ['pb'])))).toEqual(['DEPT_1']);
    expect(await service.searchData(state, JALANDHAR)).toEqual([]);
  });

  it('v1 search: the lineage is read only as far as the scope reaches', async () => {
    const { service } = platform.mdms;
    const v1 = (tenantId: string) => ({
      tenantId,
      moduleDetails: [{ moduleName: 'common-masters', masterDetails: [{ name: 'Department' }] }],
    });
    const found = async (tenantId: string, scope = readableFrom(tenantId)) =>
      ((await service.searchV1(v1(tenantId), scope))['common-masters']?.['Department'] ?? [])
        .map((d) => (d as { code: string }).code)
        .sort();
    expect(await found('pb.amritsar')).toEqual(['SCOPE_AMR']);
    expect(await found('pb.jalandhar', AMRITSAR)).toEqual([]);
    // Public reference data: what anyone reads of a city is the city and its state.
    expect(await found('pb.jalandhar')).toEqual(['SCOPE_JAL']);
    expect((await found('pb')).length).toBeGreaterThan(1);
  });

  it('schema search: definitions at the state are outside a city scope', async () => {
    const { service } = platform.mdms;
    expect((await service.searchSchemas({ tenantId: 'pb', codes: [DEPARTMENT] }, readableFrom('pb'))).map((s) => s.code)).toEqual([
      DEPARTMENT,
    ]);
    expect(await service.searchSchemas({ tenantId: 'pb', codes: [DEPARTMENT] }, AMRITSAR)).toEqual([]);
  });
});

describe('MDMS writes are checked against the stored record', () => {
  it("refuses to update another city's record, whatever tenant the body names (403, unchanged)", async () => {
    const { service } = platform.mdms;
    const renamed = { ...jalandharRecord, data: department('SCOPE_JAL', 'Renamed from Amritsar') };
    await expectOutOfScope(service.updateData(DEPARTMENT, renamed, { uuid: null }, AMRITSAR));
    await expectOutOfScope(service.updateData(DEPARTMENT, { ...renamed, tenantId: 'pb.amritsar' }, { uuid: null }, AMRITSAR));
    const [kept] = await service.searchData({ tenantId: 'pb.jalandhar', schemaCode: DEPARTMENT, ids: [jalandharRecord.id] }, SYSTEM_SCOPE);
    expect(kept?.data).toEqual(department('SCOPE_JAL', 'Jalandhar only'));
    // Inside the scope the same update goes through.
    const own = await service.updateData(
      DEPARTMENT,
      { ...amritsarRecord, data: department('SCOPE_AMR', 'Amritsar renamed') },
      { uuid: null },
      AMRITSAR,
    );
    expect(own.data).toEqual(department('SCOPE_AMR', 'Amritsar renamed'));
  });

  it('refuses to create a record or a schema outside the scope', async () => {
    const { service } = platform.mdms;
    await expectOutOfScope(
      service.createData(DEPARTMENT, { tenantId: 'pb.jalandhar', data: department('SCOPE_NEW', 'New') }, { uuid: null }, AMRITSAR),
    );
    await expectOutOfScope(
      service.createSchema(
        { tenantId: 'pb', code: 'scope.Probe', definition: { type: 'object', 'x-unique': ['code'] } },
        { uuid: null },
        AMRITSAR,
      ),
    );
    expect(
      await service.searchData({ tenantId: 'pb.jalandhar', schemaCode: DEPARTMENT, uniqueIdentifiers: ['SCOPE_NEW'] }, SYSTEM_SCOPE),
    ).toEqual([]);
  });
});

describe('ACCESSCONTROL-* masters are written at the state only', () => {
  const ROLE_ACTIONS = 'ACCESSCONTROL-ROLEACTIONS.roleactions';
  // A role of its own, so that no seeded role-action is in the way; actions 101-103 are seeded.
  const grant = (tenantId: string, actionid = 101) => ({ rolecode: 'ACL_PROBE', actionid, actioncode: '', tenantId });

  beforeAll(async () => {
    await platform.mdms.service.createData(
      'ACCESSCONTROL-ROLES.roles',
      { tenantId: 'pb', data: { code: 'ACL_PROBE', name: 'ACL probe' } },
      { uuid: null },
      SYSTEM_SCOPE,
    );
  });

  it('refuses an active record at a city with a 400 naming the state, even for a state caller', async () => {
    const { service } = platform.mdms;
    const code = await expectRefusal(
      service.createData(ROLE_ACTIONS, { tenantId: 'pb.amritsar', data: grant('pb.amritsar') }, { uuid: null }, SYSTEM_SCOPE),
      'invalid',
    );
    expect(code).toBe('INVALID_TENANT_ID');
    expect(
      await service.searchData({ tenantId: 'pb.amritsar', schemaCode: ROLE_ACTIONS, uniqueIdentifiers: ['ACL_PROBE.101'] }, SYSTEM_SCOPE),
    ).toEqual([]);
  });

  it("answers a city MDMS_ADMIN's write at its own city with 400 in DIGIT's shape, and writes nothing", async () => {
    const admin = await adminAuth(platform);
    const cityAdmin = await employeeAuth(platform, admin, 'acl.mdms.amritsar', ['EMPLOYEE', 'MDMS_ADMIN'], 'pb.amritsar');
    const response = await post(
      platform,
      `/mdms-v2/v2/_create/${ROLE_ACTIONS}`,
      { RequestInfo: requestInfo, Mdms: { tenantId: 'pb.amritsar', schemaCode: ROLE_ACTIONS, data: grant('pb.amritsar') } },
      cityAdmin,
    );
    expect(response.status, JSON.stringify(response.body)).toBe(400);
    expect(isDigitError(response.body)).toBe(true);
    expect(response.body['Errors']).toEqual([
      expect.objectContaining({ code: 'INVALID_TENANT_ID', message: expect.stringContaining('read at the state tenant only') }),
    ]);
    expect(
      await platform.mdms.service.searchData(
        { tenantId: 'pb.amritsar', schemaCode: ROLE_ACTIONS, uniqueIdentifiers: ['ACL_PROBE.101'] },
        SYSTEM_SCOPE,
      ),
    ).toEqual([]);
    // Other masters at the city stay writable for it.
    const department_ = await post(
      platform,
      `/mdms-v2/v2/_create/${DEPARTMENT}`,
      { RequestInfo: requestInfo, Mdms: { tenantId: 'pb.amritsar', schemaCode: DEPARTMENT, data: department('ACL_OK', 'Still fine') } },
      cityAdmin,
    );
    expect(department_.status, JSON.stringify(department_.body)).toBe(202);
    // The state's own role-actions are written as before, by a state administrator.
    const atState = await post(
      platform,
      `/mdms-v2/v2/_create/${ROLE_ACTIONS}`,
      { RequestInfo: requestInfo, Mdms: { tenantId: 'pb', schemaCode: ROLE_ACTIONS, data: grant('pb', 102) } },
      admin,
    );
    expect(atState.status, JSON.stringify(atState.body)).toBe(202);
  });

  it('lets a record written at a city before the rule be deactivated', async () => {
    const { service } = platform.mdms;
    const { database } = platform;
    // Written as an older Plinth would have (straight into the table), then switched off.
    const legacy = await service.createData(ROLE_ACTIONS, { tenantId: 'pb', data: grant('pb', 103) }, { uuid: null }, SYSTEM_SCOPE);
    await database.kysely
      .updateTable('mdms_data' as never)
      .set({ tenant_id: 'pb.jalandhar' } as never)
      .where('id' as never, '=', legacy.id as never)
      .execute();
    const moved = { ...legacy, tenantId: 'pb.jalandhar', data: legacy.data as object };
    await expectRefusal(service.updateData(ROLE_ACTIONS, moved, { uuid: null }, SYSTEM_SCOPE), 'invalid');
    const off = await service.updateData(ROLE_ACTIONS, { ...moved, isActive: false }, { uuid: null }, SYSTEM_SCOPE);
    expect(off.isActive).toBe(false);
  });
});
