import { createReadCache } from '../../kernel/cache.js';
import type { ChangeFeed } from '../../kernel/changes.js';
import type { Clock } from '../../kernel/clock.js';
import type { Database, Tx } from '../../kernel/db.js';
import type { Outbox } from '../../kernel/events.js';
import { inScope, type Scope } from '../../kernel/scope.js';
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
import { CHANGE_TOPIC, gather, readableFrom, type Actor, type WriteDeps } from './boundary.rules.js';
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
export { readableFrom } from './boundary.rules.js';
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
  // A hierarchy is one tenant's rows: cached once, as anyone may read them (readableFrom). A
  // caller whose scope does not cover the tenant reads through that scope instead, finding nothing.
  const treeOf = (tenantId: string, hierarchyType: string, scope: Scope) =>
    inScope(scope, tenantId)
      ? trees.get(`${tenantId}\u0000${hierarchyType}`, () => loadTree(store, tenantId, hierarchyType, readableFrom(tenantId)))
      : loadTree(store, tenantId, hierarchyType, scope);

  /**
   * Before a transaction, never inside one: the tenant list is read outside it, and SQLite's one
   * connection would wait for the open transaction forever.
   */
  async function checkTenants(tenantIds: readonly string[]): Promise<void> {
    await gather([...new Set(tenantIds)].map((tenantId) => () => assertKnownTenant(tenants, tenantId)));
  }

  // Writes take the caller's scope (request.scope; SYSTEM_SCOPE for the platform's own work);
  // searches the scope of what they may read (readableFrom(tenantId) for any caller of the API).
  return {
    async createBoundaries(inputs: readonly BoundaryInput[], actor: Actor, scope: Scope): Promise<Boundary[]> {
      await checkTenants(inputs.map((i) => i.tenantId));
      return database.transaction((tx) => createBoundariesInTx(writes, tx, inputs, actor, scope));
    },

    async updateBoundaries(inputs: readonly BoundaryInput[], actor: Actor, scope: Scope): Promise<Boundary[]> {
      await checkTenants(inputs.map((i) => i.tenantId));
      return database.transaction((tx) => updateBoundariesInTx(writes, tx, inputs, actor, scope));
    },

    async searchBoundaries(criteria: BoundarySearchCriteria, scope: Scope): Promise<Boundary[]> {
      await assertKnownTenant(tenants, criteria.tenantId);
      return searchBoundaries(reads, criteria, scope);
    },

    async createHierarchy(input: BoundaryHierarchyInput, actor: Actor, scope: Scope): Promise<BoundaryHierarchy> {
      await checkTenants([input.tenantId]);
      return database.transaction((tx) => createHierarchyInTx(writes, tx, input, actor, scope));
    },

    async searchHierarchies(
      criteria: HierarchySearchCriteria,
      scope: Scope,
    ): Promise<{ totalCount: number; hierarchies: BoundaryHierarchy[] }> {
      await assertKnownTenant(tenants, criteria.tenantId);
      return searchHierarchies(reads, criteria, scope);
    },

    async createRelationship(input: BoundaryRelationInput, actor: Actor, scope: Scope): Promise<BoundaryRelation> {
      await checkTenants([input.tenantId]);
      return database.transaction((tx) => createRelationshipInTx(writes, tx, input, actor, scope));
    },

    async updateRelationship(input: BoundaryRelationInput, actor: Actor, scope: Scope): Promise<BoundaryRelation> {
      await checkTenants([input.tenantId]);
      return database.transaction((tx) => updateRelationshipInTx(writes, tx, input, actor, scope));
    },

    async searchRelationships(criteria: RelationshipSearchCriteria, scope: Scope): Promise<TenantBoundary> {
      await assertKnownTenant(tenants, criteria.tenantId);
      return searchRelationships(treeOf, criteria, scope);
    },

    findNode(tenantId: string, hierarchyType: string, code: string, scope: Scope): Promise<BoundaryNode | undefined> {
      return findNode(treeOf, tenantId, hierarchyType, code, scope);
    },

    checkTenants,

    /** For the seed loader: several writes in the caller's transaction (tenants checked before it). */
    inTransaction: {
      createBoundariesInTx: (tx: Tx, inputs: readonly BoundaryInput[], actor: Actor, scope: Scope) =>
        createBoundariesInTx(writes, tx, inputs, actor, scope),
      updateBoundariesInTx: (tx: Tx, inputs: readonly BoundaryInput[], actor: Actor, scope: Scope) =>
        updateBoundariesInTx(writes, tx, inputs, actor, scope),
      createHierarchyInTx: (tx: Tx, input: BoundaryHierarchyInput, actor: Actor, scope: Scope) =>
        createHierarchyInTx(writes, tx, input, actor, scope),
      createRelationshipInTx: (tx: Tx, input: BoundaryRelationInput, actor: Actor, scope: Scope) =>
        createRelationshipInTx(writes, tx, input, actor, scope),
      updateRelationshipInTx: (tx: Tx, input: BoundaryRelationInput, actor: Actor, scope: Scope) =>
        updateRelationshipInTx(writes, tx, input, actor, scope),
      findEntity: async (tx: Tx, tenantId: string, code: string, scope: Scope) =>
        (await store.findEntities(store.runner(tx), tenantId, [code], scope))[0],
      findHierarchy: (tx: Tx, tenantId: string, hierarchyType: string, scope: Scope) =>
        store.findHierarchy(store.runner(tx), tenantId, hierarchyType, scope),
      findRelationship: (tx: Tx, tenantId: string, hierarchyType: string, code: string, scope: Scope) =>
        store.findRelationship(store.runner(tx), tenantId, hierarchyType, code, scope),
    },

    close(): void {
      answers.close();
      trees.close();
    },
  };
}

export type BoundaryService = ReturnType<typeof createBoundaryService>;
