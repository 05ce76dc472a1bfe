import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../common/audit/index.js';
import { adminAuth, login, post, requestInfo, testPlatform, type TestPlatform } from '../../../test/helpers.js';

/**
 * A complaint's citizen (name, mobile number) is decrypted for every answer: it is shown by the
 * `PGR` security policy (`PGRSelf` for the citizen's own) and each decryption is audited, as the
 * individual registry does for people.
 */

type Json = Record<string, unknown>;
type Who = { auth: Record<string, string>; uuid: string };

let platform: TestPlatform;
let admin: Record<string, string>;
let gro: Who;
let clerk: Who;
let supervisor: Who;
let lme: Who;
let citizen: Who;
let complaintId: string;

const PASSWORD = 'Field@2026x';
const BASE = '/pgr-services/v2/request';
const NAME = 'Harleen Kaur';
const MOBILE = '9876543210';
const PLAIN = { name: NAME, mobileNumber: MOBILE };
const MASKED = { name: 'H****** K***', mobileNumber: '******3210' };

async function person(
  userName: string,
  type: 'EMPLOYEE' | 'CITIZEN',
  roles: readonly string[],
  mobileNumber: string,
  name = `Person ${userName}`,
): Promise<Who> {
  const tenantId = type === 'CITIZEN' ? 'pb' : 'pb.amritsar';
  const created = await post(
    platform,
    '/user/users/_createnovalidate',
    {
      RequestInfo: {},
      user: { userName, name, password: PASSWORD, type, tenantId, mobileNumber, roles: roles.map((code) => ({ code, tenantId })) },
    },
    admin,
  );
  if (created.status !== 200) throw new Error(`creating ${userName}: ${created.status} ${JSON.stringify(created.body)}`);
  const { status, body } = await login(platform, userName, PASSWORD, tenantId, type);
  if (status !== 200) throw new Error(`${userName} login: ${status} ${JSON.stringify(body)}`);
  return { auth: { authorization: `Bearer ${String(body['access_token'])}` }, uuid: String((body['UserRequest'] as Json)['uuid']) };
}

const citizenOf = (body: Json) => ((body['ServiceWrappers'] as Json[])[0]!['service'] as Json)['citizen'] as Json;

async function search(who: Who): Promise<Json> {
  const { status, body } = await post(
    platform,
    `${BASE}/_search?tenantId=pb.amritsar&serviceRequestId=${complaintId}`,
    { RequestInfo: requestInfo },
    who.auth,
  );
  expect(status, JSON.stringify(body)).toBe(200);
  return body;
}

const decryptions = (): Promise<AuditEntry[]> =>
  platform.audit.log.search({ tenantId: 'pb.amritsar', subject: complaintId, actions: ['pii.decrypted'], offset: 0, limit: 100 });

beforeAll(async () => {
  platform = await testPlatform();
  admin = await adminAuth(platform);
  gro = await person('privacy_gro', 'EMPLOYEE', ['EMPLOYEE', 'GRO'], '9811111111');
  clerk = await person('privacy_clerk', 'EMPLOYEE', ['EMPLOYEE'], '9811111112');
  supervisor = await person('privacy_supervisor', 'EMPLOYEE', ['EMPLOYEE', 'SUPERVISOR'], '9811111113');
  lme = await person('privacy_lme', 'EMPLOYEE', ['EMPLOYEE', 'PGR_LME'], '9811111114');
  citizen = await person(MOBILE, 'CITIZEN', ['CITIZEN'], MOBILE, NAME);
  const filed = await post(
    platform,
    `${BASE}/_create`,
    {
      RequestInfo: requestInfo,
      service: {
        tenantId: 'pb.amritsar',
        serviceCode: 'StreetLightNotWorking',
        description: 'The light is out',
        source: 'web',
        address: { locality: { code: 'SUN04' } },
      },
      workflow: { action: 'APPLY' },
    },
    citizen.auth,
  );
  expect(filed.status, JSON.stringify(filed.body)).toBe(200);
  expect(citizenOf(filed.body)).toMatchObject(PLAIN);
  complaintId = String(((filed.body['ServiceWrappers'] as Json[])[0]!['service'] as Json)['serviceRequestId']);
});
afterAll(() => platform.drop());

describe('complaints: the citizen shown by policy, each decryption audited', () => {
  it('filing decrypts nothing stored, so it leaves no entry', async () => {
    expect(await decryptions()).toEqual([]);
  });

  it('shows the complaint team the citizen in full, other employees masked, the citizen their own', async () => {
    expect(citizenOf(await search(gro))).toMatchObject(PLAIN);
    expect(citizenOf(await search(citizen))).toMatchObject(PLAIN);
    for (const who of [clerk, supervisor]) {
      const body = await search(who);
      expect(citizenOf(body)).toMatchObject(MASKED);
      // Only the citizen is policy data: the complaint itself is the employee's to handle.
      expect(((body['ServiceWrappers'] as Json[])[0]!['service'] as Json)['description']).toBe('The light is out');
      expect(JSON.stringify(body)).not.toContain(MOBILE);
    }

    const entries = await decryptions();
    expect(entries.map((e) => e.actorUuid).sort()).toEqual([gro.uuid, citizen.uuid, clerk.uuid, supervisor.uuid].sort());
    for (const entry of entries) {
      expect(entry.details).toEqual({ model: 'PGR', purpose: 'search', fields: ['citizenName', 'citizenMobileNumber'] });
      expect(entry.outcome).toBe('success');
    }
    expect(JSON.stringify(entries)).not.toContain(MOBILE);
    expect(JSON.stringify(entries)).not.toContain('Harleen');
  });

  it('audits the inbox and an update as what they are, and answers them by the same policy', async () => {
    const before = (await decryptions()).length;
    const inbox = await post(
      platform,
      '/inbox/v2/_search',
      {
        RequestInfo: requestInfo,
        inbox: {
          tenantId: 'pb.amritsar',
          processSearchCriteria: { businessService: ['PGR'] },
          moduleSearchCriteria: { serviceRequestId: complaintId },
          limit: 10,
          offset: 0,
        },
      },
      gro.auth,
    );
    expect(inbox.status, JSON.stringify(inbox.body)).toBe(200);
    const item = (inbox.body['items'] as Json[])[0]!;
    expect((item['businessObject'] as Json)['citizen']).toMatchObject(PLAIN);

    const assigned = await post(
      platform,
      `${BASE}/_update`,
      {
        RequestInfo: requestInfo,
        service: { tenantId: 'pb.amritsar', serviceRequestId: complaintId },
        workflow: { action: 'ASSIGN', assignes: [lme.uuid], comments: 'to the field' },
      },
      gro.auth,
    );
    expect(assigned.status, JSON.stringify(assigned.body)).toBe(200);
    expect(citizenOf(assigned.body)).toMatchObject(PLAIN);

    const all = await decryptions();
    const added = all.slice(0, all.length - before);
    expect(added.map((e) => [e.actorUuid, e.details['purpose']]).sort()).toEqual(
      [
        [gro.uuid, 'inbox'],
        [gro.uuid, 'update'],
      ].sort(),
    );
  });

  it('follows the policy in MDMS: once the team is no longer named, their answers are masked, updates too', async () => {
    const found = await post(
      platform,
      '/mdms-v2/v2/_search',
      { RequestInfo: requestInfo, MdmsCriteria: { tenantId: 'pb', schemaCode: 'DataSecurity.SecurityPolicy', uniqueIdentifiers: ['PGR'] } },
      admin,
    );
    const record = (found.body['mdms'] as Json[])[0] as Json & { data: { roleBasedDecryptionPolicy: Array<{ roles: string[] }> } };
    const data = structuredClone(record.data);
    for (const entry of data.roleBasedDecryptionPolicy) entry.roles = entry.roles.filter((r) => r !== 'GRO' && r !== 'PGR_LME');
    const changed = await post(
      platform,
      '/mdms-v2/v2/_update/DataSecurity.SecurityPolicy',
      { RequestInfo: requestInfo, Mdms: { ...record, data } },
      admin,
    );
    expect(changed.status, JSON.stringify(changed.body)).toBe(202);

    expect(citizenOf(await search(gro))).toMatchObject(MASKED);
    const resolved = await post(
      platform,
      `${BASE}/_update`,
      {
        RequestInfo: requestInfo,
        service: { tenantId: 'pb.amritsar', serviceRequestId: complaintId },
        workflow: { action: 'RESOLVE', comments: 'fixed' },
      },
      lme.auth,
    );
    expect(resolved.status, JSON.stringify(resolved.body)).toBe(200);
    expect(citizenOf(resolved.body)).toMatchObject(MASKED);
    expect(JSON.stringify(resolved.body)).not.toContain(MOBILE);
    // A masked value was still decrypted to be masked: the entry names what was shown.
    const [latest] = await decryptions();
    expect(latest).toMatchObject({
      actorUuid: lme.uuid,
      details: { model: 'PGR', purpose: 'update', fields: ['citizenName', 'citizenMobileNumber'] },
    });
    // The citizen still sees their own in full (PGRSelf).
    expect(citizenOf(await search(citizen))).toMatchObject(PLAIN);
  });
});
