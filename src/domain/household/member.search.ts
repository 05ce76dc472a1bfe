import type { Scope } from '../../kernel/scope.js';
import type { OfflineSearchParams } from '../../kernel/offline.js';
import { assertSearchTenant, listFilter, pageOf } from '../../kernel/offline.batch.js';
import type { HouseholdMember, HouseholdMemberSearch } from './household.schema.js';
import type { MemberLinks } from './member.links.js';
import { withRelationships, type MemberDeps } from './member.shared.js';

/** Reading members: DIGIT's _search, and a downsync page's members. */
export function memberSearch({ store, tenants }: MemberDeps, links: Pick<MemberLinks, 'resolveWaiting'>) {
  return {
    /** DIGIT's member _search, ordered by change (commit order), then id; members still waiting for a parent are re-resolved first. */
    async search(
      criteria: HouseholdMemberSearch | null | undefined,
      params: OfflineSearchParams,
      scope: Scope,
    ): Promise<{ totalCount: number; members: HouseholdMember[] }> {
      await assertSearchTenant(tenants, criteria?.tenantId, params.tenantId);
      const filter = {
        tenantId: params.tenantId,
        ids: listFilter(criteria?.id),
        clientReferenceIds: listFilter(criteria?.clientReferenceId),
        householdIds: listFilter(criteria?.householdId),
        householdClientReferenceIds: listFilter(criteria?.householdClientReferenceId),
        individualIds: listFilter(criteria?.individualId),
        individualClientReferenceIds: listFilter(criteria?.individualClientReferenceId),
        isHeadOfHousehold: criteria?.isHeadOfHousehold ?? undefined,
        lastChangedSince: params.lastChangedSince,
        includeDeleted: params.includeDeleted ?? false,
      };
      const page = pageOf(params);
      let found = await store.searchMembers(store.runner(), filter, page, scope);
      const waiting = found.rows.filter((m) => !m.is_deleted && (m.household_id === null || m.individual_id === null));
      if (waiting.length > 0) {
        await links.resolveWaiting(
          params.tenantId,
          waiting.map((m) => m.client_reference_id),
        );
        found = await store.searchMembers(store.runner(), filter, page, scope);
      }
      return { totalCount: found.total, members: await withRelationships(store, store.runner(), found.rows) };
    },

    /** Members of these households, with relationships, for a downsync page: those changed at or after `since`. */
    async ofHouseholds(
      tenantId: string,
      householdIds: readonly string[],
      since: number | undefined,
      includeDeleted: boolean,
    ): Promise<HouseholdMember[]> {
      if (householdIds.length === 0) return [];
      const db = store.runner();
      const rows = await store.findMembers(db, { tenantId, householdIds, lastChangedSince: since, includeDeleted });
      return withRelationships(store, db, rows);
    },
  };
}
