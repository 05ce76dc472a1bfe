import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pendingCount, waitUntil } from '../src/kernel/events.js';
import { adminAuth, post, requestInfo, testPlatform, type TestPlatform } from './helpers.js';

/**
 * Issue #14, finding 13: a write the storage cannot take (SQLite SQLITE_FULL, PostgreSQL 53100
 * disk_full) answers 503 DISK_FULL in DIGIT's shape, with the driver's error in the log, not a 500
 * with a misleading cause; /health/ready is DOWN until a write succeeds again. SQLite fills up for
 * real (max_page_count); on PostgreSQL a trigger raises the server's disk_full error.
 */

type Json = Record<string, unknown>;
const postgres = process.env['PLINTH_TEST_DB'] === 'postgres';

let platform: TestPlatform;
let admin: Record<string, string>;
const log: string[] = [];

beforeAll(async () => {
  platform = await testPlatform({ config: { logLevel: 'info' }, logStream: { write: (line) => void log.push(line) } });
  admin = await adminAuth(platform);
});
afterAll(() => platform.drop());

let serial = 0;
const create = () => {
  serial += 1;
  const tag = String(serial).replace(/\d/g, (d) => 'abcdefghij'[Number(d)]!);
  return post(
    platform,
    '/individual/v1/_create',
    {
      RequestInfo: requestInfo,
      Individual: {
        tenantId: 'pb.amritsar',
        clientReferenceId: `full-${serial}-${'x'.repeat(40)}`,
        name: { givenName: `Given${tag}`, familyName: `Family${'y'.repeat(60)}` },
        dateOfBirth: '14/03/1985',
        gender: 'FEMALE',
        address: [{ type: 'PERMANENT', doorNo: '12-B', addressLine1: 'z'.repeat(200), locality: { code: 'SUN04' } }],
      },
    },
    admin,
  );
};
const ready = () => platform.app.inject({ method: 'GET', url: '/health/ready' });

async function fillTheDisk(): Promise<void> {
  const db = platform.database.kysely;
  // Background delivery of earlier events is done first: its writes would count as a success.
  await waitUntil(async () => (await pendingCount(platform.database)) === 0, 20_000, 'the outbox drained');
  if (!postgres) {
    const pages = await sql<{ page_count: number }>`pragma page_count`.execute(db);
    await sql.raw(`pragma max_page_count = ${pages.rows[0]!.page_count}`).execute(db);
    return;
  }
  await sql`create or replace function plinth_test_disk_full() returns trigger language plpgsql as $$
    begin raise exception 'could not extend file: No space left on device' using errcode = 'disk_full'; end $$`.execute(db);
  // Full for every table, as a full disk is.
  await sql`do $$ declare t text; begin
    for t in select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' loop
      execute format('create trigger plinth_test_disk_full before insert or update on %I for each row execute function plinth_test_disk_full()', t);
    end loop; end $$`.execute(db);
}

async function freeTheDisk(): Promise<void> {
  const db = platform.database.kysely;
  if (!postgres) await sql.raw('pragma max_page_count = 1073741823').execute(db);
  else await sql`drop function plinth_test_disk_full() cascade`.execute(db);
}

describe('a write on a full disk', () => {
  it('answers 503 DISK_FULL with the cause logged, readiness DOWN until a write succeeds again', async () => {
    expect((await create()).status).toBe(200);
    expect((await ready()).statusCode).toBe(200);
    await fillTheDisk();
    let refused: { status: number; body: Json } | undefined;
    // SQLite may still fit a row or two in the free space of its last pages.
    for (let i = 0; i < 200 && !refused; i++) {
      const result = await create();
      if (result.status !== 200) refused = result;
    }
    expect(refused?.status, log.filter((l) => l.includes("request failed")).join("\n").slice(0, 3000)).toBe(503);
    expect(refused?.body).toMatchObject({ ResponseInfo: null, Errors: [{ code: 'DISK_FULL' }] });
    expect(JSON.stringify(refused?.body)).not.toMatch(/SQLITE|53100|No space/);
    const logged = log.map((line) => JSON.parse(line) as Json).find((entry) => entry['msg'] === 'request failed');
    expect(JSON.stringify(logged)).toMatch(postgres ? /No space left on device/ : /SQLITE_FULL|database or disk is full/);

    const down = await ready();
    expect(down.statusCode).toBe(503);
    expect(down.json()).toMatchObject({ status: 'DOWN', components: { db: { status: 'DOWN', details: { code: 'DISK_FULL' } } } });

    await freeTheDisk();
    expect((await create()).status).toBe(200);
    expect(ready().then((r) => r.json())).resolves.toEqual({ status: 'UP' });
  });
});
