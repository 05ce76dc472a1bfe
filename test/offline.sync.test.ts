import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase, type Database } from '../src/kernel/db.js';
import { createOutbox } from '../src/kernel/events.js';
import { createHouseholdService } from '../src/domain/household/household.service.js';
import { createHouseholdStore } from '../src/domain/household/household.store.js';
import { createMemberService } from '../src/domain/household/member.service.js';
import { createIndividualService } from '../src/domain/individual/individual.service.js';
import { createIndividualStore } from '../src/domain/individual/individual.store.js';
import { createTaskService } from '../src/domain/task/task.service.js';
import { createTaskStore } from '../src/domain/task/task.store.js';
import { adminAuth, post, requestInfo, testPlatform, type TestPlatform } from './helpers.js';

// Issue #15: a field device syncs incrementally (lastChangedSince, a downsync's lastSyncedTime and
// cursor) and must never miss a record. Here two transactions interleave on each offline registry:
// A starts first (its clock reads the time it started) and is held open; B starts later and
// commits; the device reads the feed; A commits; the device reads on from where it was. A record
// stamped with the time its transaction started would sort before what the device already passed.

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let platform: TestPlatform;
let admin: Record<string, string>;
/** A second connection to the same database: another process (SQLite) or another pooled connection (PostgreSQL). */
let other: Database;
/** The platform's clock: B's writes and the device's reads. */
let time = Date.now();
/** A's clock: the moment its transaction started. */
let started = time;
/** Holds A's next transaction open, before its first statement, until released. */
let gate: { armed: boolean; opened: () => void; released: Promise<void> } | undefined;

beforeAll(async () => {
  platform = await testPlatform({ clock: { now: () => time } });
  admin = await adminAuth(platform);
  const second = await connectDatabase(platform.config);
  other = {
    ...second,
    async transaction(work) {
      const current = gate;
      if (!current?.armed) return second.transaction(work);
      current.armed = false;
      return second.transaction(async (tx) => {
        current.opened();
        await current.released;
        return work(tx);
      });
    },
  };
});
afterAll(async () => {
  await other?.close();
  await platform?.drop();
});

/** The registries on the second connection, with A's clock; their other modules are the platform's. */
function registriesOfA() {
  const clock = { now: () => started };
  const outbox = createOutbox(other, clock, () => undefined);
  const tenants = platform.mdms.service.tenants;
  const householdStore = createHouseholdStore(other, platform.encryption.service, clock);
  const members = createMemberService({
    database: other,
    store: householdStore,
    clock,
    outbox,
    tenants,
    individual: platform.individual.lookup,
  });
  return {
    individual: createIndividualService({
      database: other,
      store: createIndividualStore(other, clock),
      clock,
      outbox,
      mdms: platform.mdms.service,
      audit: platform.audit.log,
      boundary: platform.boundary.service,
      idgen: platform.idgen.service,
      encryption: platform.encryption.service,
      dedup: platform.dedup.service,
    }),
    households: createHouseholdService({
      database: other,
      store: householdStore,
      clock,
      outbox,
      tenants,
      boundary: platform.boundary,
      idgen: platform.idgen,
      onMembersLinked: (tx, linked) => members.membersLinked(tx, linked),
    }),
    members,
    tasks: createTaskService({ database: other, store: createTaskStore(other, clock), clock, outbox, tenants, idgen: platform.idgen }),
  };
}

/**
 * Runs A (on the second connection, held open from its start) around B (through the HTTP API),
 * and reads the feed between B's commit and A's and once more after A's. Answers what each read saw.
 */
async function interleave<T>(steps: {
  a: () => Promise<unknown>;
  b: () => Promise<unknown>;
  read: (from: T | undefined) => Promise<{ ids: string[]; next: T }>;
}) {
  let opened!: () => void;
  let release!: () => void;
  const wait = new Promise<void>((resolve) => (opened = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  gate = { armed: true, opened, released };
  time += 1_000;
  started = time;
  const a = steps.a();
  await Promise.race([wait, a]);
  expect(gate.armed, 'A opened its transaction').toBe(false);
  time += 1_000;
  await steps.b();
  const between = await steps.read(undefined);
  release();
  await a;
  const after = await steps.read(between.next);
  return { between: between.ids, after: after.ids };
}

let serial = 0;
const ref = (prefix: string) => `${prefix}-sync-${++serial}-${Math.random().toString(36).slice(2, 8)}`;
const query = (params: Json) =>
  new URLSearchParams(
    Object.entries({ tenantId: 'pb.amritsar', limit: 100, offset: 0, ...params }).map(([k, v]): [string, string] => [k, String(v)]),
  ).toString();
/** The newest change the device holds: where its next incremental read starts. */
const newest = (records: Json[], since: number | undefined) =>
  Math.max(since ?? 0, ...records.map((r) => (r['auditDetails'] as Json)['lastModifiedTime'] as number));

function person(clientReferenceId: string): Json {
  return {
    tenantId: 'pb.amritsar',
    clientReferenceId,
    name: { givenName: `Sync ${clientReferenceId}`, familyName: 'Kaur' },
    gender: 'FEMALE',
    address: [{ type: 'PERMANENT', locality: { code: 'SUN04' } }],
  };
}
const household = (clientReferenceId: string): Json => ({
  tenantId: 'pb.amritsar',
  clientReferenceId,
  memberCount: 2,
  address: { locality: { code: 'SUN04' } },
});

describe('incremental sync across two interleaved transactions', () => {
  it('individuals and their deduplication encodings: lastChangedSince skips neither the person nor its encoding', async () => {
    const [refA, refB] = [ref('ind-a'), ref('ind-b')];
    const since = time;
    const read = async (from: number | undefined) => {
      const { body } = await post(
        platform,
        `/individual/v1/_search?${query({ lastChangedSince: from ?? since })}`,
        { RequestInfo: requestInfo, Individual: { clientReferenceId: [refA, refB] } },
        admin,
      );
      const records = body['Individual'] as Json[];
      return { ids: records.map((r) => r['clientReferenceId'] as string), next: newest(records, from) };
    };
    const registries = registriesOfA();
    const seen = await interleave({
      a: () => registries.individual.create([person(refA)], { user: null }),
      b: () => post(platform, '/individual/v1/bulk/_create', { RequestInfo: requestInfo, Individuals: [person(refB)] }, admin),
      read,
    });
    expect(seen.between).toEqual([refB]);
    expect(seen.after).toContain(refA);

    const both = (
      await post(
        platform,
        `/individual/v1/_search?${query({})}`,
        { RequestInfo: requestInfo, Individual: { clientReferenceId: [refA, refB] } },
        admin,
      )
    ).body['Individual'] as Json[];
    const ids = new Map(both.map((r) => [r['clientReferenceId'] as string, r['id'] as string]));
    const encodings = async (from: number) => {
      const { body } = await post(
        platform,
        '/dedup/v1/encodings/_search',
        {
          RequestInfo: requestInfo,
          EncodingSearch: { tenantId: 'pb.amritsar', localities: ['SUN04'], lastChangedSince: from, limit: 5000 },
        },
        admin,
      );
      return body['Encodings'] as Json[];
    };
    // The device had read B's encoding before A's committed: its next read from there still brings A's.
    const afterB = (await encodings(since)).find((e) => e['recordId'] === ids.get(refB))!;
    expect((await encodings(afterB['lastModifiedTime'] as number)).map((e) => e['recordId'])).toContain(ids.get(refA));
  });

  it('tasks: lastChangedSince skips none', async () => {
    const [refA, refB] = [ref('task-a'), ref('task-b')];
    const task = (clientReferenceId: string) => ({
      tenantId: 'pb.amritsar',
      clientReferenceId,
      projectId: 'PJT-SYNC',
      projectBeneficiaryClientReferenceId: ref('pb'),
      status: 'NOT_ADMINISTERED',
    });
    const since = time;
    const registries = registriesOfA();
    const seen = await interleave({
      a: () => registries.tasks.create([task(refA)], { uuid: null }),
      b: () => post(platform, '/project/task/v1/bulk/_create', { RequestInfo: requestInfo, Tasks: [task(refB)] }, admin),
      async read(from: number | undefined) {
        const { body } = await post(
          platform,
          `/project/task/v1/_search?${query({ lastChangedSince: from ?? since })}`,
          { RequestInfo: requestInfo, Task: { clientReferenceId: [refA, refB] } },
          admin,
        );
        const records = body['Tasks'] as Json[];
        return { ids: records.map((r) => r['clientReferenceId'] as string), next: newest(records, from) };
      },
    });
    expect(seen.between).toEqual([refB]);
    expect(seen.after).toContain(refA);
  });

  it('households: neither a downsync cursor nor lastChangedSince skips one', async () => {
    const [refA, refB] = [ref('hh-a'), ref('hh-b')];
    const since = time;
    const registries = registriesOfA();
    const downsync = async (cursor: string | undefined) => {
      const { body } = await post(
        platform,
        '/household/v1/_downsync',
        {
          RequestInfo: requestInfo,
          DownsyncCriteria: { tenantId: 'pb.amritsar', locality: 'SUN04', lastSyncedTime: since, limit: 1, ...(cursor ? { cursor } : {}) },
        },
        admin,
      );
      const page = body['Downsync'] as Json;
      return {
        ids: (page['Households'] as Json[]).map((h) => h['clientReferenceId'] as string),
        next: page['DownsyncCriteria']['nextCursor'] as string,
      };
    };
    const seen = await interleave({
      a: () => registries.households.create([household(refA)], { uuid: null }),
      b: () => post(platform, '/household/v1/bulk/_create', { RequestInfo: requestInfo, Households: [household(refB)] }, admin),
      read: downsync,
    });
    expect(seen.between).toEqual([refB]);
    expect(seen.after).toEqual([refA]);

    const search = async (from: number) => {
      const { body } = await post(
        platform,
        `/household/v1/_search?${query({ lastChangedSince: from })}`,
        { RequestInfo: requestInfo, Household: { clientReferenceId: [refA, refB] } },
        admin,
      );
      return body['Households'] as Json[];
    };
    const b = (await search(since)).find((h) => h['clientReferenceId'] === refB)!;
    expect((await search(newest([b], undefined))).map((h) => h['clientReferenceId'])).toContain(refA);
  });

  it('household members: lastChangedSince skips none', async () => {
    const home = (
      (await post(platform, '/household/v1/bulk/_create', { RequestInfo: requestInfo, Households: [household(ref('home'))] }, admin)).body[
        'Households'
      ] as Json[]
    )[0]!;
    const people = (
      await post(
        platform,
        '/individual/v1/bulk/_create',
        { RequestInfo: requestInfo, Individuals: [person(ref('m-ind')), person(ref('m-ind'))] },
        admin,
      )
    ).body['Individuals'] as Json[];
    const [refA, refB] = [ref('hm-a'), ref('hm-b')];
    const member = (clientReferenceId: string, individual: Json) => ({
      tenantId: 'pb.amritsar',
      clientReferenceId,
      householdId: home['id'],
      individualId: individual['id'],
      isHeadOfHousehold: false,
    });
    const since = time;
    const registries = registriesOfA();
    const seen = await interleave({
      a: () => registries.members.create([member(refA, people[0]!)], { uuid: null }),
      b: () =>
        post(
          platform,
          '/household/member/v1/bulk/_create',
          { RequestInfo: requestInfo, HouseholdMembers: [member(refB, people[1]!)] },
          admin,
        ),
      async read(from: number | undefined) {
        const { body } = await post(
          platform,
          `/household/member/v1/_search?${query({ lastChangedSince: from ?? since })}`,
          { RequestInfo: requestInfo, HouseholdMember: { clientReferenceId: [refA, refB] } },
          admin,
        );
        const records = body['HouseholdMembers'] as Json[];
        return { ids: records.map((r) => r['clientReferenceId'] as string), next: newest(records, from) };
      },
    });
    expect(seen.between).toEqual([refB]);
    expect(seen.after).toContain(refA);
  });
});
