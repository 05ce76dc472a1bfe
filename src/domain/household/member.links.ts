import type { Tx } from '../../kernel/db.js';
import type { CloudEvent } from '../../kernel/events.js';
import { listFilter } from '../../kernel/offline.batch.js';
import { assertKnownTenant } from '../../kernel/tenancy.js';
import type { SyncStatusCriteria, WaitingLink } from './household.schema.js';
import type { MemberRow } from './household.store.js';
import { ALREADY_MEMBER, memberAnnouncer, type MemberDeps } from './member.shared.js';

/**
 * Members sent before their household, their individual or a relative: stored waiting, linked
 * when the parent arrives (on its event, on its own create, or when a search or the sync status
 * finds them still waiting), and reported while they wait.
 */
export function memberLinks({ database, store, clock, outbox, tenants, individual }: MemberDeps) {
  const announce = memberAnnouncer(outbox);

  /** Members linked to a household that just arrived: the household's downsync position moves, and each link is announced. */
  async function membersLinked(tx: Tx, members: readonly MemberRow[]): Promise<void> {
    const first = members[0];
    if (!first) return;
    const now = clock.now();
    const householdIds = members.map((m) => m.household_id).filter((v): v is string => v !== null);
    await store.touchHouseholds(tx, first.tenant_id, householdIds, now);
    for (const member of members) await announce(tx, 'plinth.household.member.linked.v1', member);
  }

  /** Fills a waiting member's individual, unless that individual already belongs to a living member (then says why). */
  async function linkIndividual(tx: Tx, tenantId: string, memberId: string, individualId: string): Promise<void> {
    const db = store.runner(tx);
    // Read again inside the transaction: the subscriber and a re-resolve pass may race for the same member.
    const [row] = await store.membersById(db, tenantId, [memberId]);
    if (!row || row.individual_id !== null || row.is_deleted) return;
    const now = clock.now();
    const others = await store.livingMembersOfIndividual(db, row.tenant_id, individualId, row.id);
    if (others.length > 0) {
      if (row.link_problem !== ALREADY_MEMBER) await store.setIndividual(tx, row, null, ALREADY_MEMBER, now);
      return;
    }
    await store.setIndividual(tx, row, individualId, null, now);
    const linked = { ...row, individual_id: individualId, link_problem: null, last_modified_time: now };
    if (linked.household_id) await store.touchHouseholds(tx, row.tenant_id, [linked.household_id], now);
    await announce(tx, 'plinth.household.member.linked.v1', linked);
  }

  /**
   * Links what can be linked now, whatever the event timing: individuals that have arrived (asked
   * of the individual registry), households and relative members stored meanwhile.
   */
  async function resolveWaiting(tenantId: string, refs: readonly string[] | undefined): Promise<void> {
    const waiting = await store.waitingMembers(store.runner(), tenantId, refs);
    const individualRefs = [
      ...new Set(
        waiting.filter((m) => m.individual_id === null && m.individual_client_reference_id).map((m) => m.individual_client_reference_id!),
      ),
    ];
    const individuals =
      individualRefs.length > 0 ? await individual.idsByClientReferenceId(tenantId, individualRefs) : new Map<string, string>();
    const householdRefs = [...new Set(waiting.filter((m) => m.household_id === null).map((m) => m.household_client_reference_id))];
    const households = await store.householdsByClientRef(store.runner(), tenantId, householdRefs);
    const relationships = await store.waitingRelationships(store.runner(), tenantId);
    if (individuals.size === 0 && households.length === 0 && relationships.length === 0) return;
    await database.transaction(async (tx) => {
      const db = store.runner(tx);
      const now = clock.now();
      for (const household of households) {
        if (household.is_deleted) continue;
        const linked = await store.linkHousehold(tx, tenantId, household.id, household.client_reference_id, now);
        if (linked.length > 0) await membersLinked(tx, linked);
      }
      for (const member of waiting) {
        const found = member.individual_client_reference_id ? individuals.get(member.individual_client_reference_id) : undefined;
        if (found && member.individual_id === null) await linkIndividual(tx, tenantId, member.id, found);
      }
      const relativeRefs = [...new Set(relationships.map((r) => r.relative_client_reference_id!).filter(Boolean))];
      for (const relative of await store.membersByClientRef(db, tenantId, relativeRefs)) {
        const touched = await store.linkRelatives(tx, tenantId, relative.id, relative.client_reference_id, now);
        await store.touchMembers(tx, tenantId, touched, now);
      }
    });
  }

  return {
    membersLinked,
    resolveWaiting,

    /** Children still waiting for a parent, oldest first; links what can be linked before answering. */
    async syncStatus(criteria: SyncStatusCriteria): Promise<{ totalCount: number; links: WaitingLink[] }> {
      await assertKnownTenant(tenants, criteria.tenantId);
      const refs = listFilter(criteria.clientReferenceIds);
      await resolveWaiting(criteria.tenantId, refs);
      const db = store.runner();
      const links: WaitingLink[] = [];
      for (const m of await store.waitingMembers(db, criteria.tenantId, refs)) {
        const base = {
          entity: 'HouseholdMember' as const,
          id: m.id,
          clientReferenceId: m.client_reference_id,
          memberClientReferenceId: null,
          waitingSince: m.created_time,
        };
        if (m.household_id === null)
          links.push({ ...base, link: 'household', parentClientReferenceId: m.household_client_reference_id, problem: null });
        if (m.individual_id === null) {
          links.push({
            ...base,
            link: 'individual',
            parentClientReferenceId: m.individual_client_reference_id ?? '',
            problem: m.link_problem,
          });
        }
      }
      const wanted = refs ? new Set(refs) : undefined;
      for (const r of await store.waitingRelationships(db, criteria.tenantId)) {
        const names = [r.client_reference_id, r.member_client_reference_id, r.relative_client_reference_id];
        if (wanted && !names.some((n) => n !== null && wanted.has(n))) continue;
        links.push({
          entity: 'Relationship',
          id: r.id,
          clientReferenceId: r.client_reference_id,
          memberClientReferenceId: r.member_client_reference_id,
          link: 'relative',
          parentClientReferenceId: r.relative_client_reference_id ?? '',
          waitingSince: r.created_time,
          problem: null,
        });
      }
      links.sort((a, b) => a.waitingSince - b.waitingSince || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) || a.link.localeCompare(b.link));
      const offset = criteria.offset ?? 0;
      const limit = criteria.limit ?? 100;
      return { totalCount: links.length, links: links.slice(offset, offset + limit) };
    },

    /** Subscriber to the individual registry: an individual arrived, so members waiting for it are linked (idempotent). */
    async onIndividualCreated(event: CloudEvent): Promise<void> {
      const data = (event.data ?? {}) as { id?: unknown; clientReferenceId?: unknown; tenantId?: unknown };
      const tenantId = typeof data.tenantId === 'string' ? data.tenantId : event.tenantid;
      if (typeof data.id !== 'string' || typeof data.clientReferenceId !== 'string') return;
      const individualId = data.id;
      const waiting = (
        await store.findMembers(store.runner(), { tenantId, individualClientReferenceIds: [data.clientReferenceId], includeDeleted: false })
      ).filter((m) => m.individual_id === null);
      if (waiting.length === 0) return;
      await database.transaction(async (tx) => {
        for (const member of waiting) await linkIndividual(tx, tenantId, member.id, individualId);
      });
    },
  };
}

export type MemberLinks = ReturnType<typeof memberLinks>;
