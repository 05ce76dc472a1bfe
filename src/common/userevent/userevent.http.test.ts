import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuth, employeeAuth, isDigitError, login, post, requestInfo, testPlatform, type TestPlatform } from '../../../test/helpers.js';
import { SYSTEM_SCOPE } from '../../kernel/scope.js';

type Json = Record<string, unknown>;
let platform: TestPlatform;
let admin: Record<string, string>;
let employee: Record<string, string>;
let now = Date.now();

/** A citizen with a password (created as admin), logged in; answers its header and uuid. */
async function citizen(userName: string, mobileNumber: string) {
  const password = 'Citizen@2026x';
  const created = await post(
    platform,
    '/user/users/_createnovalidate',
    { RequestInfo: {}, user: { userName, name: userName, password, type: 'CITIZEN', tenantId: 'pb', mobileNumber, roles: [{ code: 'CITIZEN', tenantId: 'pb' }] } },
    admin,
  );
  if (created.status !== 200) throw new Error(`creating ${userName}: ${created.status} ${JSON.stringify(created.body)}`);
  const uuid = String(((created.body['user'] as Json[])[0] as Json)['uuid']);
  const { status, body } = await login(platform, userName, password, 'pb', 'CITIZEN');
  if (status !== 200) throw new Error(`${userName} login: ${status} ${JSON.stringify(body)}`);
  return { auth: { authorization: `Bearer ${String(body['access_token'])}` }, uuid };
}

let asha: { auth: Record<string, string>; uuid: string };
let ravi: { auth: Record<string, string>; uuid: string };

const event = (over: Json = {}) => ({
  tenantId: 'pb.amritsar',
  eventType: 'SYSTEMGENERATED',
  eventCategory: 'PGR',
  name: 'Complaint resolved',
  description: 'Your complaint PGR-1 was resolved',
  source: 'WEBAPP',
  recepient: { toUsers: [asha.uuid], toRoles: [] },
  actions: { actionUrls: [{ actionUrl: '/digit-ui/citizen/pgr/complaints/PGR-1', code: 'VIEW' }] },
  ...over,
});

const search = (auth: Record<string, string>, query = 'tenantId=pb.amritsar') => post(platform, `/egov-user-event/v1/events/_search?${query}`, { RequestInfo: requestInfo }, auth);
const count = (auth: Record<string, string>) => post(platform, '/egov-user-event/v1/events/notifications/_count?tenantId=pb.amritsar', { RequestInfo: requestInfo }, auth);
const names = (body: Json) => (body['events'] as Json[]).map((e) => e['name']).sort();

beforeAll(async () => {
  platform = await testPlatform({ clock: { now: () => now } });
  admin = await adminAuth(platform);
  employee = await employeeAuth(platform, admin, 'events-employee', ['EMPLOYEE']);
  asha = await citizen('asha-events', '9811111111');
  ravi = await citizen('ravi-events', '9822222222');
});
afterAll(async () => platform?.drop());

describe('egov-user-event over HTTP', () => {
  it('creates events with ids, audit and the poster, and the citizen finds theirs', async () => {
    const created = await post(platform, '/egov-user-event/v1/events/_create', { RequestInfo: requestInfo, events: [event()] }, employee);
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const [one] = created.body['events'] as Json[];
    expect(one).toMatchObject({ tenantId: 'pb.amritsar', status: 'ACTIVE', name: 'Complaint resolved', recepient: { toUsers: [asha.uuid] } });
    expect(one!['id']).toEqual(expect.any(String));
    expect((one!['actions'] as Json)['eventId']).toBe(one!['id']);
    expect(one!['auditDetails']).toMatchObject({ createdTime: now });

    const found = await search(asha.auth);
    expect(found.status).toBe(200);
    expect(found.body['events']).toEqual([expect.objectContaining({ id: one!['id'] })]);
    expect(found.body['totalCount']).toBe(1);
  });

  it('shows a citizen only what is addressed to them or their role, never another citizen’s events', async () => {
    await post(platform, '/egov-user-event/v1/events/_create', { events: [event({ name: 'For Ravi', recepient: { toUsers: [ravi.uuid] } }), event({ name: 'For all citizens', recepient: { toRoles: ['CITIZEN'] } }), event({ name: 'For employees', recepient: { toRoles: ['EMPLOYEE'] } })] }, employee);
    expect(names((await search(asha.auth)).body)).toEqual(['Complaint resolved', 'For all citizens']);
    expect(names((await search(ravi.auth)).body)).toEqual(['For Ravi', 'For all citizens']);
    // A citizen naming someone else's uuid or an event id still sees only their own.
    expect(names((await search(ravi.auth, `tenantId=pb.amritsar&userids=${asha.uuid}`)).body)).toEqual(['For Ravi', 'For all citizens']);
    const ashas = (await search(asha.auth)).body['events'] as Json[];
    const byId = await search(ravi.auth, `tenantId=pb.amritsar&ids=${String(ashas.find((e) => e['name'] === 'Complaint resolved')!['id'])}`);
    expect(byId.body['events']).toEqual([]);
    // The employee sees what is addressed to EMPLOYEE plus what they posted; the admin sees all.
    expect(names((await search(employee)).body)).toContain('For employees');
    expect((await search(admin)).body['totalCount']).toBe(4);
  });

  it('filters by status and event type, and hides inactive broadcasts from citizens', async () => {
    await post(platform, '/egov-user-event/v1/events/_create', { events: [event({ name: 'Old notice', eventType: 'BROADCAST', status: 'INACTIVE', recepient: null }), event({ name: 'Water cut', eventType: 'BROADCAST', recepient: null })] }, employee);
    expect(names((await search(asha.auth, 'tenantId=pb.amritsar&eventTypes=BROADCAST')).body)).toEqual(['Water cut']);
    expect(names((await search(employee, 'tenantId=pb.amritsar&eventTypes=BROADCAST&status=INACTIVE')).body)).toEqual(['Old notice']);
    expect(names((await search(asha.auth, 'tenantId=pb.amritsar&status=ACTIVE&eventTypes=SYSTEMGENERATED,EVENTSONGROUND')).body)).toEqual(['Complaint resolved', 'For all citizens']);
  });

  it('counts unread notifications since the last access time', async () => {
    const before = await count(asha.auth);
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({ ResponseInfo: expect.objectContaining({ status: 'successful' }), totalCount: 4, unreadCount: 3 });
    now += 1000;
    const seen = await post(platform, '/egov-user-event/v1/events/lat/_update?tenantId=pb.amritsar', { RequestInfo: requestInfo }, asha.auth);
    expect(seen.status).toBe(200);
    expect(seen.body).toMatchObject({ status: 'successful' });
    expect((await count(asha.auth)).body).toMatchObject({ totalCount: 4, unreadCount: 0 });
    now += 1000;
    await platform.userEvent.create([event({ name: 'New one', recepient: { toUsers: [asha.uuid] } }) as never], { uuid: null }, SYSTEM_SCOPE);
    expect((await count(asha.auth)).body).toMatchObject({ totalCount: 5, unreadCount: 1 });
    // Ravi's own clock is untouched by Asha's.
    expect((await count(ravi.auth)).body).toMatchObject({ totalCount: 4, unreadCount: 3 });
  });

  it('updates an event (all or none) and refuses unknown ids', async () => {
    const [mine] = (await search(asha.auth, 'tenantId=pb.amritsar&eventTypes=SYSTEMGENERATED&name=New%20one')).body['events'] as Json[];
    now += 1000;
    const updated = await post(platform, '/egov-user-event/v1/events/_update', { events: [{ ...mine, status: 'CANCELLED' }] }, employee);
    expect(updated.status, JSON.stringify(updated.body)).toBe(200);
    expect((updated.body['events'] as Json[])[0]).toMatchObject({ id: mine!['id'], status: 'CANCELLED', auditDetails: expect.objectContaining({ lastModifiedTime: now }) });
    expect(names((await search(asha.auth)).body)).not.toContain('New one');
    const unknown = await post(platform, '/egov-user-event/v1/events/_update', { events: [{ ...mine, status: 'ACTIVE' }, event({ id: 'no-such-event' })] }, employee);
    expect(unknown.status).toBe(400);
    expect(unknown.body['Errors']).toEqual([expect.objectContaining({ code: 'INVALID_EVENT_ID' })]);
    expect(names((await search(asha.auth)).body)).not.toContain('New one');
  });

  it('refuses bad input with 400 and writes nothing', async () => {
    const total = (await search(admin)).body['totalCount'];
    const bad: Json[] = [
      { events: [] },
      { events: [event({ eventType: 'GOSSIP' })] },
      { events: [event({ name: 'x'.repeat(66) })] },
      { events: [event({ source: 'FAX' })] },
      { events: [event({ recepient: { toUsers: [], toRoles: [] } })] },
      { events: [event(), event({ actions: { actionUrls: [{ actionUrl: 'javascript:alert(1)', code: 'X' }] } })] },
      { events: [event({ description: '<script>alert(1)</script>' })] },
      { events: [event({ tenantId: 'Not A Tenant' })] },
      { events: [event({ eventDetails: { fromDate: 10, toDate: 5 } })] },
    ];
    for (const body of bad) {
      const response = await post(platform, '/egov-user-event/v1/events/_create', body, employee);
      expect([400, 403], JSON.stringify(body).slice(0, 200)).toContain(response.status);
      expect(isDigitError(response.body)).toBe(true);
    }
    expect((await search(admin)).body['totalCount']).toBe(total);
    expect((await post(platform, '/egov-user-event/v1/events/_search', {}, asha.auth)).status).toBe(400);
    expect((await search(asha.auth, 'tenantId=pb.amritsar&limit=0')).status).toBe(400);
  });

  it('requires a token (401) and the right role (403)', async () => {
    expect((await post(platform, '/egov-user-event/v1/events/_create', { events: [event()] })).status).toBe(401);
    expect((await post(platform, '/egov-user-event/v1/events/_search?tenantId=pb.amritsar', {})).status).toBe(401);
    expect((await post(platform, '/egov-user-event/v1/events/_create', { events: [event()] }, asha.auth)).status).toBe(403);
    const registrar = await employeeAuth(platform, admin, 'events-registrar', ['REGISTRAR']);
    expect((await search(registrar)).status).toBe(403);
  });
});
