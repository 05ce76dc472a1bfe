import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testPlatform, type TestPlatform } from '../../../test/helpers.js';
import { expectOutOfScope } from '../../../test/scope.helpers.js';
import type { UserInfo } from '../../kernel/auth.js';
import { systemClock } from '../../kernel/clock.js';
import { scopeFor, SYSTEM_SCOPE } from '../../kernel/scope.js';
import type { Event, EventInput } from './userevent.schema.js';
import { createUserEventService, type UserEventService } from './userevent.service.js';
import { createUserEventStore } from './userevent.store.js';

// Issue #14: in-app events are read only inside the caller's Scope (and from the tenants above
// it, whose events reach their cities); an event stored outside it cannot be changed; the title,
// text and details are ciphertext at rest, the title still searchable by blind index. The kernel
// refuses requests naming a tenant outside the scope; these tests call the service directly.

const AMRITSAR = scopeFor(null, ['pb.amritsar']);
const JALANDHAR = scopeFor(null, ['pb.jalandhar']);
const system = { uuid: null };
/** A SUPERUSER sees every event of the tenants it searches (no audience limit): only the scope limits it. */
const superuser: UserInfo = {
  id: 1,
  uuid: 'scope-superuser',
  userName: 'scope-superuser',
  name: null,
  mobileNumber: null,
  emailId: null,
  type: 'EMPLOYEE',
  tenantId: 'pb',
  roles: [{ code: 'SUPERUSER', tenantId: 'pb' }],
};
const MARK = `Qz${Math.random().toString(36).slice(2, 10)}`;

const details = { organizer: `${MARK} Singh`, address: `${MARK} street 4` };
const broadcast = (tenantId: string, name: string, over: Partial<EventInput> = {}) =>
  ({
    tenantId,
    eventType: 'BROADCAST',
    eventCategory: 'PGR',
    name,
    description: `Dear ${MARK}, water returns on Monday`,
    source: 'WEBAPP',
    ...over,
  }) as EventInput;

let platform: TestPlatform;
let service: UserEventService;
let jalandhar: Event;

beforeAll(async () => {
  platform = await testPlatform();
  service = createUserEventService({
    database: platform.database,
    store: createUserEventStore(platform.database, platform.encryption.service),
    clock: systemClock,
  });
  jalandhar = (await service.create([broadcast('pb.jalandhar', `Water cut ${MARK}`, { eventDetails: details })], system, SYSTEM_SCOPE))[0]!;
  await service.create([broadcast('pb', 'State notice')], system, SYSTEM_SCOPE);
});
afterAll(() => platform.drop());

const names = async (tenantId: string, scope = SYSTEM_SCOPE, name?: string) =>
  (await service.search({ tenantId, ...(name ? { name: [name] } : {}) }, superuser, scope)).events.map((e) => e.name).sort();

describe('event searches read only rows inside the scope, and the tenants above it', () => {
  it("another city's events are out of a city scope; the state's reach the city", async () => {
    expect(await names('pb.jalandhar', JALANDHAR)).toEqual(['State notice', `Water cut ${MARK}`]);
    // Searching Jalandhar from Amritsar's scope finds only what is above both: the state's notice.
    expect(await names('pb.jalandhar', AMRITSAR)).toEqual(['State notice']);
    expect(await names('pb', AMRITSAR)).toEqual(['State notice']);
    expect(await names('pb.amritsar', AMRITSAR)).toEqual(['State notice']);
    expect(await names('pb.jalandhar', scopeFor(null, []))).toEqual([]);
    const [stateNotice] = (await service.search({ tenantId: 'pb', name: ['State notice'] }, superuser, SYSTEM_SCOPE)).events;
    expect(await service.search({ tenantId: 'pb.jalandhar', ids: [jalandhar.id] }, superuser, AMRITSAR)).toEqual({
      events: [],
      totalCount: 0,
    });
    expect((await service.search({ tenantId: 'pb.jalandhar', ids: [stateNotice!.id] }, superuser, AMRITSAR)).totalCount).toBe(1);
  });
});

describe('event changes are checked against the stored event', () => {
  it("refuses to change another city's event, whatever tenant the body names (403, unchanged)", async () => {
    const changed = { ...broadcast('pb.jalandhar', 'Hijacked', { eventDetails: details }), id: jalandhar.id };
    await expectOutOfScope(service.update([changed], system, AMRITSAR));
    await expectOutOfScope(service.update([{ ...changed, tenantId: 'pb.amritsar' }], system, AMRITSAR));
    await expectOutOfScope(service.create([broadcast('pb.jalandhar', 'Posted from Amritsar')], system, AMRITSAR));
    expect(await names('pb.jalandhar')).toEqual(['State notice', `Water cut ${MARK}`]);
    const [updated] = await service.update([{ ...changed, name: `Water back ${MARK}` }], system, JALANDHAR);
    expect(updated?.name).toBe(`Water back ${MARK}`);
  });
});

describe('personal fields at rest', () => {
  it('stores title, text and details as ciphertext; answers them in clear; finds the title by blind index', async () => {
    const stored = (
      await sql<Record<string, unknown>>`select * from user_event where id = ${jalandhar.id}`.execute(platform.database.kysely)
    ).rows[0]!;
    const text = JSON.stringify(stored);
    expect(text).not.toContain(MARK);
    expect(String(stored['name'])).toMatch(/^pb:data:\d+\|/);
    expect(stored['name_bidx']).toEqual(expect.any(String));
    const [found] = (await service.search({ tenantId: 'pb.jalandhar', ids: [jalandhar.id] }, superuser, SYSTEM_SCOPE)).events;
    expect(found).toMatchObject({
      name: `Water back ${MARK}`,
      description: `Dear ${MARK}, water returns on Monday`,
      eventDetails: { organizer: `${MARK} Singh`, address: `${MARK} street 4` },
    });
    expect(await names('pb.jalandhar', SYSTEM_SCOPE, `Water back ${MARK}`)).toEqual([`Water back ${MARK}`]);
    expect(await names('pb.jalandhar', SYSTEM_SCOPE, `Water cut ${MARK}`)).toEqual([]);
  });

  it('encrypts events stored in clear before (the start-up data migration), idempotently', async () => {
    const id = `clear-${Date.now()}`;
    const now = Date.now();
    await sql`insert into user_event (id, tenant_id, source, event_type, category, name, description, status, reference_id, posted_by, recepient, actions, event_details, created_by, created_time, last_modified_by, last_modified_time)
      values (${id}, 'pb.jalandhar', 'WEBAPP', 'BROADCAST', 'PGR', ${`Old ${MARK}`}, ${`Old text ${MARK}`}, 'ACTIVE', null, null, null, null, ${platform.database.toJson({ organizer: MARK })}, null, ${now}, null, ${now})`.execute(
      platform.database.kysely,
    );
    await sql`insert into user_event_recipient (event_id, tenant_id, kind, value) values (${id}, 'pb.jalandhar', 'role', '*')`.execute(
      platform.database.kysely,
    );
    // Rows in clear are read as they are until sealed.
    expect(await names('pb.jalandhar', SYSTEM_SCOPE)).toContain(`Old ${MARK}`);
    const store = createUserEventStore(platform.database, platform.encryption.service);
    expect(await store.sealStored()).toBe(1);
    expect(await store.sealStored()).toBe(0);
    const stored = (await sql<Record<string, unknown>>`select * from user_event where id = ${id}`.execute(platform.database.kysely))
      .rows[0]!;
    expect(JSON.stringify(stored)).not.toContain(MARK);
    expect(await names('pb.jalandhar', SYSTEM_SCOPE, `Old ${MARK}`)).toEqual([`Old ${MARK}`]);
    const [opened] = (await service.search({ tenantId: 'pb.jalandhar', ids: [id] }, superuser, SYSTEM_SCOPE)).events;
    expect(opened).toMatchObject({ description: `Old text ${MARK}`, eventDetails: { organizer: MARK } });
  });
});
