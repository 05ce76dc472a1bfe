import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compactVerify, decodeProtectedHeader, importJWK } from 'jose';
import type { CloudEvent } from '../../kernel/events.js';
import { newId } from '../../kernel/ids.js';
import { testPlatform, type TestPlatform } from '../../../test/helpers.js';
import type { TrustApi, VerifiedMessage } from '../trust/index.js';
import { createDeliveryWorker, defaultWorkerOptions, type DeliveryWorker } from './delivery.worker.js';
import { agent, startReceiver, type Agent, type Receiver } from '../../../test/fixtures/receiver.js';
import { createSubscriptionService, type SubscriptionService } from './subscriptions.service.js';
import { createSubscriptionStore } from './subscriptions.store.js';

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
  } as TrustApi;
}

function worker(): DeliveryWorker {
  const created = createDeliveryWorker({
    database: platform.database,
    store: createSubscriptionStore(platform.database),
    clock: { now: () => Date.now() },
    trust: fakeTrust(registry, health),
    logger: platform.app.log,
    options: { ...defaultWorkerOptions, backoff: () => 0, background: false, concurrency: 4 },
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
    // B is not held back by A.
    expect(ns('/b')).toEqual([1, 3, 2, 4]);

    receiver.refuse = undefined;
    await w.deliverPending();
    expect(ns('/a').slice(-3)).toEqual([1, 2, 4]);
    const { deliveries } = await service.searchDeliveries({ tenantId: 'pb', subscriptionId: a.id });
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
    const { deliveries } = await service.searchDeliveries({ tenantId: 'pb', subscriptionId: c.id, limit: 100 });
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
    const { deliveries } = await service.searchDeliveries({ tenantId: 'pb', subscriptionId: d.id });
    expect(deliveries[0]).toMatchObject({ status: 'PENDING', receipt: null, deliveredTime: null });
    expect(deliveries[0]!.attempts).toBeGreaterThanOrEqual(1);
    expect(deliveries[0]!.lastError).toMatch(/^BAD_RECEIPT/);
  });
});
