import fs from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuth, post, requestInfo, testPlatform, type TestPlatform } from '../../../test/helpers.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let platform: TestPlatform;
let admin: Record<string, string>;

beforeAll(async () => {
  platform = await testPlatform();
  admin = await adminAuth(platform);
});
afterAll(() => platform.drop());

// Distinctive values that occur nowhere else, so any byte-level hit is a leak.
const NAMES = ['Zorawarbir', 'Khushwinderjeet', 'Tejinderpalx', 'Baljindervir', 'Amanjotkaurq'];
const FAMILY = ['Dhaliwalxyz', 'Grewalqrs'];
const PHONES = ['9123456781', '9123456782', '9123456783', '9123456784', '9123456785'];
const IDS = ['738291046613', '738291046614'];

const person = (i: number): Json => ({
  tenantId: 'pb.amritsar',
  clientReferenceId: `privacy-${i}`,
  name: { givenName: NAMES[i % NAMES.length], familyName: FAMILY[i % FAMILY.length], otherNames: 'Sukhmanipreet' },
  dateOfBirth: '07/11/1979',
  gender: 'MALE',
  mobileNumber: PHONES[i % PHONES.length],
  fatherName: 'Hardittsinghji',
  email: 'zorawar.unique@example.org',
  address: [{ type: 'PERMANENT', doorNo: 'H-4471', addressLine1: 'Gulmoharcolony lane', locality: { code: 'SUN04' } }],
  identifiers: [{ identifierType: 'AADHAAR', identifierId: IDS[i % IDS.length] }],
});

const bulkCreate = (individuals: Json[]) =>
  post(platform, '/individual/v1/bulk/_create', { RequestInfo: requestInfo, Individuals: individuals }, admin);
const searchAll = (criteria: Json = {}) =>
  post(
    platform,
    '/individual/v1/_search?tenantId=pb.amritsar&limit=100&offset=0',
    { RequestInfo: requestInfo, Individual: criteria },
    admin,
  );

/** Every byte the database holds: the SQLite file and its WAL, or every table's rows as text on PostgreSQL. */
async function everyStoredByte(): Promise<Buffer> {
  if (platform.database.dialect === 'sqlite') {
    const file = path.join(platform.config.dataDir, 'plinth.db');
    const parts = await Promise.all([file, `${file}-wal`].map((f) => fs.readFile(f).catch(() => Buffer.alloc(0))));
    return Buffer.concat(parts);
  }
  const tables = await sql<{ table_name: string }>`select table_name from information_schema.tables where table_schema = 'public'`.execute(
    platform.database.kysely,
  );
  const texts: string[] = [];
  for (const { table_name: table } of tables.rows) {
    const rows = await sql<{ t: string }>`select t::text as t from ${sql.table(table)} t`.execute(platform.database.kysely);
    texts.push(...rows.rows.map((r) => r.t));
  }
  return Buffer.from(texts.join('\n'), 'utf8');
}

const plaintexts = [
  ...NAMES,
  ...FAMILY,
  ...PHONES,
  ...IDS,
  'Sukhmanipreet',
  'Hardittsinghji',
  'zorawar.unique',
  'H-4471',
  'Gulmoharcolony',
];

describe('personal data at rest', () => {
  it('holds no plaintext names, numbers or identifiers in the database files, and the check can see what is there', async () => {
    const { status, body } = await bulkCreate(Array.from({ length: 10 }, (_, i) => person(i)));
    expect(status).toBe(200);
    expect(body['Errors']).toEqual([]);
    // The same values must come back to an authorized caller: they are stored, only not in clear.
    const found = (await searchAll({ name: { givenName: 'Zorawarbir' } })).body['Individual'] as Json[];
    expect(found.length).toBeGreaterThan(0);
    expect(found[0]).toMatchObject({ name: { givenName: 'Zorawarbir' }, mobileNumber: PHONES[0] });
    // A value written in clear elsewhere, and the (not secret) locality code, are found by the same scan.
    await platform.settings.set('individual.privacy.canary', 'Canaryplaintextvalue');
    const bytes = await everyStoredByte();
    expect(bytes.includes('Canaryplaintextvalue')).toBe(true);
    expect(bytes.includes('SUN04')).toBe(true);
    const leaks = plaintexts.flatMap((value) => [value, value.toLowerCase(), value.toUpperCase()]).filter((value) => bytes.includes(value));
    expect(leaks).toEqual([]);
  });

  it('keeps old records readable after a key rotation, and re-encryption moves them to the new key', async () => {
    type Row = { id: string; key_id: string; given_name: string; row_version: number };
    const rows = () =>
      platform.database.kysely
        .withTables<{ individual: Row }>()
        .selectFrom('individual')
        .select(['id', 'key_id', 'given_name', 'row_version'])
        .execute();
    const before = await bulkCreate([person(100), person(101)]);
    const oldIds = (before.body['Individuals'] as Json[]).map((i) => i['id'] as string);
    const oldRows = (await rows()).filter((r) => oldIds.includes(r.id));
    const oldKey = oldRows[0]!.key_id;
    expect(oldRows[0]!.given_name.startsWith(`${oldKey}|`)).toBe(true);

    await platform.encryption.service.rotateKey('pb');
    const after = await bulkCreate([person(102)]);
    const newId = (after.body['Individuals'] as Json[])[0]!['id'] as string;
    const newKey = (await rows()).find((r) => r.id === newId)!.key_id;
    expect(newKey).not.toBe(oldKey);

    // Readable whether or not re-encryption has run yet.
    const read = (await searchAll({ clientReferenceId: ['privacy-100', 'privacy-102'] })).body['Individual'] as Json[];
    expect(read.map((i) => i['name']['givenName']).sort()).toEqual([NAMES[0], NAMES[2]].sort());

    await platform.encryption.service.reencrypt('pb');
    const moved = await rows();
    expect(new Set(moved.map((r) => r.key_id))).toEqual(new Set([newKey]));
    for (const old of oldRows) {
      const now = moved.find((r) => r.id === old.id)!;
      expect(now.given_name).not.toBe(old.given_name);
      expect(now.given_name.startsWith(`${newKey}|`)).toBe(true);
      // Not a change of the person: devices need not download it again.
      expect(now.row_version).toBe(old.row_version);
    }
    const again = (await searchAll({ clientReferenceId: ['privacy-100', 'privacy-101'] })).body['Individual'] as Json[];
    expect(again.map((i) => i['identifiers'][0]['identifierId']).sort()).toEqual([...IDS].sort());
    expect((await searchAll({ mobileNumber: [PHONES[0]] })).body['TotalCount']).toBeGreaterThan(0);
  });
});
