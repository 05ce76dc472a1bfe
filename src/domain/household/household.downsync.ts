import type { UserInfo } from '../../kernel/auth.js';
import { invalid } from '../../kernel/errors.js';
import type { IndividualLookup } from '../individual/index.js';
import { toHousehold } from './household.records.js';
import type { DownsyncCriteria, Household, HouseholdMember } from './household.schema.js';
import type { HouseholdService } from './household.service.js';
import type { HouseholdStore, SyncCursor } from './household.store.js';
import type { MemberService } from './member.service.js';

export type DownsyncPage = {
  DownsyncCriteria: {
    tenantId: string;
    locality: string;
    lastSyncedTime: number | null;
    includeDeleted: boolean;
    offset: number;
    limit: number;
    totalCount: number;
    nextOffset: number | null;
    nextCursor: string | null;
  };
  Households: Household[];
  HouseholdMembers: HouseholdMember[];
  Individuals: unknown[];
};

export type Downsync = (criteria: DownsyncCriteria, viewer: UserInfo) => Promise<DownsyncPage>;

const DEFAULT_LIMIT = 50;

/** The position after a household, opaque to the device: `<sync time>.<id>` in base64url. */
export function encodeCursor(cursor: SyncCursor): string {
  return Buffer.from(`${cursor.syncTime}.${cursor.id}`, 'utf8').toString('base64url');
}

export function decodeCursor(text: string): SyncCursor {
  const decoded = Buffer.from(text, 'base64url').toString('utf8');
  const dot = decoded.indexOf('.');
  const syncTime = Number(decoded.slice(0, dot));
  const id = decoded.slice(dot + 1);
  if (dot < 1 || !Number.isSafeInteger(syncTime) || syncTime < 0 || id === '' || id.length > 64) {
    throw invalid(
      'INVALID_CURSOR',
      'cursor is not one this server handed out: send the nextCursor of the previous page, or none to start over',
      ['cursor'],
    );
  }
  return { syncTime, id };
}

/**
 * DIGIT's beneficiary downsync for the household registry: pages over a locality's households in
 * (last change, id) order, each page with those households' members and the members' individuals
 * (masked for the caller by the individual registry). A page's nextCursor resumes exactly after
 * it, even when records changed in between (a changed household moves to the end and comes again,
 * none is skipped); offset paging is DIGIT's and is exact only while nothing changes.
 */
export function createDownsync(deps: {
  store: HouseholdStore;
  households: HouseholdService;
  members: MemberService;
  individual: IndividualLookup;
}): Downsync {
  const { store, households, members, individual } = deps;
  return async (criteria, viewer) => {
    const { tenantId, locality } = criteria;
    await households.assertLocality(tenantId, locality);
    const includeDeleted = criteria.includeDeleted ?? false;
    const limit = criteria.limit ?? DEFAULT_LIMIT;
    const offset = criteria.offset ?? 0;
    const cursor = criteria.cursor ? decodeCursor(criteria.cursor) : undefined;
    const since = criteria.lastSyncedTime ?? undefined;
    const { total, rows } = await store.downsyncHouseholds(
      store.runner(),
      { tenantId, localityCode: locality, since, includeDeleted },
      { offset, limit, cursor },
    );
    const pageMembers = await members.ofHouseholds(
      tenantId,
      rows.map((r) => r.id),
      since,
      includeDeleted,
    );
    const individualIds = [...new Set(pageMembers.map((m) => m.individualId).filter((id): id is string => id !== null))];
    const individuals = individualIds.length > 0 ? await individual.view(tenantId, individualIds, viewer, { includeDeleted }) : [];
    const last = rows.at(-1);
    const more = limit > 0 && rows.length === limit;
    return {
      DownsyncCriteria: {
        tenantId,
        locality,
        lastSyncedTime: since ?? null,
        includeDeleted,
        offset,
        limit,
        totalCount: total,
        nextOffset: more && !cursor ? offset + rows.length : null,
        nextCursor: more && last ? encodeCursor({ syncTime: last.sync_time, id: last.id }) : null,
      },
      Households: rows.map(toHousehold),
      HouseholdMembers: pageMembers,
      Individuals: individuals,
    };
  };
}
