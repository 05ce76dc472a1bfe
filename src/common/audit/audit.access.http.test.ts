import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuth, post, requestInfo, testPlatform, type TestPlatform } from '../../../test/helpers.js';

/**
 * Issue #14, finding 13: who may do what is itself audited. Creating and changing roles (access
 * API) and role-actions (MDMS v2 on ACCESSCONTROL-* schemas) leaves an `access.changed` entry,
 * written with the change; other masters do not.
 */

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let platform: TestPlatform;
let admin: Record<string, string>;
let adminUuid: string;

beforeAll(async () => {
  platform = await testPlatform();
  admin = await adminAuth(platform);
  const [user] = await platform.users.service.search({ userName: 'admin', tenantId: 'pb' }, { pageSize: 1 });
  adminUuid = user!.uuid;
});
afterAll(() => platform.drop());

const accessChanges = async (tenantId: string) =>
  (await platform.audit.log.search({ tenantId, actions: ['access.changed'], offset: 0, limit: 100 })).map((e) => ({ subject: e.subject, actor: e.actorUuid, details: e.details }));

describe('changes of roles and role-actions leave an audit entry', () => {
  it('starts with none: seed loads are not recorded', async () => {
    expect(await accessChanges('pb')).toEqual([]);
  });

  it('role created and updated through the access API', async () => {
    const created = await post(platform, '/access/v1/roles/_create?tenantId=pb', { RequestInfo: requestInfo, roles: [{ code: 'AUDITED_ROLE', name: 'Audited' }] }, admin);
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const updated = await post(platform, '/access/v1/roles/_update?tenantId=pb', { RequestInfo: requestInfo, roles: [{ code: 'AUDITED_ROLE', name: 'Audited again' }] }, admin);
    expect(updated.status, JSON.stringify(updated.body)).toBe(200);
    const entries = await accessChanges('pb');
    expect(entries.map((e) => [e.subject, e.details['change'], (e.details['data'] as Json)['name']])).toEqual([
      ['ACCESSCONTROL-ROLES.roles:AUDITED_ROLE', 'updated', 'Audited again'],
      ['ACCESSCONTROL-ROLES.roles:AUDITED_ROLE', 'created', 'Audited'],
    ]);
    expect(entries.every((e) => e.actor === adminUuid)).toBe(true);
  });

  it('role-action granted through MDMS v2; other masters leave none; the chain verifies', async () => {
    const before = (await accessChanges('pb')).length;
    const grant = { rolecode: 'AUDITED_ROLE', actionid: 3201, actioncode: 'NOTIFICATION_SEARCH', tenantId: 'pb' };
    const created = await post(platform, '/mdms-v2/v2/_create/ACCESSCONTROL-ROLEACTIONS.roleactions', { RequestInfo: requestInfo, Mdms: { tenantId: 'pb', data: grant } }, admin);
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    const department = await post(platform, '/mdms-v2/v2/_create/common-masters.Department', { RequestInfo: requestInfo, Mdms: { tenantId: 'pb', data: { code: 'DEPT_AUDIT', name: 'Audit', active: true } } }, admin);
    expect(department.status, JSON.stringify(department.body)).toBe(202);
    const entries = await accessChanges('pb');
    expect(entries).toHaveLength(before + 1);
    expect(entries[0]).toMatchObject({ actor: adminUuid, details: { change: 'created', schemaCode: 'ACCESSCONTROL-ROLEACTIONS.roleactions', data: grant } });
    expect(entries[0]!.subject).toMatch(/^ACCESSCONTROL-ROLEACTIONS\.roleactions:/);
    expect(await platform.audit.log.verify('pb')).toMatchObject({ ok: true });
  });
});
