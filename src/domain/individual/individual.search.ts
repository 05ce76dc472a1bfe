import type { UserInfo } from '../../kernel/auth.js';
import type { Scope } from '../../kernel/scope.js';
import { assertKnownTenant, stateTenantOf } from '../../kernel/tenancy.js';
import { normalizeIdentifier, normalizeMobile, normalizeName, PURPOSE } from './individual.rows.js';
import type { IndividualOut, IndividualSearch } from './individual.schema.js';
import type { SearchQuery } from './individual.store.js';
import { nonEmpty, type Caller, type IndividualServiceDeps, type SearchParams } from './individual.types.js';
import type { IndividualViewer } from './individual.viewer.js';

/** Reading people: DIGIT's _search (exact matches through blind indexes), and the lookups other registries make. */
export function individualSearch(
  { database, store, mdms, encryption }: Pick<IndividualServiceDeps, 'database' | 'store' | 'mdms' | 'encryption'>,
  views: IndividualViewer,
) {
  /** DIGIT's _search, ordered by change (commit order), then id; each person decrypted for the caller is audited. */
  async function search(
    criteria: IndividualSearch | null | undefined,
    params: SearchParams,
    caller: Caller,
    scope: Scope,
  ): Promise<{ total: number; records: IndividualOut[] }> {
    await assertKnownTenant(mdms.tenants, params.tenantId);
    const c = criteria ?? {};
    const needsKeys = Boolean(c.name || c.individualName || c.mobileNumber?.length || c.identifier);
    const keys = needsKeys ? await encryption.forTenant(stateTenantOf(params.tenantId)) : undefined;
    const hash = (purpose: string, value: string) => keys!.blindIndex(purpose, value);
    const nameHash = (value: string | null | undefined) => (nonEmpty(value) ? hash(PURPOSE.name, normalizeName(value)) : undefined);
    const query: SearchQuery = {
      scope,
      tenantId: params.tenantId,
      ids: c.id ?? undefined,
      clientReferenceIds: c.clientReferenceId ?? undefined,
      individualIds: c.individualId ?? undefined,
      givenNameBidx: nameHash(c.name?.givenName),
      familyNameBidx: nameHash(c.name?.familyName),
      anyNameBidx: nameHash(c.individualName),
      mobileBidxs: c.mobileNumber?.map((m) => hash(PURPOSE.mobile, normalizeMobile(m))),
      identifierBidx: c.identifier
        ? hash(PURPOSE.identifier, normalizeIdentifier(c.identifier.identifierType, c.identifier.identifierId))
        : undefined,
      gender: c.gender ?? undefined,
      localityCode: c.boundaryCode ?? undefined,
      wardCode: c.wardCode ?? undefined,
      userIds: c.userId ?? undefined,
      userUuids: c.userUuid ?? undefined,
      createdFrom: c.createdFrom ?? undefined,
      createdTo: c.createdTo ?? undefined,
      lastChangedSince: params.lastChangedSince,
      includeDeleted: params.includeDeleted ?? false,
      offset: params.offset ?? 0,
      limit: params.limit ?? 100,
    };
    const { rows, total } = await store.search(store.runner(), query);
    return { total, records: await views.viewAudited(rows, caller, 'search') };
  }

  /** What other registries may ask (households link members to people; a downsync hands them to a device). */
  const lookup = {
    async idsByClientReferenceId(tenantId: string, clientReferenceIds: readonly string[]): Promise<Map<string, string>> {
      if (clientReferenceIds.length === 0) return new Map();
      const rows = await store.idsByClientReferenceIds(store.runner(), tenantId, [...new Set(clientReferenceIds)]);
      return new Map(rows.map((r) => [r.client_reference_id!, r.id]));
    },
    async existingIds(tenantId: string, ids: readonly string[]): Promise<Set<string>> {
      if (ids.length === 0) return new Set();
      return new Set(await store.existingIds(store.runner(), tenantId, [...new Set(ids)]));
    },
    async view(tenantId: string, ids: readonly string[], viewer: UserInfo, options?: { includeDeleted?: boolean }): Promise<unknown[]> {
      if (ids.length === 0) return [];
      const rows = (await store.byIds(store.runner(), [...new Set(ids)], tenantId)).filter(
        (r) => options?.includeDeleted || !database.fromBool(r.is_deleted),
      );
      const order = new Map(ids.map((id, i) => [id, i]));
      rows.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
      return views.viewAudited(rows, { user: viewer }, 'view');
    },
  };

  return { search, lookup };
}
