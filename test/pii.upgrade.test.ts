import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../src/common/user/user.passwords.js';
import { newId } from '../src/kernel/ids.js';
import { createPlatform, type Platform } from '../src/platform.js';
import { adminAuth, login, post, requestInfo, testDatabase, type TestDatabase } from './helpers.js';

/**
 * Issue #14: rows written in clear before their module encrypted personal data (a database
 * upgraded from an earlier Plinth) are encrypted when the platform starts, on both engines, and
 * read and searched as before.
 */

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const MOBILE = '9876012345';
const NAME = 'Oldrow Singh';
let db: TestDatabase;
let platform: Platform;

async function start(): Promise<Platform> {
  const p = await createPlatform(db.config, { seedOnFirstStart: true });
  await p.bootstrapAdmin();
  await p.start();
  return p;
}

beforeAll(async () => {
  db = await testDatabase();
  platform = await start();
});
afterAll(async () => {
  await platform?.stop();
  await db?.drop();
});

describe('upgrading a database with personal data in clear', () => {
  it('encrypts users, complaints, notifications and households at start; login and search by mobile still find them', async () => {
    const { database } = platform;
    const now = Date.now();
    const complaintId = newId();
    const householdId = newId();
    const messageId = newId();
    // Rows as the earlier version wrote them.
    await sql`insert into pgr_service (id, tenant_id, service_request_id, service_code, description, account_id, citizen_name, citizen_mobile, rating,
      application_status, source, locality_code, address, documents, additional_detail, last_action, assignees, active, created_by, last_modified_by, created_time, last_modified_time)
      values (${complaintId}, 'pb.amritsar', 'PB-PGR-OLD-1', 'StreetLightNotWorking', ${`Dark near ${NAME}`}, 'acc-1', ${NAME}, ${MOBILE}, null,
      'PENDINGFORASSIGNMENT', 'web', 'SUN04', ${database.toJson({ landmark: `${NAME} gate`, locality: { code: 'SUN04' } })}, ${database.toJson([])}, ${database.toJson({ serviceName: 'Street light' })},
      'APPLY', ${database.toJson([])}, ${database.toBool(true)}, 'acc-1', 'acc-1', ${now}, ${now})`.execute(database.kysely);
    // A household as the API stores it, its address then put back in clear as the earlier version kept it.
    const admin0 = await adminAuth(platform);
    const created = await post(
      platform,
      '/household/v1/_create',
      {
        RequestInfo: requestInfo,
        Household: { tenantId: 'pb.amritsar', clientReferenceId: `hh-${householdId}`, memberCount: 2, householdType: 'FAMILY', address: { doorNo: '7', landmark: `${NAME} well`, locality: { code: 'SUN04' } } },
      },
      admin0,
    );
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const household = created.body['Household'] as Json;
    await sql`update household set address = ${database.toJson(household.address)} where id = ${household.id}`.execute(database.kysely);
    expect(JSON.stringify((await sql<Json>`select address from household where id = ${household.id}`.execute(database.kysely)).rows)).toContain(NAME);
    await sql`insert into notification_message (id, idempotency_key, channel, recipient, tenant_id, module, reference_id, template_key, locale, address, subject, body, status, attempts, last_error, created_time, sent_time)
      values (${messageId}, 'old-1', 'SMS', ${`mobile:${MOBILE}`}, 'pb.amritsar', 'pgr', 'PB-PGR-OLD-1', 'T', 'en_IN', ${MOBILE}, ${`Dear ${NAME}`}, ${`Dear ${NAME}, filed`}, 'sent', 1, null, ${now}, ${now})`.execute(
      database.kysely,
    );

    // A user as the earlier version kept it: name, user name, mobile, e-mail and profile in clear, no blind index.
    const userUuid = newId();
    await sql`insert into users (uuid, tenant_id, type, user_name, name, mobile_number, email_id, profile, password_hash, password_changed_time, active, account_locked, created_time, last_modified_time)
      values (${userUuid}, 'pb.amritsar', 'EMPLOYEE', 'oldrow.clerk', ${NAME}, ${MOBILE}, 'oldrow@example.org', ${database.toJson({ pan: 'OLDRW1234P', gender: 'MALE' })},
      ${await hashPassword('Oldrow@2026')}, ${now}, ${database.toBool(true)}, ${database.toBool(false)}, ${now}, ${now})`.execute(database.kysely);
    await sql`insert into user_roles (user_id, role_code, tenant_id) select id, 'EMPLOYEE', 'pb.amritsar' from users where uuid = ${userUuid}`.execute(database.kysely);

    // The next start (an upgrade) encrypts them.
    await platform.stop();
    platform = await start();
    const kysely = platform.database.kysely;
    const dump = async (table: string, id: string) =>
      JSON.stringify((await sql<Json>`select * from ${sql.table(table)} where id = ${id}`.execute(kysely)).rows[0]);
    for (const [table, id] of [
      ['pgr_service', complaintId],
      ['household', household.id as string],
      ['notification_message', messageId],
    ] as const) {
      const row = await dump(table, id);
      expect(row, table).toBeTruthy();
      expect(row, table).not.toContain(NAME);
      expect(row, table).not.toContain(MOBILE);
    }
    const userRow = JSON.stringify((await sql<Json>`select * from users where uuid = ${userUuid}`.execute(kysely)).rows[0]);
    for (const secret of [NAME, MOBILE, 'oldrow.clerk', 'oldrow@example.org', 'OLDRW1234P']) expect(userRow).not.toContain(secret);
    const session = await login(platform, 'oldrow.clerk', 'Oldrow@2026', 'pb.amritsar');
    expect(session.status, JSON.stringify(session.body)).toBe(200);
    expect(session.body['UserRequest']).toMatchObject({ uuid: userUuid, name: NAME, mobileNumber: MOBILE, emailId: 'oldrow@example.org', pan: 'OLDRW1234P' });

    const admin = await adminAuth(platform);
    const users = await post(platform, '/user/_search', { RequestInfo: requestInfo, tenantId: 'pb.amritsar', mobileNumber: MOBILE }, admin);
    expect((users.body['user'] as Json[]).map((u) => u['uuid']), JSON.stringify(users.body)).toEqual([userUuid]);
    const found = await post(platform, `/pgr-services/v2/request/_search?tenantId=pb.amritsar&mobileNumber=${MOBILE}`, { RequestInfo: requestInfo }, admin);
    expect(found.status, JSON.stringify(found.body)).toBe(200);
    const wrapper = (found.body['ServiceWrappers'] as Json[])[0]!;
    expect(wrapper.service).toMatchObject({ serviceRequestId: 'PB-PGR-OLD-1', description: `Dark near ${NAME}`, citizen: { name: NAME, mobileNumber: MOBILE } });
    expect(wrapper.service.address.landmark).toBe(`${NAME} gate`);
    const households = await post(platform, '/household/v1/_search?tenantId=pb.amritsar&limit=10&offset=0', { RequestInfo: requestInfo, Household: { id: [household.id] } }, admin);
    expect(households.status, JSON.stringify(households.body)).toBe(200);
    expect((households.body['Households'] as Json[])[0]!.address.landmark).toBe(`${NAME} well`);
    const messages = await platform.notification.search({ tenantId: 'pb.amritsar', referenceId: 'PB-PGR-OLD-1' });
    expect(messages.messages[0]).toMatchObject({ address: MOBILE, message: `Dear ${NAME}, filed` });
    expect(messages.messages[0]!.recipient).toMatch(/^mobile#/);
    // Two starts of a platform: beyond the default 30 s on a loaded machine (PostgreSQL took 21 s alone).
  }, 120_000);
});
