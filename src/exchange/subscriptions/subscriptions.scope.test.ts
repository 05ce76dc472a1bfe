import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testPlatform, type TestPlatform } from '../../../test/helpers.js';
import { expectOutOfScope } from '../../../test/scope.helpers.js';
import { scopeFor, SYSTEM_SCOPE } from '../../kernel/scope.js';
import type { Subscription } from './subscriptions.schema.js';

// Issue #14 Build 1: subscriptions and their deliveries are read only inside the caller's Scope;
// changing, replaying or retrying one checks the STORED subscription's tenant. The kernel refuses
// requests naming a tenant outside the scope; these tests call the service directly, so the
// service and store must hold on their own.

const AMRITSAR = scopeFor(null, ['pb.amritsar']);
const JALANDHAR = scopeFor(null, ['pb.jalandhar']);
const system = { uuid: null };

let platform: TestPlatform;
let jalandhar: Subscription;

const subscription = (tenantId: string) => ({
  tenantId,
  agencyId: 'pb.health',
  tenantIds: [tenantId],
  eventTypes: ['plinth.individual.created.v1'],
  fields: ['id'],
  webhookUrl: 'https://health.example.org/exchange/v1/events/_receive',
  status: 'PAUSED' as const,
  maxAttempts: 3,
});

beforeAll(async () => {
  platform = await testPlatform();
  jalandhar = await platform.subscriptions.service.create(subscription('pb.jalandhar'), system, SYSTEM_SCOPE);
});
afterAll(() => platform.drop());

describe('subscription and delivery searches read only rows inside the scope', () => {
  it("another city's subscriptions and deliveries are out of a city scope, even searched from the state", async () => {
    const { service } = platform.subscriptions;
    expect((await service.search({ tenantId: 'pb', ids: [jalandhar.id] }, scopeFor(null, ['pb']))).total).toBe(1);
    expect((await service.search({ tenantId: 'pb.jalandhar' }, JALANDHAR)).subscriptions.map((s) => s.id)).toEqual([jalandhar.id]);
    expect(await service.search({ tenantId: 'pb', ids: [jalandhar.id] }, AMRITSAR)).toEqual({ total: 0, subscriptions: [] });
    expect(await service.search({ tenantId: 'pb' }, scopeFor(null, []))).toEqual({ total: 0, subscriptions: [] });
    expect(await service.searchDeliveries({ tenantId: 'pb', subscriptionId: jalandhar.id }, AMRITSAR)).toEqual({
      total: 0,
      deliveries: [],
    });
  });
});

describe('subscription changes are checked against the stored subscription', () => {
  it("refuses to change, replay or retry another city's subscription, whatever tenant the request names (403)", async () => {
    const { service } = platform.subscriptions;
    const hijacked = {
      ...subscription('pb.jalandhar'),
      id: jalandhar.id,
      webhookUrl: 'https://evil.example.org/hook',
      status: 'ACTIVE' as const,
    };
    await expectOutOfScope(service.update(hijacked, system, AMRITSAR));
    await expectOutOfScope(service.update({ ...hijacked, tenantId: 'pb.amritsar', tenantIds: ['pb.amritsar'] }, system, AMRITSAR));
    await expectOutOfScope(service.replay('pb.jalandhar', jalandhar.id, 0, AMRITSAR));
    await expectOutOfScope(service.retry('pb.amritsar', { subscriptionId: jalandhar.id }, AMRITSAR));
    await expectOutOfScope(service.create(subscription('pb.jalandhar'), system, AMRITSAR));
    const [kept] = (await service.search({ tenantId: 'pb.jalandhar' }, SYSTEM_SCOPE)).subscriptions;
    expect(kept).toMatchObject({
      id: jalandhar.id,
      webhookUrl: 'https://health.example.org/exchange/v1/events/_receive',
      status: 'PAUSED',
    });
    // Inside its scope the city changes its own as before.
    const renamed = await service.update({ ...hijacked, webhookUrl: 'https://health.example.org/v2', status: 'PAUSED' }, system, JALANDHAR);
    expect(renamed.webhookUrl).toBe('https://health.example.org/v2');
  });
});
