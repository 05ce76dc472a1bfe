import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuth, login, post, requestInfo, testPlatform, type TestPlatform } from '../../../test/helpers.js';

// ---------------------------------------------------------------------------------------------
// Test support: a movable clock, people of the PGR roles, HTTP helpers.

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const BASE = '/egov-workflow-v2/egov-wf';
const PASSWORD = 'Clerk@123';

/** A clock the test moves by hand (`testPlatform({ clock })`). */
function manualClock(start = Date.now()) {
  let time = start;
  return {
    now: () => time,
    advance(ms: number) {
      time += ms;
    },
  };
}

type Person = { uuid: string; userName: string; tenantId: string; type: 'CITIZEN' | 'EMPLOYEE'; headers(): Promise<Record<string, string>> };

let mobile = 9700000000;

/** Logs in when first asked, and again once the token may have expired on the platform's clock (8 hours). */
function session(clock: { now(): number }, open: () => Promise<string>): () => Promise<Record<string, string>> {
  let token: { value: string; at: number } | undefined;
  return async () => {
    if (!token || clock.now() - token.at > 6 * 3600_000) token = { value: await open(), at: clock.now() };
    return { authorization: `Bearer ${token.value}` };
  };
}

/** The bootstrap administrator (SUPERUSER on pb). */
function administrator(platform: TestPlatform, clock: { now(): number }): () => Promise<Record<string, string>> {
  return session(clock, async () => (await adminAuth(platform))['authorization']!.slice('Bearer '.length));
}

/** Creates a user through the API as the administrator; logs in lazily. */
async function person(
  platform: TestPlatform,
  clock: { now(): number },
  admin: () => Promise<Record<string, string>>,
  userName: string,
  roles: readonly string[],
  options: { tenantId?: string; type?: 'CITIZEN' | 'EMPLOYEE' } = {},
): Promise<Person> {
  const type = options.type ?? 'EMPLOYEE';
  const tenantId = type === 'CITIZEN' ? 'pb' : (options.tenantId ?? 'pb.amritsar');
  const number = String(mobile++);
  const name = type === 'CITIZEN' ? number : userName;
  const created = await post(
    platform,
    '/user/users/_createnovalidate',
    {
      RequestInfo: {},
      user: { userName: name, name: `Person ${userName}`, password: PASSWORD, type, tenantId, mobileNumber: number, roles: roles.map((code) => ({ code, tenantId })) },
    },
    await admin(),
  );
  if (created.status !== 200) throw new Error(`creating ${userName} failed: ${JSON.stringify(created.body)}`);
  const user = (created.body['user'] as Json[])[0]!;
  return {
    uuid: user['uuid'],
    userName: name,
    tenantId,
    type,
    headers: session(clock, async () => {
      const answer = await login(platform, name, PASSWORD, tenantId, type);
      if (answer.status !== 200) throw new Error(`login of ${userName} failed: ${JSON.stringify(answer.body)}`);
      return String(answer.body['access_token']);
    }),
  };
}

/**
 * PGR itself is owned by the complaint module (only pgr-services moves it), so these tests drive a
 * copy of the seeded PGR definition under another code that no module owns.
 */
const WF = 'PGRWF';

function instance(businessId: string, action: string, extra: Json = {}): Json {
  return { tenantId: 'pb.amritsar', businessService: WF, businessId, action, ...extra };
}

async function transition(platform: TestPlatform, who: Person, instances: Json[]) {
  return post(platform, `${BASE}/process/_transition`, { RequestInfo: requestInfo, ProcessInstances: instances }, await who.headers());
}

/** POSTs with DIGIT's query-string criteria. */
async function query(platform: TestPlatform, who: Person | Record<string, string>, path: string, criteria: Record<string, string | number | boolean>, body: Json = { RequestInfo: requestInfo }) {
  const qs = new URLSearchParams(Object.entries(criteria).map(([k, v]): [string, string] => [k, String(v)])).toString();
  const headers = 'headers' in who && typeof who.headers === 'function' ? await (who as Person).headers() : (who as Record<string, string>);
  const response = await platform.app.inject({ method: 'POST', url: `${BASE}${path}?${qs}`, headers: { 'content-type': 'application/json', ...headers }, payload: JSON.stringify(body) });
  return { status: response.statusCode, body: response.json() as unknown };
}

const codes = (body: unknown): string[] => ((body as Json)['Errors'] as Json[] | undefined)?.map((e) => e['code']) ?? [];

/**
 * The seeded PGR workflow of the DIGIT reference, end to end through the API with people of the
 * right roles: a citizen files, a GRO assigns to a last-mile employee, who resolves; the citizen
 * rates, or reopens. States, assignees, inbox counts and SLAs are checked as the clock moves.
 */

const HOUR = 3600_000;
const BUSINESS_SLA = 432_000_000;
const LME_SLA = 259_200_000;

const clock = manualClock();
let platform: TestPlatform;
let admin: () => Promise<Record<string, string>>;
let citizen: Person;
let otherCitizen: Person;
let gro: Person;
let lme: Person;
let otherLme: Person;
let jalandharLme: Person;

beforeAll(async () => {
  platform = await testPlatform({ clock, config: { logLevel: (process.env['WF_LOG'] as 'error' | undefined) ?? 'silent' } });
  admin = administrator(platform, clock);
  citizen = await person(platform, clock, admin, 'citizen', ['CITIZEN'], { type: 'CITIZEN' });
  otherCitizen = await person(platform, clock, admin, 'other citizen', ['CITIZEN'], { type: 'CITIZEN' });
  gro = await person(platform, clock, admin, 'gro.amritsar', ['GRO', 'EMPLOYEE']);
  lme = await person(platform, clock, admin, 'lme.amritsar', ['PGR_LME', 'EMPLOYEE']);
  otherLme = await person(platform, clock, admin, 'lme2.amritsar', ['PGR_LME', 'EMPLOYEE']);
  jalandharLme = await person(platform, clock, admin, 'lme.jalandhar', ['PGR_LME', 'EMPLOYEE'], { tenantId: 'pb.jalandhar' });
  const copy = JSON.parse(await fs.readFile('seed/workflow/PGR.json', 'utf8')) as Json;
  copy['BusinessServices'][0]['businessService'] = WF;
  // Through the service as the seed loads it (over HTTP, Ajv's coercion would turn the null SLAs into 0).
  await platform.workflow.service.createBusinessServices(copy['BusinessServices'], null);
});
afterAll(async () => {
  await platform?.drop();
});

const only = (body: unknown): Json => {
  const list = (body as Json)['ProcessInstances'] as Json[];
  expect(list).toHaveLength(1);
  return list[0]!;
};
const actionsOf = (pi: Json) => (pi['nextActions'] as Json[]).map((a) => a['action']);
const inbox = async (who: Person) => query(platform, who, '/process/_search', { tenantId: 'pb.amritsar' });
const latest = async (who: Person, businessId: string) => only((await query(platform, who, '/process/_search', { tenantId: 'pb.amritsar', businessIds: businessId })).body);

describe('the seeded PGR workflow', () => {
  it('is served to every city of the state from its single definition at pb', async () => {
    const found = await query(platform, citizen, '/businessservice/_search', { tenantId: 'pb.amritsar', businessServices: 'PGR' });
    expect(found.status).toBe(200);
    const [pgr] = (found.body as Json)['BusinessServices'] as Json[];
    expect(pgr).toMatchObject({ tenantId: 'pb.amritsar', businessService: 'PGR', business: 'pgr-services', businessServiceSla: BUSINESS_SLA });
    const states = pgr!['states'] as Json[];
    expect(states.map((s) => s['state'])).toEqual([
      null,
      'PENDINGFORASSIGNMENT',
      'PENDINGFORREASSIGNMENT',
      'PENDINGATLME',
      'REJECTED',
      'RESOLVED',
      'CLOSEDAFTERREJECTION',
      'CLOSEDAFTERRESOLUTION',
    ]);
    // nextState is answered as a state uuid, as DIGIT does.
    const apply = (states[0]!['actions'] as Json[])[0]!;
    expect(apply['nextState']).toBe(states[1]!['uuid']);
    const atState = await query(platform, citizen, '/businessservice/_search', { tenantId: 'pb' });
    expect(((atState.body as Json)['BusinessServices'] as Json[]).map((b) => b['businessService'])).toContain('PGR');
  });

  it('loads again without changes (idempotent seed)', async () => {
    const report = await platform.seed('seed');
    expect(report['workflow']).toEqual({ created: 0, updated: 0, unchanged: 1 });
  });
});

describe('a business service owned by a module (PGR, owned by pgr-services)', () => {
  it('is not moved through _transition by anyone: no squatting a future complaint id, no REOPEN behind the complaint', async () => {
    for (const [who, action] of [
      [citizen, 'APPLY'],
      [gro, 'REOPEN'],
    ] as const) {
      const refused = await transition(platform, who, [instance('PB-PGR-2026-01-01-000002', action, { businessService: 'PGR' })]);
      expect(refused.status, JSON.stringify(refused.body)).toBe(400);
      expect(codes(refused.body)).toEqual(['BUSINESSSERVICE_OWNED']);
    }
    // Not even the state administrator, nor mixed with an unowned application in one request.
    const mixed = await post(
      platform,
      `${BASE}/process/_transition`,
      { RequestInfo: requestInfo, ProcessInstances: [instance('PB-PGR-2026-01-01-000003', 'APPLY', { businessService: 'PGR' }), instance('WF-OWN-0001', 'APPLY')] },
      await admin(),
    );
    expect(codes(mixed.body)).toEqual(['BUSINESSSERVICE_OWNED']);
    expect((await query(platform, await admin(), '/process/_count', { tenantId: 'pb.amritsar', businessIds: 'PB-PGR-2026-01-01-000002,PB-PGR-2026-01-01-000003,WF-OWN-0001' })).body).toBe(0);
    // Nor escalated by the workflow service behind the complaint's back.
    const system = { uuid: null, type: 'SYSTEM' as const, tenantId: 'pb', roles: [{ code: 'AUTO_ESCALATE', tenantId: 'pb' }] };
    await expect(platform.workflow.escalation.escalate(system, 'PGR')).rejects.toMatchObject({ code: 'BUSINESSSERVICE_OWNED' });
  });
});

describe('a complaint from APPLY to RATE', () => {
  const id = 'PB-PGR-2026-0001';

  it('a citizen files it: PENDINGFORASSIGNMENT, the full business SLA, no state SLA', async () => {
    const applied = await transition(platform, citizen, [instance(id, 'APPLY', { comment: 'Streetlight broken', documents: [{ documentType: 'PHOTO', fileStoreId: 'file-1' }] })]);
    expect(applied.status, JSON.stringify(applied.body)).toBe(200);
    const pi = only(applied.body);
    expect(pi).toMatchObject({ businessId: id, action: 'APPLY', moduleName: 'pgr-services', businesssServiceSla: BUSINESS_SLA, stateSla: null, rating: null, escalated: false });
    expect(pi['state']).toMatchObject({ state: 'PENDINGFORASSIGNMENT', applicationStatus: 'PENDINGFORASSIGNMENT' });
    expect(pi['assigner']).toMatchObject({ uuid: citizen.uuid, type: 'CITIZEN' });
    expect(pi['documents'][0]).toMatchObject({ documentType: 'PHOTO', fileStoreId: 'file-1', tenantId: 'pb.amritsar' });
    expect(actionsOf(pi)).toEqual(['COMMENT']);
  });

  it('the GRO finds it in the inbox an hour later, with an hour less of the business SLA', async () => {
    clock.advance(HOUR);
    const found = await inbox(gro);
    expect((found.body as Json)['totalCount']).toBe(1);
    const pi = only(found.body);
    expect(pi['businesssServiceSla']).toBe(BUSINESS_SLA - HOUR);
    expect(actionsOf(pi)).toEqual(['ASSIGN', 'REJECT']);
    // Not the last-mile employees' yet: they cannot act in this state.
    expect((await inbox(lme)).body).toMatchObject({ totalCount: 0 });
  });

  it('refuses what the configuration does not allow, with DIGIT’s codes', async () => {
    expect(codes((await transition(platform, lme, [instance(id, 'ASSIGN', { assignes: [{ uuid: lme.uuid }] })])).body)).toEqual(['INVALID ROLE']);
    expect(codes((await transition(platform, gro, [instance(id, 'RESOLVE')])).body)).toEqual(['INVALID ACTION']);
    expect(codes((await transition(platform, gro, [instance(id, 'ASSIGN', { assignes: [{ uuid: citizen.uuid }] })])).body)).toEqual(['INVALID_ASSIGNEE']);
    expect(codes((await transition(platform, gro, [instance(id, 'ASSIGN', { assignes: [{ uuid: jalandharLme.uuid }] })])).body)).toEqual(['INVALID_ASSIGNEE']);
    expect(codes((await transition(platform, gro, [instance(id, 'ASSIGN', { assignes: [{ uuid: '00000000-0000-4000-8000-000000000000' }] })])).body)).toEqual(['INVALID UUID']);
    expect(codes((await transition(platform, gro, [instance(id, 'ASSIGN', { rating: 4, assignes: [{ uuid: lme.uuid }] })])).body)).toEqual(['INVALID_ACTION']);
    const message = ((await transition(platform, gro, [instance(id, 'RESOLVE')])).body as Json)['Errors'][0]['message'];
    expect(message).toContain('PENDINGFORASSIGNMENT');
    expect(message).toContain('ASSIGN, COMMENT, REJECT');
    // Nothing moved.
    expect((await latest(gro, id))['state']['state']).toBe('PENDINGFORASSIGNMENT');
  });

  it('the GRO assigns it to a last-mile employee: PENDINGATLME with the state SLA', async () => {
    const assigned = await transition(platform, gro, [instance(id, 'ASSIGN', { comment: 'please fix', assignees: [{ uuid: lme.uuid }] })]);
    expect(assigned.status, JSON.stringify(assigned.body)).toBe(200);
    const pi = only(assigned.body);
    expect(pi['state']['state']).toBe('PENDINGATLME');
    expect(pi['stateSla']).toBe(LME_SLA);
    expect(pi['businesssServiceSla']).toBe(BUSINESS_SLA - HOUR);
    expect(pi['assignes']).toEqual([expect.objectContaining({ uuid: lme.uuid, userName: lme.userName })]);
    expect(pi['nextActions']).toEqual([]);
  });

  it('inboxes and counts follow the assignment; SLAs keep running down', async () => {
    clock.advance(2 * HOUR);
    expect((await inbox(gro)).body).toMatchObject({ totalCount: 0 });
    const mine = await inbox(lme);
    expect((mine.body as Json)['totalCount']).toBe(1);
    const pi = only(mine.body);
    expect(pi['stateSla']).toBe(LME_SLA - 2 * HOUR);
    expect(pi['businesssServiceSla']).toBe(BUSINESS_SLA - 3 * HOUR);
    expect(actionsOf(pi)).toEqual(['REASSIGN', 'RESOLVE']);
    // Assigned to someone else: not in another last-mile employee's inbox.
    expect((await inbox(otherLme)).body).toMatchObject({ totalCount: 0 });

    const headers = await admin();
    expect((await query(platform, headers, '/process/_count', { tenantId: 'pb.amritsar', assignee: lme.uuid })).body).toBe(1);
    expect((await query(platform, headers, '/process/_count', { tenantId: 'pb.amritsar', assignee: otherLme.uuid })).body).toBe(0);
    expect((await query(platform, headers, '/process/_count', { tenantId: 'pb.amritsar', businessIds: id, history: true })).body).toBe(2);
    const counts = await query(platform, citizen, '/process/_statuscount', { tenantId: 'pb.amritsar', businessService: WF });
    expect(counts.body).toEqual([expect.objectContaining({ count: 1, applicationstatus: 'PENDINGATLME', businessservice: WF })]);
    // Another citizen sees none of it.
    expect((await query(platform, otherCitizen, '/process/_statuscount', { tenantId: 'pb.amritsar', businessService: WF })).body).toEqual([]);
    expect((await query(platform, otherCitizen, '/process/_search', { tenantId: 'pb.amritsar', businessIds: id })).body).toMatchObject({ totalCount: 0 });
  });

  it('a citizen comment keeps the assignment and counts down the state SLA', async () => {
    clock.advance(HOUR);
    const commented = await transition(platform, citizen, [instance(id, 'COMMENT', { comment: 'still dark' })]);
    expect(commented.status, JSON.stringify(commented.body)).toBe(200);
    const pi = only(commented.body);
    expect(pi['stateSla']).toBe(LME_SLA - 3 * HOUR);
    expect(pi['assignes']).toEqual([expect.objectContaining({ uuid: lme.uuid })]);
    // DIGIT keeps the step's creation stamp on in-place actions.
    expect(pi['auditDetails']['createdBy']).toBe(gro.uuid);
    expect((await inbox(lme)).body).toMatchObject({ totalCount: 1 });
  });

  it('the employee resolves it and the citizen rates it; the history has every step, newest first', async () => {
    clock.advance(HOUR);
    const resolved = await transition(platform, lme, [instance(id, 'RESOLVE', { comment: 'replaced the bulb' })]);
    expect(only(resolved.body)['state']['state']).toBe('RESOLVED');
    expect(actionsOf(await latest(citizen, id))).toEqual(['COMMENT', 'RATE', 'REOPEN']);
    // Another citizen cannot rate someone else's complaint.
    expect(codes((await transition(platform, otherCitizen, [instance(id, 'RATE', { rating: 1 })])).body)).toEqual(['INVALID_USER']);

    const rated = await transition(platform, citizen, [instance(id, 'RATE', { rating: 5, comment: 'thanks' })]);
    expect(rated.status, JSON.stringify(rated.body)).toBe(200);
    const pi = only(rated.body);
    expect(pi).toMatchObject({ rating: 5, businesssServiceSla: BUSINESS_SLA - 5 * HOUR });
    expect(pi['state']).toMatchObject({ state: 'CLOSEDAFTERRESOLUTION', isTerminateState: true });
    expect(pi['nextActions']).toEqual([]);

    const history = await query(platform, citizen, '/process/_search', { tenantId: 'pb.amritsar', businessIds: id, history: true });
    expect(((history.body as Json)['ProcessInstances'] as Json[]).map((p) => p['action'])).toEqual(['RATE', 'RESOLVE', 'COMMENT', 'ASSIGN', 'APPLY']);
    const after = await transition(platform, citizen, [instance(id, 'REOPEN')]);
    expect(codes(after.body)).toEqual(['INVALID ACTION']);
  });
});

describe('a complaint reopened after resolution', () => {
  const id = 'PB-PGR-2026-0002';

  it('goes back to PENDINGFORASSIGNMENT and into the GRO inbox', async () => {
    for (const [who, action, extra] of [
      [citizen, 'APPLY', {}],
      [gro, 'ASSIGN', { assignes: [{ uuid: otherLme.uuid }] }],
      [otherLme, 'RESOLVE', {}],
    ] as const) {
      clock.advance(HOUR);
      const moved = await transition(platform, who, [instance(id, action, extra)]);
      expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    }
    expect(codes((await transition(platform, gro, [instance(id, 'REOPEN')])).body)).toEqual(['INVALID ROLE']);
    const reopened = await transition(platform, citizen, [instance(id, 'REOPEN', { comment: 'broken again' })]);
    expect(reopened.status, JSON.stringify(reopened.body)).toBe(200);
    const pi = only(reopened.body);
    expect(pi['state']['state']).toBe('PENDINGFORASSIGNMENT');
    expect(pi['stateSla']).toBeNull();
    expect(pi['businesssServiceSla']).toBe(BUSINESS_SLA - 2 * HOUR);
    expect(pi['previousStatus']).toBe('RESOLVED');
    const groInbox = await inbox(gro);
    expect((groInbox.body as Json)['totalCount']).toBe(1);
    expect(only(groInbox.body)['businessId']).toBe(id);
    const counts = await query(platform, citizen, '/process/_statuscount', { tenantId: 'pb.amritsar', businessService: WF });
    expect(counts.body).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ count: 1, applicationstatus: 'CLOSEDAFTERRESOLUTION' }),
        expect.objectContaining({ count: 1, applicationstatus: 'PENDINGFORASSIGNMENT' }),
      ]),
    );
    expect((await query(platform, await admin(), '/process/_count', { tenantId: 'pb.amritsar', businessService: WF, status: pi['state']['uuid'] })).body).toBe(1);
  });
});

describe('requests that must change nothing', () => {
  it('several instances in one call are all or nothing', async () => {
    const mixed = await transition(platform, citizen, [instance('PB-PGR-2026-0010', 'APPLY'), instance('PB-PGR-2026-0011', 'RESOLVE')]);
    expect(mixed.status).toBe(400);
    expect(codes(mixed.body)).toEqual(['INVALID ACTION']);
    expect((await query(platform, citizen, '/process/_search', { tenantId: 'pb.amritsar', businessIds: 'PB-PGR-2026-0010' })).body).toMatchObject({ totalCount: 0 });
    const both = await transition(platform, citizen, [instance('PB-PGR-2026-0010', 'APPLY'), instance('PB-PGR-2026-0011', 'APPLY')]);
    expect(both.status).toBe(200);
    expect((both.body as Json)['ProcessInstances']).toHaveLength(2);
  });

  it('an unknown business service, a duplicate application and a short businessId are refused', async () => {
    expect(codes((await transition(platform, citizen, [instance('PB-X-1', 'APPLY', { businessService: 'NOPE' })])).body)).toEqual(['BUSINESSSERVICE ERROR']);
    expect(codes((await transition(platform, citizen, [instance('PB-PGR-2026-0012', 'APPLY'), instance('PB-PGR-2026-0012', 'APPLY')])).body)).toEqual(['INVALID_REQUEST']);
    expect(codes((await query(platform, gro, '/process/_search', { tenantId: 'pb.amritsar', businessIds: 'ab' })).body)).toEqual(['INVALID_REQUEST']);
  });
});

describe('two transitions of one application at once', () => {
  /** The caller as the platform resolves it from a token. */
  const callerOf = async (who: Person) => {
    const [user] = await platform.users.service.search({ uuids: [who.uuid] }, { pageSize: 1 });
    return { uuid: user!.uuid, type: user!.type, tenantId: user!.tenantId, roles: user!.roles };
  };
  const service = () => platform.workflow.service;

  it('both read the same step, then commit at once: exactly one wins, the other gets CONCURRENT_TRANSITION', async () => {
    const id = 'PB-PGR-2026-0020';
    expect((await transition(platform, citizen, [instance(id, 'APPLY')])).status).toBe(200);
    const groCaller = await callerOf(gro);
    const assign = await service().prepareTransition(groCaller, [instance(id, 'ASSIGN', { assignes: [{ uuid: lme.uuid }] }) as never]);
    const reject = await service().prepareTransition(groCaller, [instance(id, 'REJECT') as never]);
    const results = await Promise.allSettled([
      platform.database.transaction((tx) => service().commitTransition(tx, assign)),
      platform.database.transaction((tx) => service().commitTransition(tx, reject)),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(lost.reason).toMatchObject({ kind: 'conflict', code: 'CONCURRENT_TRANSITION' });
    const history = await query(platform, gro, '/process/_search', { tenantId: 'pb.amritsar', businessIds: id, history: true });
    expect((history.body as Json)['totalCount']).toBe(2);
  });

  it('two applications started under one number at once: one wins', async () => {
    const id = 'PB-PGR-2026-0021';
    const first = await service().prepareTransition(await callerOf(citizen), [instance(id, 'APPLY') as never]);
    const second = await service().prepareTransition(await callerOf(otherCitizen), [instance(id, 'APPLY') as never]);
    const results = await Promise.allSettled([
      platform.database.transaction((tx) => service().commitTransition(tx, first)),
      platform.database.transaction((tx) => service().commitTransition(tx, second)),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toMatchObject({ code: 'CONCURRENT_TRANSITION' });
    expect((await query(platform, await admin(), '/process/_count', { tenantId: 'pb.amritsar', businessIds: id, history: true })).body).toBe(1);
  });

  it('through HTTP: of two simultaneous requests exactly one moves the application', async () => {
    const id = 'PB-PGR-2026-0022';
    expect((await transition(platform, citizen, [instance(id, 'APPLY')])).status).toBe(200);
    await gro.headers();
    const [a, b] = await Promise.all([
      transition(platform, gro, [instance(id, 'ASSIGN', { assignes: [{ uuid: lme.uuid }] })]),
      transition(platform, gro, [instance(id, 'REJECT')]),
    ]);
    // Overlapping: the race is lost at commit (409); one after the other: the action no longer applies (400).
    const loser = a.status === 200 ? b : a;
    expect([a.status, b.status], JSON.stringify([a.body, b.body])).toContain(200);
    expect(
      [
        [409, 'CONCURRENT_TRANSITION'],
        [400, 'INVALID ACTION'],
      ],
    ).toContainEqual([loser.status, codes(loser.body)[0]]);
    expect((await query(platform, gro, '/process/_search', { tenantId: 'pb.amritsar', businessIds: id, history: true })).body).toMatchObject({ totalCount: 2 });
  });
});

describe('events', () => {
  it('every transition wrote plinth.workflow.transitioned.v1 to the outbox', async () => {
    const rows = await platform.database.kysely
      .withTables<{ plinth_outbox: { id: string; type: string; subject: string; data: unknown } }>()
      .selectFrom('plinth_outbox')
      .select(['id', 'subject', 'data'])
      .where('type', '=', 'plinth.workflow.transitioned.v1')
      .where('subject', '=', 'PB-PGR-2026-0001')
      .orderBy('id')
      .execute();
    const data = rows.map((r) => platform.database.fromJson<Json>(r.data));
    expect(data.map((d) => d['action'])).toEqual(['APPLY', 'ASSIGN', 'COMMENT', 'RESOLVE', 'RATE']);
    expect(data[1]).toMatchObject({ state: { state: 'PENDINGATLME' }, assignes: [lme.uuid], assigner: gro.uuid, tenantId: 'pb.amritsar' });
  });
});

describe('defining workflows through the API', () => {
  const water = (states: Json[] = []): Json => ({
    tenantId: 'pb.amritsar',
    businessService: 'WATER',
    business: 'ws-services',
    businessServiceSla: 86_400_000,
    states: [
      { state: null, isStartState: true, actions: [{ action: 'APPLY', nextState: 'OPEN', roles: ['CITIZEN'] }] },
      { state: 'OPEN', applicationStatus: 'OPEN', sla: 3_600_000, actions: [{ action: 'APPROVE', nextState: 'DONE', roles: ['EMPLOYEE'] }] },
      { state: 'DONE', applicationStatus: 'DONE', isTerminateState: true },
      ...states,
    ],
  });
  const create = async (body: Json[], headers?: Record<string, string>) =>
    post(platform, `${BASE}/businessservice/_create`, { RequestInfo: requestInfo, BusinessServices: body }, headers ?? (await admin()));
  const update = async (body: Json[]) => post(platform, `${BASE}/businessservice/_update`, { RequestInfo: requestInfo, BusinessServices: body }, await admin());
  const searchWater = async () => ((await query(platform, await admin(), '/businessservice/_search', { tenantId: 'pb.amritsar', businessServices: 'WATER' })).body as Json)['BusinessServices'] as Json[];

  it('refuses a broken definition with every problem named, and creates nothing', async () => {
    const broken = water([{ state: 'LIMBO', actions: [{ action: 'GO', nextState: 'NOWHERE', roles: ['NO_SUCH_ROLE'] }] }]);
    const refused = await create([broken]);
    expect(refused.status).toBe(400);
    expect(codes(refused.body).sort()).toEqual(['INVALID NEXTSTATE', 'INVALID ROLE']);
    expect(await searchWater()).toEqual([]);
  });

  it('creates a city workflow, refuses it twice, and refuses callers without the role', async () => {
    const created = await create([water()]);
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const [bs] = (created.body as Json)['BusinessServices'] as Json[];
    expect(bs).toMatchObject({ tenantId: 'pb.amritsar', businessService: 'WATER', auditDetails: { createdBy: expect.any(String) } });
    expect(codes((await create([water()])).body)).toEqual(['INVALID BUSINESSSERVICE']);
    expect((await create([water()], await citizen.headers())).status).toBe(403);
    // Served to Amritsar only: it is not state-level.
    expect(((await query(platform, await admin(), '/businessservice/_search', { tenantId: 'pb.jalandhar', businessServices: 'WATER' })).body as Json)['BusinessServices']).toEqual([]);
  });

  it('refuses a city copy of a state-level workflow (Workflow.BusinessServiceMasterConfig)', async () => {
    const pgrAtCity = { ...water(), businessService: 'PGR' };
    const refused = await create([pgrAtCity]);
    expect(codes(refused.body)).toEqual(['INVALID BUSINESSSERVICE']);
    expect(((refused.body as Json)['Errors'] as Json[])[0]!['message']).toContain('state-level');
  });

  it('updates: existing states and actions keep their uuids, a new state is added, a dropped state is refused', async () => {
    const [before] = await searchWater();
    const changed = water([{ state: 'HOLD', applicationStatus: 'HOLD', actions: [{ action: 'RESUME', nextState: 'OPEN', roles: ['EMPLOYEE'] }] }]);
    (changed['states'] as Json[])[1]!['actions'].push({ action: 'PARK', nextState: 'HOLD', roles: ['EMPLOYEE'] });
    const updated = await update([changed]);
    expect(updated.status, JSON.stringify(updated.body)).toBe(200);
    const [after] = await searchWater();
    expect((after!['states'] as Json[]).slice(0, 3).map((s) => s['uuid'])).toEqual((before!['states'] as Json[]).map((s) => s['uuid']));
    expect((after!['states'] as Json[]).map((s) => s['state'])).toEqual([null, 'OPEN', 'DONE', 'HOLD']);

    const dropped = water();
    (dropped['states'] as Json[]).splice(2, 1);
    (dropped['states'] as Json[])[1]!['actions'] = [{ action: 'APPROVE', nextState: 'OPEN', roles: ['EMPLOYEE'] }];
    expect(codes((await update([dropped])).body)).toContain('INVALID STATE');
    expect(codes((await update([{ ...water(), businessService: 'NOT_THERE' }])).body)).toEqual(['INVALID BUSINESSSERVICE']);
  });
});

describe('the nearing-SLA count', () => {
  // DIGIT: maxSla − slotPercentage × (maxSla / 100), with wfSlaConfig's slotPercentage 33.
  const LIMIT = BUSINESS_SLA - 33 * (BUSINESS_SLA / 100);

  it('needs a business service', async () => {
    const refused = await query(platform, await admin(), '/process/_nearingslacount', { tenantId: 'pb.amritsar' });
    expect(codes(refused.body)).toEqual(['EG_WF_BUSINESSSRV_ERR']);
  });

  it('counts applications touched within the slot, and stops counting them once it has passed', async () => {
    const id = 'PB-PGR-2026-0030';
    expect((await transition(platform, citizen, [instance(id, 'APPLY')])).status).toBe(200);
    const nearing = async () => (await query(platform, await admin(), '/process/_nearingslacount', { tenantId: 'pb.amritsar', businessService: WF, businessIds: id })).body;
    expect(await nearing()).toBe(1);
    clock.advance(LIMIT - 1000);
    expect(await nearing()).toBe(1);
    clock.advance(2000);
    expect(await nearing()).toBe(0);
    // The GRO's inbox flavour (no filters) answers too.
    expect(typeof (await query(platform, gro, '/process/_nearingslacount', { tenantId: 'pb.amritsar', businessService: WF })).body).toBe('number');
  });

  it('_statuscount reads its criteria from the body as well', async () => {
    const fromQuery = await query(platform, citizen, '/process/_statuscount', { tenantId: 'pb.amritsar', businessService: WF });
    const fromBody = await post(
      platform,
      `${BASE}/process/_statuscount`,
      { RequestInfo: requestInfo, ProcessInstanceSearchCriteria: { tenantId: 'pb.amritsar', businessService: WF } },
      await citizen.headers(),
    );
    expect(fromBody.status).toBe(200);
    expect(fromBody.body).toEqual(fromQuery.body);
    const noTenant = await post(platform, `${BASE}/process/_statuscount`, { RequestInfo: requestInfo, ProcessInstanceSearchCriteria: { businessService: WF } }, await citizen.headers());
    expect(noTenant.status).toBe(400);
  });
});

describe('auto-escalation', () => {
  const MINUTE = 60_000;
  let escalator: Person;
  const esc = (businessId: string, action = 'APPLY') => instance(businessId, action, { businessService: 'ESCTEST' });

  beforeAll(async () => {
    escalator = await person(platform, clock, admin, 'escalator', ['AUTO_ESCALATE', 'EMPLOYEE'], { tenantId: 'pb' });
    const definition = {
      tenantId: 'pb',
      businessService: 'ESCTEST',
      business: 'esc-services',
      businessServiceSla: 86_400_000,
      states: [
        { state: null, actions: [{ action: 'APPLY', nextState: 'PENDING', roles: ['CITIZEN'] }] },
        {
          state: 'PENDING',
          applicationStatus: 'PENDING',
          sla: 60 * MINUTE,
          actions: [
            { action: 'CLOSE', nextState: 'CLOSED', roles: ['EMPLOYEE'] },
            { action: 'AUTOCLOSE', nextState: 'CLOSED', roles: ['AUTO_ESCALATE'] },
          ],
        },
        { state: 'CLOSED', applicationStatus: 'CLOSED', isTerminateState: true },
      ],
    };
    const created = await post(platform, `${BASE}/businessservice/_create`, { RequestInfo: requestInfo, BusinessServices: [definition] }, await admin());
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    // The seeded records are inactive; this one is active. stateSLA is in days: 0.01 day = 14.4 minutes.
    const record = { businessService: 'ESCTEST', module: 'esc-services', state: 'PENDING', action: 'AUTOCLOSE', active: 'true', stateSLA: 0.01, businessSLA: null, topic: 'esc-test' };
    const mdms = await post(platform, '/mdms-v2/v2/_create/Workflow.AutoEscalation', { RequestInfo: requestInfo, Mdms: { tenantId: 'pb', schemaCode: 'Workflow.AutoEscalation', data: record, isActive: true } }, await admin());
    expect(mdms.status, JSON.stringify(mdms.body)).toBe(202);
  });

  it('escalates what has overstayed its state SLA by more than the allowance, through the API', async () => {
    for (const id of ['ESC-0001', 'ESC-0002']) expect((await transition(platform, citizen, [esc(id)])).status).toBe(200);
    const dryRun = async () => (await post(platform, `${BASE}/auto/ESCTEST/_test`, { RequestInfo: requestInfo }, await escalator.headers())).body;
    clock.advance(70 * MINUTE);
    expect(await dryRun()).toEqual([]);
    clock.advance(5 * MINUTE);
    expect(((await dryRun()) as unknown as string[]).sort()).toEqual(['ESC-0001', 'ESC-0002']);
    const asAdmin = await post(platform, `${BASE}/auto/ESCTEST/_test`, { RequestInfo: requestInfo }, await admin());
    expect((asAdmin.body as unknown as string[]).sort()).toEqual(['ESC-0001', 'ESC-0002']);

    expect((await post(platform, `${BASE}/auto/ESCTEST/_escalate`, { RequestInfo: requestInfo }, await citizen.headers())).status).toBe(403);
    const escalated = await post(platform, `${BASE}/auto/ESCTEST/_escalate`, { RequestInfo: requestInfo }, await escalator.headers());
    expect(escalated.status, JSON.stringify(escalated.body)).toBe(200);
    expect(escalated.body).toMatchObject({ status: 'successful' });

    const found = await query(platform, citizen, '/escalate/_search', { tenantId: 'pb.amritsar', businessService: 'ESCTEST' });
    expect((found.body as Json)['totalCount']).toBe(2);
    for (const pi of (found.body as Json)['ProcessInstances'] as Json[]) {
      expect(pi).toMatchObject({ action: 'AUTOCLOSE', escalated: true, state: { state: 'CLOSED' }, assigner: { uuid: escalator.uuid } });
    }
    expect(await dryRun()).toEqual([]);
    const events = await platform.database.kysely
      .withTables<{ plinth_outbox: { type: string; data: unknown } }>()
      .selectFrom('plinth_outbox')
      .select('data')
      .where('type', '=', 'plinth.workflow.escalated.v1')
      .execute();
    expect(events.map((e) => platform.database.fromJson<Json>(e.data)['topic'])).toEqual(['esc-test', 'esc-test']);
  });

  it('the background worker escalates as the platform itself, and only per active records', async () => {
    expect((await transition(platform, citizen, [esc('ESC-0003')])).status).toBe(200);
    expect(await platform.workflow.escalation.runOnce()).toEqual([]);
    clock.advance(80 * MINUTE);
    const done = await platform.workflow.escalation.runOnce();
    // Only ESCTEST has an active record: PGR's seeded ones are inactive.
    expect(done).toEqual([{ tenantId: 'pb.amritsar', businessId: 'ESC-0003', action: 'AUTOCLOSE', state: 'PENDING' }]);
    const [pi] = ((await query(platform, citizen, '/process/_search', { tenantId: 'pb.amritsar', businessIds: 'ESC-0003' })).body as Json)['ProcessInstances'] as Json[];
    expect(pi).toMatchObject({ escalated: true, assigner: null, state: { state: 'CLOSED' } });
  });
});

describe('the workflow seed folder', () => {
  it('refuses bad files with every problem named, and writes nothing', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'wf-seed-'));
    await fs.mkdir(path.join(dir, 'workflow'));
    const broken = JSON.parse(await fs.readFile('seed/workflow/PGR.json', 'utf8')) as Json;
    broken['BusinessServices'][0]['businessService'] = 'PGR_COPY';
    broken['BusinessServices'][0]['states'][3]['actions'][1]['nextState'] = 'RESOLVD';
    await fs.writeFile(path.join(dir, 'workflow', 'broken.json'), JSON.stringify(broken));
    await fs.writeFile(path.join(dir, 'workflow', 'shapeless.json'), JSON.stringify({ states: [] }));
    const refused = await platform.seed(dir).then(
      () => undefined,
      (error: unknown) => error as Json,
    );
    expect(refused?.['details'].map((d: Json) => d['message']).join('\n')).toContain('workflow/shapeless.json: must be an object with a "BusinessServices" list');
    await fs.rm(path.join(dir, 'workflow', 'shapeless.json'));
    const second = await platform.seed(dir).then(
      () => undefined,
      (error: unknown) => error as Json,
    );
    const message = second?.['details'].map((d: Json) => d['message']).join('\n');
    expect(message).toContain('workflow/broken.json BusinessServices[0] (PGR_COPY)');
    expect(message).toContain('RESOLVD');
    expect(((await query(platform, await admin(), '/businessservice/_search', { tenantId: 'pb', businessServices: 'PGR_COPY' })).body as Json)['BusinessServices']).toEqual([]);
    await fs.rm(dir, { recursive: true, force: true });
  });
});
