import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JSONWebKeySet } from 'jose';
import { adminAuth, isDigitError, login, post, requestInfo, testPlatform, type TestPlatform } from '../../../test/helpers.js';
import { agent, startReceiver, type Agent, type Receiver } from '../../../test/fixtures/receiver.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * The sending half of agency-to-agency exchange through the app, with the real trust module:
 * this platform is the civil registry (`pb.civil-registry`); a local `node:http` server plays the
 * health agency (`pb.health`), checks every message against the registry's published keys and
 * answers signed receipts.
 */

let platform: TestPlatform;
let admin: Record<string, string>;
let health: Agent;
let receiver: Receiver;
/** The platform's clock runs this far ahead of the real one: moved to make a retry's signature differ. */
let skewMs = 0;

const FIELDS = ['id', 'individualId', 'tenantId', 'name.givenName', 'name.familyName', 'dateOfBirth', 'gender', 'identifiers.identifierType', 'identifiers.identifierId'];

const birthSubscription = (webhookUrl: string): Json => ({
  tenantId: 'pb',
  agencyId: 'pb.health',
  tenantIds: ['pb'],
  eventTypes: ['plinth.individual.created.v1'],
  conditions: [
    { path: 'identifiers.identifierType', op: 'eq', value: 'BIRTH_REGISTRATION' },
    { path: 'dateOfBirth', op: 'exists' },
  ],
  fields: FIELDS,
  webhookUrl,
  status: 'ACTIVE',
  maxAttempts: 10,
});

const create = (subscription: Json, headers = admin) =>
  post(platform, '/exchange/v1/subscriptions/_create', { RequestInfo: requestInfo, Subscription: subscription }, headers);
const deliveries = async (criteria: Json) => {
  const { status, body } = await post(
    platform,
    '/exchange/v1/deliveries/_search',
    { RequestInfo: requestInfo, DeliveryCriteria: { tenantId: 'pb', ...criteria } },
    admin,
  );
  expect(status, JSON.stringify(body)).toBe(200);
  return body['Deliveries'] as Json[];
};

let serial = 0;
/** A person; a birth when `birth` (a birth-registration identifier and a date of birth). */
function person(birth: boolean): Json {
  serial += 1;
  return {
    tenantId: 'pb.amritsar',
    clientReferenceId: `sub-${serial}-${Math.random().toString(36).slice(2, 8)}`,
    name: { givenName: `Baby${serial}`, familyName: 'Gill' },
    dateOfBirth: '01/11/2025',
    gender: 'FEMALE',
    mobileNumber: `97${String(10_000_000 + serial).padStart(8, '0')}`,
    address: [{ type: 'PERMANENT', doorNo: '7', addressLine1: 'Canal road', locality: { code: 'SUN04' } }],
    identifiers: birth
      ? [{ identifierType: 'BIRTH_REGISTRATION', identifierId: `BR-2025-${serial}` }]
      : [{ identifierType: 'AADHAAR', identifierId: `5000${String(serial).padStart(8, '0')}` }],
  };
}

/** Registers a person and lets the dispatcher hand its event to the fan-out. */
async function register(birth: boolean): Promise<Json> {
  const { status, body } = await post(platform, '/individual/v1/_create', { RequestInfo: requestInfo, Individual: person(birth) }, admin);
  expect(status, JSON.stringify(body)).toBe(200);
  await platform.dispatcher.deliverPending();
  return body['Individual'] as Json;
}

/** What the birth subscription's endpoint received about this person. */
const forIndividual = (id: string) =>
  receiver.received.filter((r) => r.path.startsWith('/exchange/') && (r.payload['event'] as Json)['subject'] === id);

beforeAll(async () => {
  platform = await testPlatform({
    config: { agencyId: 'pb.civil-registry' },
    clock: { now: () => Date.now() + skewMs },
    // Retries at once and nothing in the background: every send in these tests is a pass the test asks for.
    subscriptionWorker: { backoff: () => 0, background: false, timeoutMs: 5_000 },
  });
  admin = await adminAuth(platform);
  health = await agent('pb.health');
  const registered = await post(
    platform,
    '/exchange/v1/agencies/_create',
    { RequestInfo: requestInfo, Agency: { agencyId: 'pb.health', name: 'Health department', jwks: { keys: [health.publicJwk] } } },
    admin,
  );
  expect(registered.status, JSON.stringify(registered.body)).toBe(200);
  const senderJwks = async () =>
    (await platform.app.inject({ method: 'GET', url: '/exchange/v1/.well-known/jwks.json' })).json() as JSONWebKeySet;
  receiver = await startReceiver(health, senderJwks);
});
afterAll(async () => {
  await receiver?.stop();
  await platform?.drop();
});

describe('subscriptions', () => {
  it('refuses bad subscriptions with clear 400s and stores nothing', async () => {
    const good = birthSubscription(`${receiver.url}/births`);
    const cases: Array<[Json, string]> = [
      [{ ...good, tenantId: 'pb.nowhere', tenantIds: ['pb.nowhere'] }, 'INVALID_TENANT_ID'],
      [{ ...good, tenantIds: ['pb.nowhere'] }, 'INVALID_TENANT_ID'],
      [{ ...good, tenantId: 'pb.amritsar', tenantIds: ['pb.jalandhar'] }, 'TENANT_NOT_COVERED'],
      [{ ...good, agencyId: 'Health Dept' }, 'INVALID_AGENCY_ID'],
      [{ ...good, eventTypes: ['births!'] }, 'INVALID_EVENT_TYPE'],
      [{ ...good, eventTypes: [] }, 'INVALID_REQUEST'],
      [{ ...good, conditions: [{ path: 'identifiers[0].identifierType', op: 'eq', value: 'X' }] }, 'INVALID_PATH'],
      [{ ...good, conditions: [{ path: 'gender', op: 'like', value: 'F' }] }, 'INVALID_REQUEST'],
      [{ ...good, conditions: [{ path: 'gender', op: 'in', value: [] }] }, 'INVALID_REQUEST'],
      [{ ...good, fields: ['name.*'] }, 'INVALID_PATH'],
      // A path through a prototype would change every object of the process on the first fan-out.
      [{ ...good, fields: ['__proto__.open'] }, 'INVALID_PATH'],
      [{ ...good, fields: ['constructor.prototype.x'] }, 'INVALID_PATH'],
      [{ ...good, fields: ['name.prototype'] }, 'INVALID_PATH'],
      [{ ...good, conditions: [{ path: '__proto__.open', op: 'exists' }] }, 'INVALID_PATH'],
      [{ ...good, conditions: [{ path: 'constructor', op: 'eq', value: 'x' }] }, 'INVALID_PATH'],
      // Signed, not encrypted: personal data leaves the machine over TLS only.
      [{ ...good, webhookUrl: 'http://health.example/in' }, 'INVALID_WEBHOOK_URL'],
      [{ ...good, webhookUrl: 'http://10.1.2.3:8080/in' }, 'INVALID_WEBHOOK_URL'],
      [{ ...good, webhookUrl: 'ftp://health.example/in' }, 'INVALID_WEBHOOK_URL'],
      [{ ...good, webhookUrl: 'not a url' }, 'INVALID_WEBHOOK_URL'],
      [{ ...good, webhookUrl: 'https://user:secret@health.example/in' }, 'INVALID_WEBHOOK_URL'],
      [{ ...good, status: 'DELETED' }, 'INVALID_REQUEST'],
      [{ ...good, maxAttempts: 0 }, 'INVALID_REQUEST'],
    ];
    for (const [subscription, code] of cases) {
      const { status, body } = await create(subscription);
      expect(status, JSON.stringify(subscription)).toBe(400);
      expect(isDigitError(body)).toBe(true);
      expect((body['Errors'] as Json[]).map((e) => e['code']), JSON.stringify(subscription)).toContain(code);
    }
    const found = await post(platform, '/exchange/v1/subscriptions/_search', { RequestInfo: requestInfo, SubscriptionCriteria: { tenantId: 'pb' } }, admin);
    expect(found.status).toBe(200);
    expect(found.body['TotalCount']).toBe(0);
    // An event fanned out now meets no subscription that could touch a prototype.
    await register(true);
    expect(({} as Json)['open']).toBeUndefined();
    expect((await post(platform, '/exchange/v1/subscriptions/_search', { RequestInfo: requestInfo, SubscriptionCriteria: { tenantId: 'pb' } })).status).toBe(401);
  });

  it('takes https webhooks, and plain http to this machine only', async () => {
    const made: string[] = [];
    for (const url of ['https://health.example.gov/in', 'http://localhost:9/in', 'http://127.0.0.1:9/in', 'http://[::1]:9/in']) {
      const { status, body } = await create({ ...birthSubscription(url), status: 'PAUSED' });
      expect(status, JSON.stringify(body)).toBe(200);
      made.push(String((body['Subscriptions'] as Json[])[0]!['id']));
    }
    expect(made).toHaveLength(4);
  });

  it('is for the superuser only', async () => {
    const made = await post(
      platform,
      '/user/users/_createnovalidate',
      {
        RequestInfo: {},
        user: {
          userName: 'registrar.sub',
          name: 'Registrar',
          password: 'Field@2026x',
          type: 'EMPLOYEE',
          tenantId: 'pb.amritsar',
          mobileNumber: '9812345670',
          roles: [{ code: 'REGISTRAR', tenantId: 'pb.amritsar' }],
        },
      },
      admin,
    );
    expect(made.status, JSON.stringify(made.body)).toBe(200);
    const token = await login(platform, 'registrar.sub', 'Field@2026x', 'pb.amritsar');
    const registrar = { authorization: `Bearer ${String(token.body['access_token'])}` };
    const subscription = { ...birthSubscription(`${receiver.url}/births`), tenantId: 'pb.amritsar', tenantIds: ['pb.amritsar'] };
    for (const url of ['/exchange/v1/subscriptions/_create', '/exchange/v1/subscriptions/_search', '/exchange/v1/deliveries/_search']) {
      const { status, body } = await post(
        platform,
        url,
        { RequestInfo: requestInfo, Subscription: subscription, SubscriptionCriteria: { tenantId: 'pb.amritsar' }, DeliveryCriteria: { tenantId: 'pb.amritsar' } },
        registrar,
      );
      expect(status, url).toBe(403);
      expect(isDigitError(body)).toBe(true);
    }
    expect((await post(platform, '/exchange/v1/subscriptions/_create', { Subscription: subscription })).status).toBe(401);
  });
});

describe('deliveries of births to the health agency', () => {
  let subscriptionId: string;
  let firstBirth: Json;

  it('creates the birth subscription', async () => {
    const { status, body } = await create(birthSubscription(`${receiver.url}/exchange/v1/events/_receive`));
    expect(status, JSON.stringify(body)).toBe(200);
    const [subscription] = body['Subscriptions'] as Json[];
    expect(subscription).toMatchObject({ tenantId: 'pb', agencyId: 'pb.health', status: 'ACTIVE', maxAttempts: 10, fields: FIELDS });
    subscriptionId = subscription!['id'] as string;
    const found = await post(
      platform,
      '/exchange/v1/subscriptions/_search',
      { RequestInfo: requestInfo, SubscriptionCriteria: { tenantId: 'pb', ids: [subscriptionId] } },
      admin,
    );
    expect(found.body['TotalCount']).toBe(1);
  });

  it('a birth produces exactly one signed delivery holding only the allowed fields', async () => {
    firstBirth = await register(true);
    await platform.subscriptions.deliverPending();
    const got = forIndividual(firstBirth['id'] as string);
    expect(got).toHaveLength(1);
    const { header, payload } = got[0]!;
    expect(header).toMatchObject({ alg: 'EdDSA', typ: 'plinth-event+jws' });
    expect(payload).toMatchObject({ iss: 'pb.civil-registry', aud: 'pb.health', subscriptionId });
    expect((payload['exp'] as number) - (payload['iat'] as number)).toBe(300);
    const event = payload['event'] as Json;
    expect(event).toMatchObject({
      specversion: '1.0',
      type: 'plinth.individual.created.v1',
      subject: firstBirth['id'],
      tenantid: 'pb.amritsar',
      datacontenttype: 'application/json',
    });
    expect(event['data']).toEqual({
      id: firstBirth['id'],
      individualId: firstBirth['individualId'],
      tenantId: 'pb.amritsar',
      name: { givenName: firstBirth['name']['givenName'], familyName: 'Gill' },
      dateOfBirth: '01/11/2025',
      gender: 'FEMALE',
      identifiers: [{ identifierType: 'BIRTH_REGISTRATION', identifierId: firstBirth['identifiers'][0]['identifierId'] }],
    });
    // Minimisation: nothing else of the person travels, and nothing else is stored for the delivery.
    expect(JSON.stringify(payload)).not.toContain(firstBirth['mobileNumber']);
    expect(JSON.stringify(payload)).not.toContain('Canal road');

    const [delivery] = await deliveries({ subscriptionId, eventId: event['id'] });
    expect(delivery).toMatchObject({ id: payload['jti'], status: 'DELIVERED', attempts: 1, lastStatusCode: 200, receiptStatus: 'ACCEPTED', replayOf: null });
    expect(typeof delivery!['receipt']).toBe('string');
    expect(JSON.stringify(delivery)).not.toContain(firstBirth['mobileNumber']);

    // The subscription's read of the person is on the audit record under its own name.
    const audited = await platform.audit.log.search({
      tenantId: 'pb.amritsar',
      actions: ['pii.decrypted'],
      actorUuid: `exchange-subscription:${subscriptionId}`,
      offset: 0,
      limit: 10,
    });
    expect(audited.length).toBeGreaterThan(0);
  });

  it('the same event handed over again queues nothing new', async () => {
    const [delivery] = await deliveries({ subscriptionId, status: 'DELIVERED' });
    const event = delivery!['event'] as Json;
    expect(await platform.subscriptions.service.fanOut({ ...event, data: { id: firstBirth['id'] } } as never)).toBe(0);
    expect(await deliveries({ subscriptionId })).toHaveLength(1);
  });

  it('a person who is not a birth produces no delivery', async () => {
    const before = receiver.received.length;
    const adult = await register(false);
    await platform.subscriptions.deliverPending();
    expect(receiver.received.length).toBe(before);
    expect(forIndividual(adult['id'] as string)).toHaveLength(0);
    expect(await deliveries({ subscriptionId })).toHaveLength(1);
  });

  it('receiver down: the delivery waits, attempts grow, and it arrives once the receiver is back', async () => {
    await receiver.stop();
    const child = await register(true);
    await platform.subscriptions.deliverPending();
    await platform.subscriptions.deliverPending();
    const [waiting] = (await deliveries({ subscriptionId, status: 'PENDING' })).filter((d) => d['eventSubject'] === child['id']);
    expect(waiting).toBeDefined();
    expect(waiting!['attempts']).toBeGreaterThanOrEqual(2);
    expect(waiting!['lastError']).toMatch(/^UNREACHABLE/);
    expect(waiting!['deliveredTime']).toBeNull();

    await receiver.restart();
    await platform.subscriptions.deliverPending();
    const [arrived] = await deliveries({ ids: [waiting!['id']] });
    expect(arrived).toMatchObject({ status: 'DELIVERED', lastStatusCode: 200, receiptStatus: 'ACCEPTED' });
    const got = forIndividual(child['id'] as string);
    expect(got).toHaveLength(1);
    expect(got[0]!.payload['jti']).toBe(waiting!['id']);
  });

  it('a bad or missing receipt is not taken as delivered; a lost answer is settled by the DUPLICATE receipt', async () => {
    const child = await register(true);
    const outcomes: Json[] = [];
    let taken = '';
    for (const mode of ['forged-receipt', 'wrong-digest', 'no-receipt', 'error', 'lost-answer'] as const) {
      receiver.modes.set('default', mode);
      await platform.subscriptions.deliverPending();
      if (mode === 'lost-answer') taken = forIndividual(child['id'] as string).at(-1)!.jws;
      const [d] = (await deliveries({ subscriptionId })).filter((x) => x['eventSubject'] === child['id']);
      outcomes.push(d!);
      expect(d, mode).toMatchObject({ status: 'PENDING', receipt: null, deliveredTime: null });
    }
    expect(outcomes.map((d) => String(d['lastError']).split(':')[0])).toEqual([
      'BAD_RECEIPT',
      'BAD_RECEIPT',
      'BAD_RECEIPT',
      'SERVICE_UNAVAILABLE',
      'GATEWAY_TIMEOUT',
    ]);
    receiver.modes.set('default', 'ok');
    // A second later, so this attempt's signature (iat) differs from the one the receiver took.
    skewMs += 1500;
    await platform.subscriptions.deliverPending();
    const [done] = (await deliveries({ subscriptionId })).filter((x) => x['eventSubject'] === child['id']);
    // The receiver answered DUPLICATE with the receipt first issued, for the message it took while
    // its answer was lost: that receipt names an earlier attempt's digest, and still counts.
    expect(done).toMatchObject({ status: 'DELIVERED', receiptStatus: 'ACCEPTED' });
    const receiptClaims = JSON.parse(Buffer.from(String(done!['receipt']).split('.')[1]!, 'base64url').toString()) as Json;
    expect(receiptClaims['digest']).toBe(createHash('sha256').update(taken).digest('base64url'));
    expect(receiptClaims['digest']).not.toBe(createHash('sha256').update(forIndividual(child['id'] as string).at(-1)!.jws).digest('base64url'));
    expect(done!['attempts']).toBeGreaterThanOrEqual(6);
    // Every attempt kept its message id.
    expect(new Set(forIndividual(child['id'] as string).map((r) => r.payload['jti']))).toEqual(new Set([done!['id']]));
  });

  it('replay from a time sends those events again, as new deliveries with new message ids', async () => {
    const all = await deliveries({ subscriptionId });
    const [, second] = all;
    const fromTime = second!['eventTime'] as number;
    const since = all.filter((d) => (d['eventTime'] as number) >= fromTime);
    const refused = await post(platform, '/exchange/v1/subscriptions/_replay', { RequestInfo: requestInfo, tenantId: 'pb', id: 'nope', fromTime }, admin);
    expect(refused.status).toBe(400);
    expect((refused.body['Errors'] as Json[])[0]!['code']).toBe('SUBSCRIPTION_NOT_FOUND');

    const before = receiver.received.length;
    const { status, body } = await post(platform, '/exchange/v1/subscriptions/_replay', { RequestInfo: requestInfo, tenantId: 'pb', id: subscriptionId, fromTime }, admin);
    expect(status, JSON.stringify(body)).toBe(200);
    const replayed = body['Deliveries'] as Json[];
    expect(replayed.map((d) => d['eventId'])).toEqual(since.map((d) => d['eventId']));
    expect(replayed.every((d) => d['replayOf'] === body['replayId'] && d['status'] === 'PENDING')).toBe(true);
    await platform.subscriptions.deliverPending();
    const again = receiver.received.slice(before);
    // Different people's deliveries go out in parallel lanes: the same events, in no fixed order across people.
    const sorted = (ids: unknown[]) => ids.map(String).sort();
    expect(sorted(again.map((r) => (r.payload['event'] as Json)['id']))).toEqual(sorted(since.map((d) => d['eventId'])));
    const oldIds = new Set(all.map((d) => d['id']));
    expect(again.every((r) => !oldIds.has(r.payload['jti']))).toBe(true);
    const after = await deliveries({ ids: replayed.map((d) => d['id'] as string) });
    expect(after.every((d) => d['status'] === 'DELIVERED' && d['receiptStatus'] === 'ACCEPTED')).toBe(true);
  });

  it('after maxAttempts a delivery is DEAD; _retry sends it again', async () => {
    receiver.modes.set('/fail', 'error');
    const { status, body } = await create({
      ...birthSubscription(`${receiver.url}/fail/in`),
      conditions: [],
      fields: ['id'],
      maxAttempts: 2,
    });
    expect(status, JSON.stringify(body)).toBe(200);
    const failingId = (body['Subscriptions'] as Json[])[0]!['id'] as string;
    const adult = await register(false);
    for (let i = 0; i < 3; i++) await platform.subscriptions.deliverPending();
    const [dead] = await deliveries({ subscriptionId: failingId });
    expect(dead).toMatchObject({ status: 'DEAD', attempts: 2, lastStatusCode: 503, eventSubject: adult['id'] });
    expect((await deliveries({ subscriptionId: failingId, status: 'DEAD' })).length).toBe(1);

    const refused = await post(platform, '/exchange/v1/deliveries/_retry', { RequestInfo: requestInfo, tenantId: 'pb' }, admin);
    expect(refused.status).toBe(400);
    receiver.modes.set('/fail', 'ok');
    const retried = await post(platform, '/exchange/v1/deliveries/_retry', { RequestInfo: requestInfo, tenantId: 'pb', ids: [dead!['id']] }, admin);
    expect(retried.status, JSON.stringify(retried.body)).toBe(200);
    expect(retried.body['Deliveries']).toMatchObject([{ id: dead!['id'], status: 'PENDING', attempts: 0 }]);
    await platform.subscriptions.deliverPending();
    const [delivered] = await deliveries({ ids: [dead!['id']] });
    expect(delivered).toMatchObject({ status: 'DELIVERED', attempts: 1 });
    const got = receiver.received.filter((r) => r.path.startsWith('/fail') && r.payload['jti'] === dead!['id']);
    expect(got.length).toBe(3);
    expect((got[2]!.payload['event'] as Json)['data']).toEqual({ id: adult['id'] });
  });

  it('a PAUSED subscription queues nothing new and sends nothing until resumed', async () => {
    const [subscription] = (
      await post(platform, '/exchange/v1/subscriptions/_search', { RequestInfo: requestInfo, SubscriptionCriteria: { tenantId: 'pb', ids: [subscriptionId] } }, admin)
    ).body['Subscriptions'] as Json[];
    const rest: Json = { ...subscription };
    delete rest['auditDetails'];
    const update = (status: string) =>
      post(platform, '/exchange/v1/subscriptions/_update', { RequestInfo: requestInfo, Subscription: { ...rest, status } }, admin);

    await receiver.stop();
    const queued = await register(true);
    await platform.subscriptions.deliverPending();
    expect((await update('PAUSED')).status).toBe(200);
    await receiver.restart();
    const whilePaused = await register(true);
    await platform.subscriptions.deliverPending();
    expect(forIndividual(queued['id'] as string)).toHaveLength(0);
    expect(forIndividual(whilePaused['id'] as string)).toHaveLength(0);
    const pending = await deliveries({ subscriptionId, status: 'PENDING' });
    expect(pending.map((d) => d['eventSubject'])).toEqual([queued['id']]);

    const resumed = await update('ACTIVE');
    expect(resumed.status).toBe(200);
    expect((resumed.body['Subscriptions'] as Json[])[0]!['status']).toBe('ACTIVE');
    await platform.subscriptions.deliverPending();
    expect(forIndividual(queued['id'] as string).length).toBeGreaterThanOrEqual(1);
    expect(await deliveries({ subscriptionId, status: 'PENDING' })).toEqual([]);
    expect(forIndividual(whilePaused['id'] as string)).toHaveLength(0);
  });
});
