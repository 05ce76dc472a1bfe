import { createReadCache } from '../../kernel/cache.js';
import type { ChangeFeed } from '../../kernel/changes.js';
import type { Clock } from '../../kernel/clock.js';
import type { Database, Tx } from '../../kernel/db.js';
import type { Outbox } from '../../kernel/events.js';
import { assertKnownTenant, type TenantDirectory } from '../../kernel/tenancy.js';
import {
  createBoundariesInTx,
  searchBoundaries,
  updateBoundariesInTx,
  type BoundarySearchCriteria,
  type Cached,
} from './boundary.entities.js';
import { createHierarchyInTx, searchHierarchies, type HierarchySearchCriteria } from './boundary.hierarchies.js';
import { createRelationshipInTx, updateRelationshipInTx } from './boundary.relationships.js';
import { CHANGE_TOPIC, gather, type Actor, type WriteDeps } from './boundary.rules.js';
import type {
  Boundary,
  BoundaryHierarchy,
  BoundaryHierarchyInput,
  BoundaryInput,
  BoundaryRelation,
  BoundaryRelationInput,
  TenantBoundary,
} from './boundary.schema.js';
import type { BoundaryStore } from './boundary.store.js';
import {
  findNode,
  loadTree,
  searchRelationships,
  type BoundaryNode,
  type RelationshipSearchCriteria,
  type TreeIndex,
} from './boundary.treeindex.js';

export type { Actor } from './boundary.rules.js';
export type { BoundarySearchCriteria } from './boundary.entities.js';
export type { HierarchySearchCriteria } from './boundary.hierarchies.js';
export type { BoundaryNode, RelationshipSearchCriteria } from './boundary.treeindex.js';

export type BoundaryServiceDeps = {
  database: Database;
  store: BoundaryStore;
  clock: Clock;
  outbox: Outbox;
  changes: ChangeFeed;
  tenants: TenantDirectory;
};

/**
 * DIGIT's boundary-service v2, put together from its operations (boundary.entities.ts,
 * boundary.hierarchies.ts, boundary.relationships.ts, boundary.treeindex.ts): this file holds what they
 * share (the read caches, the tenant check) and opens the transactions of the writes.
 */
export function createBoundaryService({ database, store, clock, outbox, changes, tenants }: BoundaryServiceDeps) {
  // Search answers by criteria, sized by the records they hold; trees per hierarchy, sized by nodes.
  const answers = createReadCache<{ value: object; size: number }>(changes, CHANGE_TOPIC, { maxSize: 50_000, size: (entry) => entry.size });
  const trees = createReadCache<TreeIndex>(changes, CHANGE_TOPIC, { maxSize: 200_000, size: (tree) => tree.nodes.length + 1 });
  const writes: WriteDeps = { store, clock, outbox, changes };

  const cached: Cached = async <T extends object>(key: string, size: (value: T) => number, load: () => Promise<T>): Promise<T> => {
    const entry = await answers.get(key, async () => {
      const value = await load();
      return { value, size: size(value) };
    });
    return entry.value as T;
  };
  const reads = { store, cached };
  const treeOf = (tenantId: string, hierarchyType: string) =>
    trees.get(`${tenantId}\u0000${hierarchyType}`, () => loadTree(store, tenantId, hierarchyType));

  /**
   * Before a transaction, never inside one: the tenant list is read outside it, and SQLite's one
   * connection would wait for the open transaction forever.
   */
  async function checkTenants(tenantIds: readonly string[]): Promise<void> {
    await gather([...new Set(tenantIds)].map((tenantId) => () => assertKnownTenant(tenants, tenantId)));
  }

  return {
    async createBoundaries(inputs: readonly BoundaryInput[], actor: Actor): Promise<Boundary[]> {
      await checkTenants(inputs.map((i) => i.tenantId));
      return database.transaction((tx) => createBoundariesInTx(writes, tx, inputs, actor));
    },

    async updateBoundaries(inputs: readonly BoundaryInput[], actor: Actor): Promise<Boundary[]> {
      await checkTenants(inputs.map((i) => i.tenantId));
      return database.transaction((tx) => updateBoundariesInTx(writes, tx, inputs, actor));
    },

    async searchBoundaries(criteria: BoundarySearchCriteria): Promise<Boundary[]> {
      await assertKnownTenant(tenants, criteria.tenantId);
      return searchBoundaries(reads, criteria);
    },

    async createHierarchy(input: BoundaryHierarchyInput, actor: Actor): Promise<BoundaryHierarchy> {
      await checkTenants([input.tenantId]);
      return database.transaction((tx) => createHierarchyInTx(writes, tx, input, actor));
    },

    async searchHierarchies(criteria: HierarchySearchCriteria): Promise<{ totalCount: number; hierarchies: BoundaryHierarchy[] }> {
      await assertKnownTenant(tenants, criteria.tenantId);
      return searchHierarchies(reads, criteria);
    },

    async createRelationship(input: BoundaryRelationInput, actor: Actor): Promise<BoundaryRelation> {
      await checkTenants([input.tenantId]);
      return database.transaction((tx) => createRelationshipInTx(writes, tx, input, actor));
    },

    async updateRelationship(input: BoundaryRelationInput, actor: Actor): Promise<BoundaryRelation> {
      await checkTenants([input.tenantId]);
      return database.transaction((tx) => updateRelationshipInTx(writes, tx, input, actor));
    },

    async searchRelationships(criteria: RelationshipSearchCriteria): Promise<TenantBoundary> {
      await assertKnownTenant(tenants, criteria.tenantId);
      return searchRelationships(treeOf, criteria);
    },

    findNode(tenantId: string, hierarchyType: string, code: string): Promise<BoundaryNode | undefined> {
      return findNode(treeOf, tenantId, hierarchyType, code);
    },

    checkTenants,

    /** For the seed loader: several writes in the caller's transaction (tenants checked before it). */
    inTransaction: {
      createBoundariesInTx: (tx: Tx, inputs: readonly BoundaryInput[], actor: Actor) => createBoundariesInTx(writes, tx, inputs, actor),
      updateBoundariesInTx: (tx: Tx, inputs: readonly BoundaryInput[], actor: Actor) => updateBoundariesInTx(writes, tx, inputs, actor),
      createHierarchyInTx: (tx: Tx, input: BoundaryHierarchyInput, actor: Actor) => createHierarchyInTx(writes, tx, input, actor),
      createRelationshipInTx: (tx: Tx, input: BoundaryRelationInput, actor: Actor) => createRelationshipInTx(writes, tx, input, actor),
      updateRelationshipInTx: (tx: Tx, input: BoundaryRelationInput, actor: Actor) => updateRelationshipInTx(writes, tx, input, actor),
      findEntity: async (tx: Tx, tenantId: string, code: string) => (await store.findEntities(store.runner(tx), tenantId, [code]))[0],
      findHierarchy: (tx: Tx, tenantId: string, hierarchyType: string) => store.findHierarchy(store.runner(tx), tenantId, hierarchyType),
      findRelationship: (tx: Tx, tenantId: string, hierarchyType: string, code: string) =>
        store.findRelationship(store.runner(tx), tenantId, hierarchyType, code),
    },

    close(): void {
      answers.close();
      trees.close();
    },
  };
}

export type BoundaryService = ReturnType<typeof createBoundaryService>;
