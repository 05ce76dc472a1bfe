import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuth, eventually, login, post, requestInfo, testPlatform, type TestPlatform } from './helpers.js';
import { multipart } from './fixtures/multipart.js';

/**
 * Issue #14, "Done when": after the demo flows — a citizen files a complaint and is sent an in-app
 * message naming them, employees are created, individuals and households are registered, a birth
 * is exchanged between two agencies — no marker name, mobile number, e-mail or identifier of this
 * run is found in plain text at rest: not in the SQLite file nor its WAL (read as bytes), not in a
 * `pg_dump` of the PostgreSQL database, not in the uploaded files on disk (the citizen's photo of a
 * document names them too). Markers are unique per run, so nothing else can hold them. Then the
 * state's key is rotated: once the re-encryption has run, no row anywhere holds a ciphertext under
 * the old key, and reads answer the same before, during and after it.
 */

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const letters = (n: number) => Array.from(randomBytes(n), (b) => String.fromCharCode(97 + (b % 26))).join('');
const digits = (n: number) => Array.from(randomBytes(n), (b) => String(b % 10)).join('');
const MARK = {
  name: `Qx${letters(10)}`,
  mobile: `9${digits(9)}`,
  email: `m${letters(10)}@example.org`,
  identifier: `BR${digits(12)}`,
};
const PASSWORD = 'Marker@2026x';
const CIVIL = 'pb.civil-registry';
const HEALTH = 'pb.health';

let civil: TestPlatform;
let health: TestPlatform;
let civilAdmin: Record<string, string>;
let healthAdmin: Record<string, string>;

/** Every form a marker could be stored in as text: as is (UTF-8), JSON-escaped, and base64 or base64url-encoded. */
function forms(marker: string): string[] {
  const json = JSON.stringify(marker).slice(1, -1);
  const unicode = Array.from(marker, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
  return [...new Set([marker, json, unicode, ...base64Forms(marker)])];
}

/** The parts of base64 and base64url that hold only the marker's bytes, at each of the three alignments. */
function base64Forms(marker: string): string[] {
  const bytes = Buffer.from(marker, 'utf8');
  const out: string[] = [];
  for (const shift of [0, 1, 2]) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
    const whole = Math.floor((shift + bytes.length) / 3) * 4;
    const part = encoded.slice(shift === 0 ? 0 : 4, whole);
    if (part.length >= 8) out.push(part, part.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return out;
}

/** Every uploaded file (and thumbnail) under DATA_DIR/files, as stored. */
async function uploadedFiles(platform: TestPlatform): Promise<Array<{ what: string; bytes: Buffer }>> {
  const root = path.join(platform.config.dataDir, 'files');
  const entries = await fs.readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  const files = entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
  return Promise.all(files.map(async (file) => ({ what: file, bytes: await fs.readFile(file) })));
}

/** The bytes at rest of a platform: the SQLite file and its WAL, or a pg_dump; and the uploaded files. */
async function bytesAtRest(platform: TestPlatform): Promise<Array<{ what: string; bytes: Buffer }>> {
  const files = await uploadedFiles(platform);
  if (platform.database.dialect === 'sqlite') {
    const file = path.join(platform.config.dataDir, 'plinth.db');
    const out: Array<{ what: string; bytes: Buffer }> = [{ what: file, bytes: await fs.readFile(file) }, ...files];
    const wal = await fs.readFile(`${file}-wal`).catch(() => undefined);
    if (wal) out.push({ what: `${file}-wal`, bytes: wal });
    return out;
  }
  const { stdout } = await promisify(execFile)('pg_dump', ['--no-owner', '--dbname', platform.config.databaseUrl!], { maxBuffer: 512 * 1024 * 1024, encoding: 'buffer' });
  return [{ what: 'pg_dump', bytes: stdout as unknown as Buffer }, ...files];
}

/** Where a marker sits, table by table (for the failure message only). */
async function tablesHolding(platform: TestPlatform, marker: string): Promise<string[]> {
  const tables =
    platform.database.dialect === 'sqlite'
      ? (await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(platform.database.kysely)).rows.map((r) => r.name)
      : (await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = 'public'`.execute(platform.database.kysely)).rows.map((r) => r.name);
  const found: string[] = [];
  for (const table of tables) {
    const rows = (await sql<Json>`select * from ${sql.table(table)}`.execute(platform.database.kysely)).rows;
    for (const row of rows) {
      const columns = Object.entries(row).filter(([, v]) => v !== null && forms(marker).some((f) => (typeof v === 'string' ? v : JSON.stringify(v)).includes(f)));
      if (columns.length > 0) found.push(`${table}.${columns.map(([c]) => c).join('/')}`);
    }
  }
  return [...new Set(found)];
}

async function scan(platform: TestPlatform, label: string): Promise<string[]> {
  const findings: string[] = [];
  const places = await bytesAtRest(platform);
  for (const [kind, marker] of Object.entries(MARK)) {
    for (const form of forms(marker)) {
      const hits = places.filter((p) => p.bytes.includes(Buffer.from(form, 'utf8')));
      if (hits.length > 0) {
        const tables = await tablesHolding(platform, marker);
        findings.push(`${label}: the ${kind} marker "${form}" is in ${hits.map((h) => h.what).join(', ')} (tables: ${tables.join(', ') || 'none live: a free page'})`);
      }
    }
  }
  return findings;
}

async function citizen(platform: TestPlatform, admin: Record<string, string>) {
  const created = await post(
    platform,
    '/user/users/_createnovalidate',
    {
      RequestInfo: {},
      user: { userName: MARK.mobile, name: MARK.name, password: PASSWORD, type: 'CITIZEN', tenantId: 'pb', mobileNumber: MARK.mobile, emailId: MARK.email, roles: [{ code: 'CITIZEN', tenantId: 'pb' }] },
    },
    admin,
  );
  expect(created.status, JSON.stringify(created.body)).toBe(200);
  const { status, body } = await login(platform, MARK.mobile, PASSWORD, 'pb', 'CITIZEN');
  expect(status, JSON.stringify(body)).toBe(200);
  return { auth: { authorization: `Bearer ${String(body['access_token'])}` }, uuid: String((body['UserRequest'] as Json)['uuid']) };
}

beforeAll(async () => {
  [civil, health] = await Promise.all([testPlatform({ config: { agencyId: CIVIL } }), testPlatform({ config: { agencyId: HEALTH } })]);
  [civilAdmin, healthAdmin] = await Promise.all([adminAuth(civil), adminAuth(health)]);
  await health.app.listen({ host: '127.0.0.1', port: 0 });
}, 300_000);
afterAll(async () => {
  await civil?.drop();
  await health?.drop();
}, 120_000);

describe('personal data at rest after the demo flows', () => {
  it('holds no marker name, mobile, e-mail or identifier in clear, on either agency', async () => {
    // 1. A citizen uploads a scan naming them, and files a complaint (their name, mobile and e-mail; the address and description name them too).
    const { auth: citizenAuth, uuid: citizenUuid } = await citizen(civil, civilAdmin);
    const letter = Buffer.from(`%PDF-1.4\n% ${Object.values(MARK).join(' ')}\n${'x'.repeat(70_000)}\n% ${MARK.name} ${MARK.mobile}\n%%EOF\n`);
    const form = multipart({ tenantId: 'pb.amritsar', module: 'PGR' }, [{ fileName: 'scan.pdf', contentType: 'application/pdf', bytes: letter }]);
    const uploaded = await civil.app.inject({ method: 'POST', url: '/filestore/v1/files', payload: form.payload, headers: { ...form.headers, ...citizenAuth } });
    expect(uploaded.statusCode, uploaded.body).toBe(200);
    const scanId = String((uploaded.json() as Json)['files'][0].fileStoreId);
    const filed = await post(
      civil,
      '/pgr-services/v2/request/_create',
      {
        RequestInfo: requestInfo,
        service: {
          tenantId: 'pb.amritsar',
          serviceCode: 'StreetLightNotWorking',
          description: `The light outside ${MARK.name}'s house is out; call ${MARK.mobile}`,
          source: 'web',
          address: { landmark: `${MARK.name} house`, street: `${MARK.name} street`, locality: { code: 'SUN04' }, geoLocation: { latitude: 31.63, longitude: 74.87 } },
        },
        workflow: { action: 'APPLY' },
      },
      citizenAuth,
    );
    expect(filed.status, JSON.stringify(filed.body)).toBe(200);
    const complaintId = String((filed.body['ServiceWrappers'] as Json[])[0]!.service.serviceRequestId);
    // Exact search by the citizen's mobile still finds it (blind index).
    const byMobile = await post(civil, `/pgr-services/v2/request/_search?tenantId=pb.amritsar&mobileNumber=${MARK.mobile}`, { RequestInfo: requestInfo }, civilAdmin);
    expect(byMobile.status, JSON.stringify(byMobile.body)).toBe(200);
    expect((byMobile.body['ServiceWrappers'] as Json[]).map((w) => w.service.serviceRequestId)).toEqual([complaintId]);
    expect((byMobile.body['ServiceWrappers'] as Json[])[0]!.service.address.landmark).toBe(`${MARK.name} house`);

    // An in-app message to the citizen names them (egov-user-event keeps its own copy); they read it,
    // found by its title.
    const title = `For ${MARK.name}`;
    const notice = await post(
      civil,
      '/egov-user-event/v1/events/_create',
      {
        RequestInfo: requestInfo,
        events: [
          {
            tenantId: 'pb.amritsar',
            eventType: 'SYSTEMGENERATED',
            eventCategory: 'PGR',
            name: title,
            description: `${MARK.name}, we will call you on ${MARK.mobile} about ${complaintId}`,
            source: 'WEBAPP',
            recepient: { toUsers: [citizenUuid], toRoles: [] },
            eventDetails: { organizer: `${MARK.name} (citizen)`, address: `${MARK.name} street` },
          },
        ],
      },
      civilAdmin,
    );
    expect(notice.status, JSON.stringify(notice.body)).toBe(200);
    const inbox = await post(civil, `/egov-user-event/v1/events/_search?tenantId=pb.amritsar&name=${encodeURIComponent(title)}`, { RequestInfo: requestInfo }, citizenAuth);
    expect(inbox.status, JSON.stringify(inbox.body)).toBe(200);
    expect((inbox.body['events'] as Json[]).map((e) => [e.name, e.eventDetails?.address])).toEqual([[title, `${MARK.name} street`]]);

    // 2. An employee is created.
    const employee = await post(
      civil,
      '/user/users/_createnovalidate',
      {
        RequestInfo: {},
        user: {
          userName: `emp_${MARK.name.toLowerCase()}`,
          name: `${MARK.name} Employee`,
          password: PASSWORD,
          type: 'EMPLOYEE',
          tenantId: 'pb.amritsar',
          mobileNumber: MARK.mobile,
          emailId: MARK.email,
          roles: [{ code: 'EMPLOYEE', tenantId: 'pb.amritsar' }],
        },
      },
      civilAdmin,
    );
    expect(employee.status, JSON.stringify(employee.body)).toBe(200);

    // 3. Health subscribes to the civil registry's births; each agency trusts the other's keys.
    const port = (health.app.server.address() as AddressInfo).port;
    for (const [self, selfAdmin, other, otherId] of [
      [civil, civilAdmin, health, HEALTH],
      [health, healthAdmin, civil, CIVIL],
    ] as const) {
      const jwks = await other.app.inject({ method: 'GET', url: '/exchange/v1/.well-known/jwks.json' });
      const registered = await post(self, '/exchange/v1/agencies/_create', { RequestInfo: requestInfo, Agency: { agencyId: otherId, name: otherId, jwks: jwks.json(), status: 'ACTIVE' } }, selfAdmin);
      expect(registered.status, JSON.stringify(registered.body)).toBe(200);
    }
    const subscribed = await post(
      civil,
      '/exchange/v1/subscriptions/_create',
      {
        RequestInfo: requestInfo,
        Subscription: {
          tenantId: 'pb',
          agencyId: HEALTH,
          tenantIds: ['pb'],
          eventTypes: ['plinth.individual.created.v1'],
          conditions: [{ path: 'identifiers.identifierType', op: 'eq', value: 'BIRTH_REGISTRATION' }],
          fields: ['individualId', 'clientReferenceId', 'tenantId', 'name', 'dateOfBirth', 'gender', 'identifiers', 'address', 'mobileNumber', 'email'],
          webhookUrl: `http://127.0.0.1:${port}/exchange/v1/events/_receive`,
          status: 'ACTIVE',
          maxAttempts: 50,
        },
      },
      civilAdmin,
    );
    expect(subscribed.status, JSON.stringify(subscribed.body)).toBe(200);
    // A partner misconfigured to post its event unsigned: refused, and the refusal keeps the body's head.
    const unsigned = await health.app.inject({
      method: 'POST',
      url: '/exchange/v1/events/_receive',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ specversion: '1.0', data: { name: MARK.name, mobileNumber: MARK.mobile, email: MARK.email, identifier: MARK.identifier } }),
    });
    expect(unsigned.statusCode, unsigned.body).toBe(400);
    // A signed event the receiver cannot take (an old CloudEvents version): its sender is verified, so 4 KiB
    // of the JWS are kept, the personal data base64url-encoded inside (the scan looks for that form too).
    const signed = await civil.exchangeTrust.sign(
      { aud: HEALTH, jti: `bad-${letters(12)}`, event: { specversion: '0.3', data: { name: MARK.name, mobileNumber: MARK.mobile, email: MARK.email, identifier: MARK.identifier } } },
      'plinth-event+jws',
    );
    const old = await health.app.inject({ method: 'POST', url: '/exchange/v1/events/_receive', headers: { 'content-type': 'application/jose' }, payload: signed });
    expect(old.statusCode, old.body).toBe(400);
    const refused = await health.exchangeTrust.searchInbox({ kind: 'REFUSED', code: 'MALFORMED_MESSAGE', limit: 10 });
    expect(refused.refusals.map((r) => r.bodyHead)).toEqual(expect.arrayContaining([signed, expect.stringContaining(MARK.identifier)]));

    // 4. A birth is registered (an individual) and a household with it.
    const child = await post(
      civil,
      '/individual/v1/_create',
      {
        RequestInfo: requestInfo,
        Individual: {
          tenantId: 'pb.amritsar',
          clientReferenceId: `birth-${letters(12)}`,
          name: { givenName: MARK.name, familyName: 'Kaur' },
          dateOfBirth: '03/11/2026',
          gender: 'FEMALE',
          mobileNumber: MARK.mobile,
          email: MARK.email,
          address: [{ type: 'PERMANENT', addressLine1: `${MARK.name} lane`, locality: { code: 'SUN04' } }],
          identifiers: [{ identifierType: 'BIRTH_REGISTRATION', identifierId: MARK.identifier }],
        },
      },
      civilAdmin,
    );
    expect(child.status, JSON.stringify(child.body)).toBe(200);
    const household = await post(
      civil,
      '/household/v1/_create',
      {
        RequestInfo: requestInfo,
        Household: {
          tenantId: 'pb.amritsar',
          clientReferenceId: `hh-${letters(12)}`,
          memberCount: 1,
          householdType: 'FAMILY',
          address: { doorNo: '4', buildingName: `${MARK.name} villa`, landmark: `${MARK.name} well`, street: `${MARK.name} road`, locality: { code: 'SUN04' } },
        },
      },
      civilAdmin,
    );
    expect(household.status, JSON.stringify(household.body)).toBe(200);
    const householdRef = String((household.body['Household'] as Json)['clientReferenceId']);

    // 5. The birth reaches health and is scheduled there; every message and event is handled.
    await eventually(async () => (await health.exchangeTrust.searchInbox({ limit: 10 })).messages.length > 0, 60_000, 'the birth at health');
    await civil.dispatcher.settle({ timeoutMs: 60_000 });
    await health.dispatcher.settle({ timeoutMs: 60_000 });
    const tasks = await post(health, '/project/task/v1/_search?tenantId=pb.amritsar&limit=100&offset=0', { RequestInfo: requestInfo, Task: { projectId: 'PJT-UIP-PB' } }, healthAdmin);
    expect(tasks.status, JSON.stringify(tasks.body)).toBe(200);
    expect((tasks.body['Tasks'] as Json[]).length).toBeGreaterThan(0);
    // The delivery was sent and receipted (its payload is encrypted on the civil side).
    const deliveries = await post(civil, '/exchange/v1/deliveries/_search', { RequestInfo: requestInfo, DeliveryCriteria: { tenantId: 'pb' } }, civilAdmin);
    expect((deliveries.body['Deliveries'] as Json[]).map((d) => d['status'])).toContain('DELIVERED');
    // The citizen's SMS was queued and sent (its address and text are stored encrypted).
    const messages = await civil.notification.search({ tenantId: 'pb.amritsar', referenceId: complaintId });
    expect(messages.messages.find((m) => m.channel === 'SMS')).toMatchObject({ address: MARK.mobile, status: 'sent' });

    // 6. Nothing of them in clear, on either side.
    const findings = [...(await scan(civil, CIVIL)), ...(await scan(health, HEALTH))];
    expect(findings, findings.join('\n')).toEqual([]);
    const download = await civil.app.inject({ method: 'GET', url: `/filestore/v1/files/id?tenantId=pb.amritsar&fileStoreId=${scanId}`, headers: citizenAuth });
    expect(download.rawPayload.equals(letter)).toBe(true);

    // 7. The state's key is rotated on both agencies. What each answers is the same before, while the
    // re-encryption runs and after it; then no row holds a ciphertext under the old key.
    const reads: Record<string, () => Promise<unknown>> = {
      [CIVIL]: async () => [
        (await post(civil, `/pgr-services/v2/request/_search?tenantId=pb.amritsar&mobileNumber=${MARK.mobile}`, { RequestInfo: requestInfo }, civilAdmin)).body['ServiceWrappers'],
        (await post(civil, '/household/v1/_search?tenantId=pb.amritsar&limit=10&offset=0', { RequestInfo: requestInfo, Household: { clientReferenceId: [householdRef] } }, civilAdmin)).body['Household'],
        (await civil.notification.search({ tenantId: 'pb.amritsar', referenceId: complaintId })).messages,
        (await post(civil, '/exchange/v1/deliveries/_search', { RequestInfo: requestInfo, DeliveryCriteria: { tenantId: 'pb' } }, civilAdmin)).body['Deliveries'],
        (await civil.app.inject({ method: 'GET', url: `/filestore/v1/files/id?tenantId=pb.amritsar&fileStoreId=${scanId}`, headers: citizenAuth })).rawPayload.toString('base64'),
      ],
      [HEALTH]: async () => [(await health.exchangeTrust.searchInbox({ limit: 10 })).messages],
    };
    for (const [platform, label] of [
      [civil, CIVIL],
      [health, HEALTH],
    ] as const) {
      const encryption = platform.encryption.service;
      const old = (await encryption.forTenant('pb')).encrypt('probe').split('|')[0]!;
      const before = await reads[label]!();
      expect((await tablesHolding(platform, `${old}|`)).length, label).toBeGreaterThan(0);
      await encryption.rotateKey('pb');
      const [moved, during] = await Promise.all([encryption.reencrypt('pb'), reads[label]!()]);
      expect(during, label).toEqual(before);
      expect(Object.values(moved).reduce((a, b) => a + b, 0), label).toBeGreaterThan(0);
      await platform.dispatcher.settle({ timeoutMs: 60_000 });
      expect(await reads[label]!(), label).toEqual(before);
      expect(await tablesHolding(platform, `${old}|`), `${label}: rows still under ${old}`).toEqual([]);
    }
  }, 300_000);
});
