import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testPlatform, type TestPlatform } from '../../../test/helpers.js';
import type { RoleGrant } from '../../kernel/auth.js';
import { DomainError } from '../../kernel/errors.js';
import { scopeFor, SYSTEM_SCOPE } from '../../kernel/scope.js';
import { createAccessService, templatePattern, type AccessService } from './access.service.js';

const ROLE_ACTIONS = 'ACCESSCONTROL-ROLEACTIONS.roleactions';
const ACTIONS = 'ACCESSCONTROL-ACTIONS-TEST.actions-test';
// Seed: EMPLOYEE (among others) may call this; MDMS_ADMIN and SUPERUSER may call the templated create.
const MENU = '/access/v1/actions/mdms/_get';
const MDMS_CREATE = '/mdms-v2/v2/_create/common-masters.Department';
/** A caller whose roles cover the state for the role writes (what the kernel would put in request.scope). */
const STATE = scopeFor(null, ['pb']);

let platform: TestPlatform;
let access: AccessService;
beforeAll(async () => {
  platform = await testPlatform();
  access = createAccessService({ mdms: platform.mdms.service, changes: platform.changes });
});
afterAll(async () => {
  access.close();
  await platform.drop();
});

const role = (code: string, tenantId: string): RoleGrant => ({ code, tenantId });
const allowed = (roles: RoleGrant[], uri: string, tenantIds: string[]) => access.isAuthorized(roles, uri, tenantIds);

async function record(schemaCode: string, uniqueIdentifier: string) {
  const [found] = await platform.mdms.service.searchData({ tenantId: 'pb', schemaCode, uniqueIdentifiers: [uniqueIdentifier] }, SYSTEM_SCOPE);
  if (!found) throw new Error(`no ${schemaCode} ${uniqueIdentifier} in the seed`);
  return found;
}

async function setActive(schemaCode: string, uniqueIdentifier: string, isActive: boolean) {
  const found = await record(schemaCode, uniqueIdentifier);
  await platform.mdms.service.updateData(schemaCode, { ...found, data: found.data as object, isActive }, { uuid: null }, SYSTEM_SCOPE);
}

describe('isAuthorized: tenants', () => {
  it('lets a state-level role act in the state and in every city of it', async () => {
    const roles = [role('EMPLOYEE', 'pb')];
    expect(await allowed(roles, MENU, ['pb'])).toBe(true);
    expect(await allowed(roles, MENU, ['pb.amritsar'])).toBe(true);
    expect(await allowed(roles, MENU, ['pb.jalandhar'])).toBe(true);
  });

  it('keeps a city role to its city: not another city, not the state', async () => {
    const roles = [role('EMPLOYEE', 'pb.amritsar')];
    expect(await allowed(roles, MENU, ['pb.amritsar'])).toBe(true);
    expect(await allowed(roles, MENU, ['pb.jalandhar'])).toBe(false);
    expect(await allowed(roles, MENU, ['pb'])).toBe(false);
  });

  it('needs a covering role for every tenant the request touches', async () => {
    const both = ['pb.amritsar', 'pb.jalandhar'];
    expect(await allowed([role('EMPLOYEE', 'pb.amritsar')], MENU, both)).toBe(false);
    // A role in the other city that does not map to the URI does not help either.
    expect(await allowed([role('EMPLOYEE', 'pb.amritsar'), role('GA', 'pb.jalandhar')], MENU, both)).toBe(false);
    expect(await allowed([role('EMPLOYEE', 'pb.amritsar'), role('GRO', 'pb.jalandhar')], MENU, both)).toBe(true);
    expect(await allowed([role('EMPLOYEE', 'pb')], MENU, both)).toBe(true);
  });

  it('denies an empty tenant list, no roles, roles of another state and unknown tenants', async () => {
    expect(await allowed([role('SUPERUSER', 'pb')], MENU, [])).toBe(false);
    expect(await allowed([], MENU, ['pb'])).toBe(false);
    expect(await allowed([role('SUPERUSER', 'hp')], MENU, ['pb.amritsar'])).toBe(false);
    expect(await allowed([role('SUPERUSER', 'zz')], MENU, ['zz'])).toBe(false);
    expect(await allowed([role('SUPERUSER', 'zz')], MENU, ['zz.city'])).toBe(false);
    // `pbx` is not a city of `pb`.
    expect(await allowed([role('SUPERUSER', 'pb')], MENU, ['pbx.city'])).toBe(false);
  });
});

describe('scopeFor: the tenants the caller may reach for an action', () => {
  it('keeps the grants whose role the state maps to the URI, each on its own tenant', async () => {
    const roles = [role('EMPLOYEE', 'pb.amritsar'), role('GA', 'pb.jalandhar'), role('GRO', 'pb.mohali'), role('SUPERUSER', 'hp')];
    expect([...(await access.scopeFor(roles, MENU))].sort()).toEqual(['pb.amritsar', 'pb.mohali']);
    expect(await access.scopeFor([role('EMPLOYEE', 'pb')], `${MENU}?tenantId=pb`)).toEqual(['pb']);
    expect(await access.scopeFor([role('EMPLOYEE', 'pb')], MDMS_CREATE)).toEqual([]);
    expect(await access.scopeFor([role('MDMS_ADMIN', 'pb.amritsar')], MDMS_CREATE)).toEqual(['pb.amritsar']);
    expect(await access.scopeFor([], MENU)).toEqual([]);
  });

  it('agrees with isAuthorized: authorized exactly when every tenant lies inside the scope', async () => {
    const roleSets = [[role('EMPLOYEE', 'pb.amritsar')], [role('EMPLOYEE', 'pb')], [role('GA', 'pb'), role('GRO', 'pb.jalandhar')], [role('SUPERUSER', 'hp')]];
    const tenantSets = [['pb'], ['pb.amritsar'], ['pb.jalandhar'], ['pb.amritsar', 'pb.jalandhar'], ['hp.shimla'], ['pbx.city']];
    for (const roles of roleSets) {
      const scope = await access.scopeFor(roles, MENU);
      for (const tenants of tenantSets) {
        const inside = tenants.every((t) => scope.some((root) => t === root || t.startsWith(`${root}.`)));
        expect(await allowed(roles, MENU, tenants), `${JSON.stringify(roles)} on ${tenants.join(',')}`).toBe(inside);
      }
    }
  });
});

describe('isAuthorized: URIs', () => {
  it('matches a templated action URL on one path segment, codes with dots and dashes included', async () => {
    const admin = [role('MDMS_ADMIN', 'pb')];
    expect(await allowed(admin, MDMS_CREATE, ['pb'])).toBe(true);
    expect(await allowed(admin, '/mdms-v2/v2/_create/RAINMAKER-PGR.ServiceDefs', ['pb.amritsar'])).toBe(true);
    expect(await allowed(admin, '/mdms-v2/v2/_create/a/b', ['pb'])).toBe(false);
    expect(await allowed(admin, '/mdms-v2/v2/_create/', ['pb'])).toBe(false);
    expect(await allowed([role('EMPLOYEE', 'pb')], MDMS_CREATE, ['pb'])).toBe(false);
  });

  it('denies unknown URIs and unknown roles; ignores a query string', async () => {
    expect(await allowed([role('SUPERUSER', 'pb')], '/no/such/_api', ['pb'])).toBe(false);
    expect(await allowed([role('NO_SUCH_ROLE', 'pb')], MENU, ['pb'])).toBe(false);
    expect(await allowed([role('EMPLOYEE', 'pb')], `${MENU}/extra`, ['pb'])).toBe(false);
    expect(await allowed([role('EMPLOYEE', 'pb')], `${MENU}?tenantId=pb`, ['pb'])).toBe(true);
  });

  it('compiles templates into anchored regexes with the literal parts escaped', () => {
    const pattern = templatePattern('/a.b/{x}/c+{y}');
    expect(pattern.test('/a.b/one/c+two')).toBe(true);
    expect(pattern.test('/aXb/one/c+two')).toBe(false);
    expect(pattern.test('/a.b/one/cc+two')).toBe(false);
    expect(pattern.test('/prefix/a.b/one/c+two')).toBe(false);
  });
});

describe('isAuthorized: master data changes take effect at once', () => {
  it('revokes a right when its role-action is deactivated, and restores it when reactivated', async () => {
    const roles = [role('EMPLOYEE', 'pb')];
    expect(await allowed(roles, MENU, ['pb.amritsar'])).toBe(true);
    await setActive(ROLE_ACTIONS, 'EMPLOYEE.106', false);
    expect(await allowed(roles, MENU, ['pb.amritsar'])).toBe(false);
    expect(await allowed([role('GRO', 'pb')], MENU, ['pb.amritsar'])).toBe(true);
    await setActive(ROLE_ACTIONS, 'EMPLOYEE.106', true);
    expect(await allowed(roles, MENU, ['pb.amritsar'])).toBe(true);
  });

  it('revokes every mapping of a deactivated action', async () => {
    const admin = [role('MDMS_ADMIN', 'pb')];
    expect(await allowed(admin, MDMS_CREATE, ['pb'])).toBe(true);
    await setActive(ACTIONS, '1305', false);
    expect(await allowed(admin, MDMS_CREATE, ['pb'])).toBe(false);
    await setActive(ACTIONS, '1305', true);
    expect(await allowed(admin, MDMS_CREATE, ['pb'])).toBe(true);
  });

  it('grants a new role-action as soon as it is created', async () => {
    const ga = [role('GA', 'pb.amritsar')];
    expect(await allowed(ga, '/egov-hrms/employees/_search', ['pb.amritsar'])).toBe(false);
    await platform.mdms.service.createData(
      ROLE_ACTIONS,
      { tenantId: 'pb', data: { rolecode: 'GA', actionid: 303, actioncode: 'EGOV_HRMS_EMPLOYEES_SEARCH', tenantId: 'pb' } },
      { uuid: null }, SYSTEM_SCOPE,
    );
    expect(await allowed(ga, '/egov-hrms/employees/_search', ['pb.amritsar'])).toBe(true);
  });
});

describe('searchActions and searchRoles', () => {
  it('lists the actions mapped to the roles, filtered by enabled, in id order', async () => {
    const actions = await access.searchActions({ roleCodes: ['EMPLOYEE'], tenantId: 'pb.amritsar' });
    expect(actions.length).toBeGreaterThan(10);
    expect(actions.map((a) => a.id)).toEqual([...actions.map((a) => a.id)].sort((a, b) => a - b));
    expect(actions.find((a) => a.id === 106)).toMatchObject({ url: MENU, enabled: false, serviceCode: 'AccessControl', createdBy: null });
    expect(actions.some((a) => a.id === 1305)).toBe(false);
    expect(await access.searchActions({ roleCodes: ['EMPLOYEE'], tenantId: 'pb', enabled: true })).toEqual([]);
    expect(await access.searchActions({ roleCodes: ['EMPLOYEE'], tenantId: 'pb', enabled: false })).toHaveLength(actions.length);
    expect(await access.searchActions({ roleCodes: ['NO_SUCH_ROLE'], tenantId: 'pb' })).toEqual([]);
  });

  it('finds roles by code, or all of them, with city tenants falling back to the state', async () => {
    const some = await access.searchRoles({ codes: ['SUPERUSER', 'EMPLOYEE'], tenantId: 'pb.amritsar' });
    expect(some.map((r) => r.code).sort()).toEqual(['EMPLOYEE', 'SUPERUSER']);
    expect(some.find((r) => r.code === 'SUPERUSER')).toMatchObject({ name: 'Super User', description: expect.any(String) });
    expect((await access.searchRoles({ tenantId: 'pb' })).length).toBeGreaterThanOrEqual(21);
  });

  it('refuses an unknown tenant', async () => {
    await expect(access.searchRoles({ tenantId: 'zz' })).rejects.toMatchObject({ code: 'INVALID_TENANT_ID' });
  });
});

describe('role writes', () => {
  it('creates roles at the state tenant, attributed to the actor', async () => {
    const created = await access.createRoles(
      [{ code: 'TL_CEMP', name: 'TL Counter Employee', description: 'Trade licence counter' }],
      'pb.amritsar',
      {
        uuid: 'user-1',
      }, STATE,
    );
    expect(created).toEqual([{ code: 'TL_CEMP', name: 'TL Counter Employee', description: 'Trade licence counter' }]);
    const stored = await record('ACCESSCONTROL-ROLES.roles', 'TL_CEMP');
    expect(stored.tenantId).toBe('pb');
    expect(stored.auditDetails).toMatchObject({ createdBy: 'user-1', lastModifiedBy: 'user-1' });
    expect(await access.searchRoles({ codes: ['TL_CEMP'], tenantId: 'pb' })).toHaveLength(1);
  });

  it('refuses duplicates, in the request or in the master, before writing anything', async () => {
    const dup = access.createRoles(
      [
        { code: 'NEW_ONE', name: 'New' },
        { code: 'NEW_ONE', name: 'New again' },
      ],
      'pb',
      { uuid: null }, STATE,
    );
    await expect(dup).rejects.toMatchObject({ code: 'DUPLICATE_ROLE_CODE' });
    const existing = access.createRoles(
      [
        { code: 'NEW_TWO', name: 'New' },
        { code: 'EMPLOYEE', name: 'Employee' },
      ],
      'pb',
      { uuid: null }, STATE,
    );
    await expect(existing).rejects.toBeInstanceOf(DomainError);
    expect(await access.searchRoles({ codes: ['NEW_ONE', 'NEW_TWO'], tenantId: 'pb' })).toEqual([]);
  });

  it("refuses a caller whose scope does not cover the state, where roles are written (403, nothing written)", async () => {
    const city = scopeFor(null, ['pb.amritsar']);
    await expect(access.createRoles([{ code: 'CITY_MADE', name: 'City made' }], 'pb.amritsar', { uuid: null }, city)).rejects.toMatchObject({
      kind: 'forbidden',
      code: 'CustomException',
    });
    expect(await access.searchRoles({ codes: ['CITY_MADE'], tenantId: 'pb' })).toEqual([]);
    await expect(access.updateRoles([{ code: 'EMPLOYEE', name: 'Renamed' }], 'pb.amritsar', { uuid: null }, city)).rejects.toMatchObject({ kind: 'forbidden' });
    expect((await access.searchRoles({ codes: ['EMPLOYEE'], tenantId: 'pb' }))[0]?.name).not.toBe('Renamed');
  });

  it('updates name and description, keeping the creator and recording the modifier', async () => {
    const [updated] = await access.updateRoles([{ code: 'TL_CEMP', name: 'TL Clerk', description: null }], 'pb', { uuid: 'user-2' }, STATE);
    expect(updated).toEqual({ code: 'TL_CEMP', name: 'TL Clerk', description: null });
    const stored = await record('ACCESSCONTROL-ROLES.roles', 'TL_CEMP');
    expect(stored.auditDetails).toMatchObject({ createdBy: 'user-1', lastModifiedBy: 'user-2' });
    await expect(access.updateRoles([{ code: 'NO_SUCH_ROLE', name: 'x' }], 'pb', { uuid: null }, STATE)).rejects.toMatchObject({
      code: 'INVALID_ROLE_CODE',
    });
  });
});
