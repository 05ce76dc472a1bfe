import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compactVerify, decodeProtectedHeader, importJWK } from 'jose';
import type { CloudEvent } from '../../kernel/events.js';
import { newId } from '../../kernel/ids.js';
import { SYSTEM_SCOPE } from '../../kernel/scope.js';
import { testPlatform, type TestPlatform } from '../../../test/helpers.js';
import type { TrustApi, VerifiedMessage } from '../trust/index.js';
import {
  AnswerTooLarge,
  createDeliveryWorker,
  defaultWorkerOptions,
  MAX_ANSWER_BYTES,
  printable,
  readBounded,
  type DeliveryWorker,
  type DeliveryWorkerOptions,
} from './delivery.worker.js';
import { agent, GARBLED_BODY, startReceiver, type Agent, type Receiver } from '../../../test/fixtures/receiver.js';
import { createSubscriptionService, type SubscriptionService } from './subscriptions.service.js';
import { createSubscriptionStore } from './subscriptions.store.js';
import { DAY_MS, deliveryPayloads } from './delivery.payloads.js';

/**
 * The worker against a fake TrustApi (jose Ed25519 keys of both agencies), on the platform's
 * database: ordering per subscription and subject, independence of subscriptions, a fixed message
 * id across attempts, and two workers never sending one delivery twice.
 */

let platform: TestPlatform;
let registry: Agent;
let health: Agent;
let receiver: Receiver;
let service: SubscriptionService;
const workers: DeliveryWorker[] = [];

function fakeTrust(me: Agent, peer: Agent): TrustApi {
  const unused = () => Promise.reject(new Error('not in this test'));
  return {
    agencyId: me.agencyId,
    sign: (payload, typ) => me.sign(payload, typ),
    async verify(jws, typ): Promise<VerifiedMessage> {
      const header = decodeProtectedHeader(jws);
      if (header.typ !== typ || header.kid !== peer.kid) throw new Error('INVALID_SIGNATURE');
      const { payload } = await compactVerify(jws, await importJWK(peer.publicJwk, 'EdDSA'));
      const claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
      if (claims['aud'] !== me.agencyId) throw new Error('WRONG_AUDIENCE');
      return { agencyId: String(claims['iss']), kid: peer.kid, payload: claims };
    },
    jwks: unused,
    rotateKey: unused,
    removeRetiredKey: unused,
    agencies: { create: unused, update: unused, search: unused },
    searchInbox: unused,
    purgePayloads: async () => 0,
  } as TrustApi;
}

function worker(overrides: Partial<DeliveryWorkerOptions> = {}): DeliveryWorker {
  const created = createDeliveryWorker({
    database: platform.database,
    store: createSubscriptionStore(platform.database),
    clock: { now: () => Date.now() },
    trust: fakeTrust(registry, health),
    logger: platform.app.log,
    options: { ...defaultWorkerOptions, backoff: () => 0, background: false, concurrency: 4, ...overrides },
    payloads: deliveryPayloads(platform.database, platform.encryption.service),
    retentionMs: 30 * DAY_MS,
  });
  workers.push(created);
  return created;
}

const event = (subject: string, n: number): CloudEvent => ({
  specversion: '1.0',
  id: newId(),
  source: '/plinth/test',
  type: 'plinth.test.thing.changed.v1',
  subject,
  time: new Date().toISOString(),
  datacontenttype: 'application/json',
  tenantid: 'pb.amritsar',
  data: { n, secret: `secret-${n}` },
});

beforeAll(async () => {
  platform = await testPlatform({ subscriptionWorker: { background: false } });
  registry = await agent('pb.civil-registry');
  health = await agent('pb.health');
  receiver = await startReceiver(health, async () => ({ keys: [registry.publicJwk] }));
  service = createSubscriptionService({
    database: platform.database,
    store: createSubscriptionStore(platform.database),
    clock: { now: () => Date.now() },
    tenants: platform.mdms.service.tenants,
    individuals: platform.individual.lookup,
    onQueued: () => undefined,
    payloads: deliveryPayloads(platform.database, platform.encryption.service),
  });
});
afterAll(async () => {
  for (const w of workers) await w.stop();
  await receiver?.stop();
  await platform?.drop();
});

const subscribe = (path: string) =>
  service.create(
    {
      tenantId: 'pb',
      agencyId: 'pb.health',
      tenantIds: ['pb.amritsar'],
      eventTypes: ['plinth.test.thing.changed.v1'],
      fields: ['n'],
      webhookUrl: `${receiver.url}${path}`,
    },
    { uuid: null },
    SYSTEM_SCOPE,
  );

const ns = (path: string) =>
  receiver.received.filter((r) => r.path === path).map((r) => (r.payload['event'] as { data: { n: number } }).data.n);

describe('delivery worker', () => {
  it('holds back later deliveries of a failing subject for that subscription only, then sends them in order', async () => {
    const a = await subscribe('/a');
    const b = await subscribe('/b');
    const events = [event('s1', 1), event('s1', 2), event('s2', 3), event('s1', 4)];
    for (const e of events) expect(await service.fanOut(e)).toBe(2);
    receiver.refuse = (payload) => payload['subscriptionId'] === a.id && (payload['event'] as { data: { n: number } }).data.n === 1;

    const w = worker();
    await w.deliverPending();
    await w.deliverPending();
    // A: event 1 keeps failing (retried at once while other deliveries progress), so 2 and 4 (same
    // subject) wait; 3 (another subject) goes.
    expect(ns('/a').filter((n) => n !== 1)).toEqual([3]);
    const tries = ns('/a').filter((n) => n === 1).length;
    expect(tries).toBeGreaterThanOrEqual(2);
    // B is not held back by A: everything arrived, in order per subject (the two subjects' heads
    // go out in parallel lanes, so their order against each other is not fixed).
    expect(ns('/b').filter((n) => n !== 3)).toEqual([1, 2, 4]);
    expect(ns('/b')).toContain(3);

    receiver.refuse = undefined;
    await w.deliverPending();
    expect(ns('/a').slice(-3)).toEqual([1, 2, 4]);
    const { deliveries } = await service.searchDeliveries({ tenantId: 'pb', subscriptionId: a.id }, SYSTEM_SCOPE);
    expect(deliveries.map((d) => [d.status, d.attempts])).toEqual([
      ['DELIVERED', tries + 1],
      ['DELIVERED', 1],
      ['DELIVERED', 1],
      ['DELIVERED', 1],
    ]);
    // One message id across the attempts of a delivery; only the allowed field travels.
    const first = receiver.received.filter((r) => r.path === '/a' && (r.payload['event'] as { data: { n: number } }).data.n === 1);
    expect(new Set(first.map((r) => r.payload['jti']))).toEqual(new Set([deliveries[0]!.id]));
    expect(JSON.stringify(receiver.received)).not.toContain('secret-');
    expect(b.id).not.toBe(a.id);
  });

  it('two workers sharing the database send each delivery once', async () => {
    const c = await subscribe('/c');
    for (let i = 0; i < 20; i++) await service.fanOut(event(`subject-${i % 5}`, 100 + i));
    const [one, two] = [worker(), worker()];
    await Promise.all([one!.deliverPending(), two!.deliverPending(), one!.deliverPending(), two!.deliverPending()]);
    await one!.deliverPending();
    const jtis = receiver.received.filter((r) => r.path === '/c').map((r) => r.payload['jti']);
    expect(jtis).toHaveLength(20);
    expect(new Set(jtis).size).toBe(20);
    const { deliveries } = await service.searchDeliveries({ tenantId: 'pb', subscriptionId: c.id, limit: 100 }, SYSTEM_SCOPE);
    expect(deliveries.every((d) => d.status === 'DELIVERED' && d.attempts === 1)).toBe(true);
    // Per subject, in event order.
    for (let s = 0; s < 5; s++) {
      const got = ns('/c').filter((n) => (n - 100) % 5 === s);
      expect(got).toEqual([...got].sort((x, y) => x - y));
    }
  });

  it('a tampered receipt (wrong signer) is not taken as delivered', async () => {
    const d = await subscribe('/d');
    receiver.modes.set('/d', 'forged-receipt');
    await service.fanOut(event('s9', 9));
    await worker().deliverPending();
    const { deliveries } = await service.searchDeliveries({ tenantId: 'pb', subscriptionId: d.id }, SYSTEM_SCOPE);
    expect(deliveries[0]).toMatchObject({ status: 'PENDING', receipt: null, deliveredTime: null });
    expect(deliveries[0]!.attempts).toBeGreaterThanOrEqual(1);
    expect(deliveries[0]!.lastError).toMatch(/^BAD_RECEIPT/);
  });

  it('an answer longer than 64 KiB is not read to its end and the attempt fails, receipt or not', async () => {
    const h = await subscribe('/huge');
    receiver.modes.set('/huge', 'huge-answer');
    await service.fanOut(event('s-huge', 11));
    await worker().deliverPending();
    const { deliveries } = await service.searchDeliveries({ tenantId: 'pb', subscriptionId: h.id }, SYSTEM_SCOPE);
    expect(deliveries[0]).toMatchObject({ status: 'PENDING', receipt: null, deliveredTime: null, lastStatusCode: 200 });
    expect(deliveries[0]!.lastError).toMatch(/^ANSWER_TOO_LARGE/);
    // Sent, so the receiver took it; only the answer was refused.
    expect(ns('/huge')).toContain(11);
    receiver.modes.set('/huge', 'ok');
    await worker().deliverPending();
    expect((await service.searchDeliveries({ tenantId: 'pb', subscriptionId: h.id }, SYSTEM_SCOPE)).deliveries[0]!.status).toBe('DELIVERED');
  });

  it("keeps the start of a failing answer as printable text only", async () => {
    const g = await subscribe('/garbled');
    receiver.modes.set('/garbled', 'garbled-error');
    await service.fanOut(event('s-garbled', 12));
    await worker({ backoff: () => 3_600_000 }).deliverPending();
    const [delivery] = (await service.searchDeliveries({ tenantId: 'pb', subscriptionId: g.id }, SYSTEM_SCOPE)).deliveries;
    expect(delivery).toMatchObject({ status: 'PENDING', lastStatusCode: 503 });
    const error = delivery!.lastError!;
    expect(error.startsWith('[31mDOWN for maintenance z')).toBe(true);
    expect(error).not.toMatch(/\p{C}/u);
    expect(error.length).toBeLessThanOrEqual(1000);
    expect(GARBLED_BODY.length).toBeGreaterThan(1000);
    await service.update({ ...g, conditions: [], status: 'PAUSED' }, { uuid: null }, SYSTEM_SCOPE);
  });

  it("one receiver's backlog backing off never holds back another subscription's deliveries", async () => {
    const down = await subscribe('/down');
    receiver.modes.set('/down', 'error');
    // Ten failing heads (ten subjects), twice the batch: each is retried only in an hour.
    for (let i = 0; i < 10; i++) expect(await service.fanOut(event(`down-${i}`, 200 + i))).toBeGreaterThanOrEqual(1);
    const w = worker({ batchSize: 5, backoff: () => 3_600_000 });
    await w.deliverPending();
    await w.deliverPending();
    const backlog = (await service.searchDeliveries({ tenantId: 'pb', subscriptionId: down.id, limit: 100 }, SYSTEM_SCOPE)).deliveries;
    expect(backlog).toHaveLength(10);
    expect(backlog.every((d) => d.status === 'PENDING' && d.attempts === 1)).toBe(true);

    const up = await subscribe('/up');
    await service.fanOut(event('up-1', 300));
    await w.deliverPending();
    expect(ns('/up')).toEqual([300]);
    expect((await service.searchDeliveries({ tenantId: 'pb', subscriptionId: up.id }, SYSTEM_SCOPE)).deliveries[0]!.status).toBe('DELIVERED');
    // The backlog was not tried again before its time.
    expect(ns('/down').filter((n) => n >= 200 && n < 210)).toHaveLength(10);
    await service.update({ ...down, conditions: [], status: 'PAUSED' }, { uuid: null }, SYSTEM_SCOPE);
  });
});

describe('reading answers', () => {
  const stream = (chunks: number, size: number) => {
    let sent = 0;
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < chunks) controller.enqueue(new Uint8Array(size).fill(120));
        else controller.close();
      },
      cancel() {
        cancelled = true;
      },
    });
    return { response: new Response(body), sent: () => sent, cancelled: () => cancelled };
  };

  it('reads a body up to the limit', async () => {
    expect(await readBounded(new Response('{"receipt":"r"}'), MAX_ANSWER_BYTES)).toBe('{"receipt":"r"}');
    const exact = stream(4, 16 * 1024);
    expect((await readBounded(exact.response, MAX_ANSWER_BYTES)).length).toBe(MAX_ANSWER_BYTES);
  });

  it('stops reading, and cancels, past the limit', async () => {
    const endless = stream(1_000_000, 16 * 1024);
    await expect(readBounded(endless.response, MAX_ANSWER_BYTES)).rejects.toBeInstanceOf(AnswerTooLarge);
    expect(endless.cancelled()).toBe(true);
    expect(endless.sent()).toBeLessThan(10);
  });

  it('refuses a declared length past the limit without reading', async () => {
    const big = new Response('x'.repeat(MAX_ANSWER_BYTES + 1), { headers: { 'content-length': String(MAX_ANSWER_BYTES + 1) } });
    await expect(readBounded(big, MAX_ANSWER_BYTES)).rejects.toBeInstanceOf(AnswerTooLarge);
  });

  it('printable drops control and format characters and keeps whole characters', () => {
    expect(printable('\u001b[31mred\u0000\r\n\tok\u200b ')).toBe('[31mred ok');
    expect(printable('😀'.repeat(600), 1000)).toBe('😀'.repeat(600));
    expect(Array.from(printable('😀'.repeat(1200)))).toHaveLength(1000);
  });
});

describe('payload retention (PLINTH_EXCHANGE_PAYLOAD_RETENTION_DAYS)', () => {
  it('stores the message encrypted, keeps it for the retention, then purges it and keeps the evidence', async () => {
    const p = await subscribe('/retention');
    let now = Date.now();
    const clock = { now: () => now };
    const payloads = deliveryPayloads(platform.database, platform.encryption.service);
    const store = createSubscriptionStore(platform.database);
    const timed = createSubscriptionService({
      database: platform.database,
      store,
      clock,
      tenants: platform.mdms.service.tenants,
      individuals: platform.individual.lookup,
      onQueued: () => undefined,
      payloads,
    });
    const w = createDeliveryWorker({
      database: platform.database,
      store,
      clock,
      trust: fakeTrust(registry, health),
      logger: platform.app.log,
      options: { ...defaultWorkerOptions, backoff: () => 0, background: false },
      payloads,
      retentionMs: 30 * DAY_MS,
    });
    workers.push(w);
    const marker = `retained-${newId()}`;
    await timed.fanOut({ ...event('s-retention', 77), data: { n: 77, note: marker } });
    expect(await w.deliverPending()).toBeGreaterThanOrEqual(1);
    const raw = async () => {
      const row = await platform.database.kysely
        .withTables<{ exchange_delivery: { subscription_id: string; message: unknown; receipt: string | null; sent_digests: unknown } }>()
        .selectFrom('exchange_delivery')
        .select(['message', 'receipt', 'sent_digests'])
        .where('subscription_id', '=', p.id)
        .executeTakeFirstOrThrow();
      return { message: JSON.stringify(row.message), receipt: row.receipt, digests: platform.database.fromJson<string[]>(row.sent_digests) };
    };
    // At rest: a ciphertext, not the message (the projected field `n` is what travels).
    const stored = await raw();
    expect(stored.message).not.toContain('"n":77');
    expect(stored.message).toMatch(/pb:data:\d+\|/);
    const shown = async () => (await timed.searchDeliveries({ tenantId: 'pb', subscriptionId: p.id }, SYSTEM_SCOPE)).deliveries[0]!;
    expect((await shown()).event).toMatchObject({ data: { n: 77 } });

    // One day short of the retention: kept.
    now += 29 * DAY_MS;
    expect(await w.purge()).toBe(0);
    expect((await shown()).event).toMatchObject({ data: { n: 77 } });

    // Past it: the payload goes, the evidence (digests of what was signed, the receipt) stays.
    now += 2 * DAY_MS;
    expect(await w.purge()).toBeGreaterThanOrEqual(1);
    const purged = await raw();
    expect(purged.message).toBe(platform.database.dialect === 'postgres' ? 'null' : '"null"');
    expect(purged.receipt).toEqual(stored.receipt);
    expect(purged.receipt).toBeTruthy();
    expect(purged.digests).toEqual(stored.digests);
    expect(purged.digests.length).toBeGreaterThan(0);
    const after = await shown();
    expect(after.event).toBeNull();
    expect(after.status).toBe('DELIVERED');
    // A replay has nothing to send again for a purged delivery.
    const replayed = await timed.replay('pb', p.id, 0, SYSTEM_SCOPE);
    expect(replayed.deliveries).toHaveLength(0);
  });
});
