import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../kernel/clock.js';
import { createOutbox } from '../../kernel/events.js';
import { adminAuth, post, requestInfo, testPlatform, type TestPlatform } from '../../../test/helpers.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let platform: TestPlatform;
let auth: Record<string, string>;

beforeAll(async () => {
  platform = await testPlatform();
  auth = await adminAuth(platform);
});
afterAll(() => platform.drop());

const SENDER = 'pb.civil-registry';
const TENANT = 'pb.amritsar';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** 00:00 of 15 Oct 2025 in Asia/Kolkata (PLINTH_TIME_ZONE's default, UTC+05:30). */
const BIRTH_MIDNIGHT = Date.UTC(2025, 9, 15) - 5.5 * HOUR;
const SEEDED_DOSES: Array<[string, string, number, number]> = [
  ['BCG', 'BCG', 0, 365],
  ['OPV-0', 'OPV', 0, 15],
  ['HEPB-0', 'HEPB', 0, 1],
  ['OPV-1', 'OPV', 42, 28],
  ['OPV-2', 'OPV', 70, 28],
  ['OPV-3', 'OPV', 98, 28],
];

let serial = 0;
function registration(fields: Json = {}, type = 'plinth.individual.created.v1'): Json {
  serial++;
  return {
    specversion: '1.0',
    id: `src-event-${serial}`,
    source: '/plinth/individual',
    type,
    subject: `src-individual-${serial}`,
    time: '2025-10-16T10:00:00.000Z',
    datacontenttype: 'application/json',
    tenantid: TENANT,
    data: {
      tenantId: TENANT,
      individualId: `IND-2025-10-16-${serial}`,
      clientReferenceId: `civil-${serial}`,
      name: { givenName: 'Asha', familyName: 'Kaur' },
      dateOfBirth: '15/10/2025',
      gender: 'FEMALE',
      identifiers: [{ identifierType: 'BIRTH_REGISTRATION', identifierId: `BR-2025-${serial}` }],
      address: [{ type: 'PERMANENT', locality: { code: 'SUN04' } }],
      ...fields,
    },
  };
}

/** What the trust module does on an accepted message: one outbox event in a transaction. */
async function receive(event: Json, messageId: string, sender = SENDER) {
  const outbox = createOutbox(platform.database, systemClock, () => undefined);
  await platform.database.transaction((tx) =>
    outbox.append(tx, {
      type: 'plinth.exchange.received.v1',
      source: '/plinth/exchange/trust',
      subject: String(event['subject']),
      tenantId: String(event['tenantid']),
      data: { messageId, sender, subscriptionId: 'sub-births', receivedTime: Date.now(), event },
    }),
  );
  await platform.dispatcher.deliverPending();
}

const searchTasks = (criteria: Json) =>
  post(platform, `/project/task/v1/_search?tenantId=${TENANT}&limit=100&offset=0`, { RequestInfo: requestInfo, Task: criteria }, auth);

async function receivedEvents() {
  return platform.database.kysely
    .withTables<{ plinth_outbox: { id: string; type: string; status: string; last_error: string | null } }>()
    .selectFrom('plinth_outbox')
    .select(['status', 'last_error'])
    .where('type', '=', 'plinth.exchange.received.v1')
    .execute();
}

describe('vaccination schedule for a received birth', () => {
  it('registers the child and creates one task per MDMS dose with the right dates; redeliveries and second messages change nothing', async () => {
    const birth = registration();
    const registrationNumber = (birth['data'] as Json)['identifiers'][0]['identifierId'] as string;
    const childRef = platform.immunization.childClientReferenceId(SENDER, TENANT, registrationNumber);

    await receive(birth, 'msg-1');
    const ids = await platform.individual.lookup.idsByClientReferenceId(TENANT, [childRef]);
    expect(ids.size).toBe(1);

    const { status, body } = await searchTasks({ projectBeneficiaryClientReferenceId: [childRef] });
    expect(status).toBe(200);
    expect(body['TotalCount']).toBe(SEEDED_DOSES.length);
    const tasks = (body['Tasks'] as Json[]).sort((a, b) => a['clientReferenceId'].localeCompare(b['clientReferenceId']));
    const expected = SEEDED_DOSES.map(([code, vaccine, age, window]) => ({
      clientReferenceId: `${childRef}.${code}`,
      projectId: 'PJT-UIP-PB',
      projectBeneficiaryClientReferenceId: childRef,
      status: 'NOT_ADMINISTERED',
      plannedStartDate: BIRTH_MIDNIGHT + age * DAY,
      plannedEndDate: BIRTH_MIDNIGHT + (age + window) * DAY,
      resources: [expect.objectContaining({ productVariantId: vaccine, quantity: 1, isDelivered: false })],
      additionalFields: expect.objectContaining({ fields: expect.arrayContaining([{ key: 'doseCode', value: code }]) }),
    })).sort((a, b) => a.clientReferenceId.localeCompare(b.clientReferenceId));
    expect(tasks).toEqual(expected.map((e) => expect.objectContaining(e)));

    const schedule = await platform.immunization.schedule(TENANT, childRef);
    expect(schedule.map((t) => t.plannedStartDate)).toEqual(
      [...SEEDED_DOSES.map(([, , age]) => BIRTH_MIDNIGHT + age * DAY)].sort((a, b) => a - b),
    );

    // The child, as this agency registered it.
    const child = await post(
      platform,
      `/individual/v1/_search?tenantId=${TENANT}&limit=10&offset=0`,
      { RequestInfo: requestInfo, Individual: { clientReferenceId: [childRef] } },
      auth,
    );
    expect(child.status).toBe(200);
    expect(child.body['Individual']).toEqual([
      expect.objectContaining({
        clientReferenceId: childRef,
        dateOfBirth: '15/10/2025',
        gender: 'FEMALE',
        identifiers: [expect.objectContaining({ identifierType: 'BIRTH_REGISTRATION', identifierId: registrationNumber })],
      }),
    ]);

    // The same message delivered again, and another message carrying the same birth.
    await receive(birth, 'msg-1');
    await receive({ ...birth, id: 'src-event-resent' }, 'msg-2');
    expect((await platform.individual.lookup.idsByClientReferenceId(TENANT, [childRef])).size).toBe(1);
    const again = await searchTasks({ projectBeneficiaryClientReferenceId: [childRef] });
    expect(again.body['TotalCount']).toBe(SEEDED_DOSES.length);
    expect((again.body['Tasks'] as Json[]).every((t) => t['rowVersion'] === 1)).toBe(true);
    const childEvents = await platform.database.kysely
      .withTables<{ plinth_outbox: { type: string; subject: string } }>()
      .selectFrom('plinth_outbox')
      .select('type')
      .where('subject', '=', ids.get(childRef)!)
      .execute();
    expect(childEvents.map((e) => e.type)).toEqual(['plinth.individual.created.v1']);
    expect((await receivedEvents()).every((e) => e.status === 'delivered')).toBe(true);
  });

  it('registers a child whose locality this agency does not know (without the address) and one with no name shared', async () => {
    const birth = registration({ address: [{ type: 'PERMANENT', locality: { code: 'NOT-A-BOUNDARY' } }], name: {} });
    const childRef = platform.immunization.childClientReferenceId(
      SENDER,
      TENANT,
      (birth['data'] as Json)['identifiers'][0]['identifierId'],
    );
    await receive(birth, 'msg-unknown-locality');
    expect((await platform.individual.lookup.idsByClientReferenceId(TENANT, [childRef])).size).toBe(1);
    expect((await searchTasks({ projectBeneficiaryClientReferenceId: [childRef] })).body['TotalCount']).toBe(SEEDED_DOSES.length);
  });

  it('ignores what is not a birth: other event types, no birth registration, no date of birth', async () => {
    const before = (await searchTasks({ projectId: 'PJT-UIP-PB' })).body['TotalCount'] as number;
    const notBirths = [
      registration({}, 'plinth.individual.updated.v1'),
      registration({ identifiers: [{ identifierType: 'AADHAAR', identifierId: '123412341234' }] }),
      registration({ dateOfBirth: undefined }),
      registration({ dateOfBirth: '2025-10-15' }),
    ];
    for (const [i, event] of notBirths.entries()) await receive(event, `msg-not-birth-${i}`);
    expect((await searchTasks({ projectId: 'PJT-UIP-PB' })).body['TotalCount']).toBe(before);
    for (const event of notBirths) {
      const number = ((event['data'] as Json)['identifiers'][0]['identifierId'] as string) ?? '';
      const ref = platform.immunization.childClientReferenceId(SENDER, TENANT, number);
      expect((await platform.individual.lookup.idsByClientReferenceId(TENANT, [ref])).size).toBe(0);
    }
    // Ignored, not failed: nothing waits for a retry or sits in the dead letters.
    expect((await receivedEvents()).every((e) => e.status === 'delivered')).toBe(true);
  });

  it('ignores births from a trusted agency that Immunization.Config does not list as a sender', async () => {
    const birth = registration();
    const number = (birth['data'] as Json)['identifiers'][0]['identifierId'] as string;
    await receive(birth, 'msg-other-sender', 'pb.police');
    const ref = platform.immunization.childClientReferenceId('pb.police', TENANT, number);
    expect((await platform.individual.lookup.idsByClientReferenceId(TENANT, [ref])).size).toBe(0);
    expect((await searchTasks({ projectBeneficiaryClientReferenceId: [ref] })).body['TotalCount']).toBe(0);
    // Handled (not retried, not dead-lettered): the sender is simply not one whose births count.
    expect((await receivedEvents()).every((e) => e.status === 'delivered')).toBe(true);
  });

  it("writes only to the event's tenant: a person or inner event naming another tenant is ignored", async () => {
    const OTHER = 'pb.jalandhar';
    const cases = [registration({ tenantId: OTHER }), { ...registration(), tenantid: OTHER }];
    for (const [i, event] of cases.entries()) {
      // The hand-over's tenant is pb.amritsar (whose state's config is read), whatever the inside says.
      const outbox = createOutbox(platform.database, systemClock, () => undefined);
      await platform.database.transaction((tx) =>
        outbox.append(tx, {
          type: 'plinth.exchange.received.v1',
          source: '/plinth/exchange/trust',
          subject: String(event['subject']),
          tenantId: TENANT,
          data: { messageId: `msg-tenant-${i}`, sender: SENDER, subscriptionId: 'sub-births', receivedTime: Date.now(), event },
        }),
      );
      await platform.dispatcher.deliverPending();
      const number = (event['data'] as Json)['identifiers'][0]['identifierId'] as string;
      for (const tenant of [TENANT, OTHER]) {
        const ref = platform.immunization.childClientReferenceId(SENDER, tenant, number);
        expect((await platform.individual.lookup.idsByClientReferenceId(tenant, [ref])).size, `${i} ${tenant}`).toBe(0);
      }
    }
    const other = await post(platform, `/project/task/v1/_search?tenantId=${OTHER}&limit=100&offset=0`, { RequestInfo: requestInfo, Task: { projectId: 'PJT-UIP-PB' } }, auth);
    expect(other.body['TotalCount']).toBe(0);
    expect((await receivedEvents()).every((e) => e.status === 'delivered')).toBe(true);
  });
});
