import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testPlatform, type TestPlatform } from '../../../test/helpers.js';
import { expectOutOfScope } from '../../../test/scope.helpers.js';
import { systemClock } from '../../kernel/clock.js';
import { createOutbox } from '../../kernel/events.js';
import { scopeFor, SYSTEM_SCOPE } from '../../kernel/scope.js';
import type { PersonForLinkage } from './clk.js';
import { createDedupService, type DedupServiceImpl } from './dedup.service.js';
import { createDedupStore } from './dedup.store.js';

// Issue #14 Build 1: the review queue and the encodings are read only inside the caller's Scope;
// a decision is taken only on a review stored inside it; matching and key hand-outs refuse a
// tenant outside it. The kernel refuses requests naming such tenants; these tests call the service
// directly, so the service and store must hold on their own.

const T = 'pb.jalandhar';
const AMRITSAR = scopeFor(null, ['pb.amritsar']);
const JALANDHAR = scopeFor(null, ['pb.jalandhar']);
const person: PersonForLinkage = {
  givenName: 'Harleen',
  familyName: 'Sandhu',
  dateOfBirth: '02/02/1991',
  gender: 'FEMALE',
  locality: 'SCOPE_LOC',
};

let platform: TestPlatform;
let reviewId: string;
/** The service the routes call (the module's API leaves out the route-only operations), on the platform's database. */
let routes: DedupServiceImpl;

beforeAll(async () => {
  platform = await testPlatform();
  const { service } = platform.dedup;
  routes = createDedupService({
    database: platform.database,
    store: createDedupStore(platform.database, systemClock),
    clock: systemClock,
    outbox: createOutbox(platform.database, systemClock, () => platform.dispatcher.kick()),
    encryption: platform.encryption.service,
    mdms: platform.mdms.service,
  });
  await service.prepare(T);
  // The same person registered twice: one review of the pair, pending.
  await platform.database.transaction((tx) =>
    service.register(tx, T, [
      { recordId: 'scope-1', person },
      { recordId: 'scope-2', person },
    ]),
  );
  const { reviews } = await service.searchReviews({ tenantId: T, recordIds: ['scope-1'] }, SYSTEM_SCOPE);
  expect(reviews).toHaveLength(1);
  reviewId = reviews[0]!.id;
});
afterAll(() => platform.drop());

describe('dedup searches read only rows inside the scope', () => {
  it("another city's reviews and encodings are out of a city scope", async () => {
    const { service } = platform.dedup;
    expect((await service.searchReviews({ tenantId: T, ids: [reviewId] }, JALANDHAR)).totalCount).toBe(1);
    expect(await service.searchReviews({ tenantId: T, ids: [reviewId] }, AMRITSAR)).toEqual({ reviews: [], totalCount: 0 });
    expect(await service.searchReviews({ tenantId: T }, scopeFor(null, []))).toEqual({ reviews: [], totalCount: 0 });
    const encodings = { tenantId: T, localities: ['SCOPE_LOC'] };
    expect((await routes.searchEncodings(encodings, JALANDHAR)).encodings.map((e) => e.recordId).sort()).toEqual(['scope-1', 'scope-2']);
    expect((await routes.searchEncodings(encodings, AMRITSAR)).totalCount).toBe(0);
  });
});

describe('dedup decisions and matching are checked against the scope', () => {
  it("refuses to decide another city's review, whatever tenant the body names (403, still pending)", async () => {
    const { service } = platform.dedup;
    await expectOutOfScope(service.decide({ tenantId: T, id: reviewId, status: 'NOT_DUPLICATE' }, { uuid: null }, AMRITSAR));
    await expectOutOfScope(service.decide({ tenantId: 'pb.amritsar', id: reviewId, status: 'DUPLICATE' }, { uuid: null }, AMRITSAR));
    const [review] = (await service.searchReviews({ tenantId: T, ids: [reviewId] }, SYSTEM_SCOPE)).reviews;
    expect(review?.status).toBe('PENDING');
    const decided = await service.decide({ tenantId: T, id: reviewId, status: 'NOT_DUPLICATE' }, { uuid: null }, JALANDHAR);
    expect(decided.review.status).toBe('NOT_DUPLICATE');
  });

  it("refuses to match against, or hand out the key of, another city's records", async () => {
    const { service } = platform.dedup;
    await expectOutOfScope(service.check(T, person, undefined, AMRITSAR));
    await expectOutOfScope(routes.issueKey(T, undefined, { uuid: null }, AMRITSAR));
    expect((await service.check(T, person, undefined, JALANDHAR)).candidates.map((c) => c.recordId).sort()).toEqual(['scope-1', 'scope-2']);
  });
});
